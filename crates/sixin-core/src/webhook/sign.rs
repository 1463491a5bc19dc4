//! Signing as the Standard Webhooks specification (<https://www.standardwebhooks.com/>)
//! describes: every request carries
//! - `webhook-id`: `msg_<outbox id>`, the same on every try and replay of one event, for the
//!   receiver to drop duplicates by;
//! - `webhook-timestamp`: the try's time in Unix seconds;
//! - `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the
//!   key being the base64-decoded part of the endpoint secret after `whsec_`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::ids::OutboxId;

use super::WebhookSecret;

/// The prefix of every endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// A fresh secret: 32 bytes from the OS-seeded thread RNG (the specification asks for 24
    /// to 64).
    pub fn generate() -> WebhookSecret {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        WebhookSecret(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
    }

    /// The HMAC key: the base64 after `whsec_` (or the whole text without the prefix), or, if
    /// that is not base64, the text's own bytes.
    fn key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix(SECRET_PREFIX).unwrap_or(&self.0);
        STANDARD
            .decode(encoded)
            .unwrap_or_else(|_| encoded.as_bytes().to_vec())
    }
}

/// The `webhook-id` of an event: stable across tries and replays.
pub fn webhook_id(outbox: OutboxId) -> String {
    format!("msg_{}", outbox.0)
}

/// The `webhook-signature` header value for `body` sent as `id` at `timestamp` (Unix seconds).
pub fn signature(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the specification's reference libraries.
    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let secret = WebhookSecret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into());
        let sig = signature(
            &secret,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn secrets_are_fresh_32_byte_whsec_keys() {
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert_ne!(a, b);
        assert!(a.0.starts_with(SECRET_PREFIX));
        assert_eq!(a.key().len(), 32);
        assert_eq!(webhook_id(OutboxId(42)), "msg_42");
    }
}
