//! Identifiers. Every id crossing a module boundary is a newtype, never a bare integer or string.

use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// An app (tenant) row id. Never shown to clients; clients know apps by [`AppKey`].
    AppId
);
int_id!(
    /// A member's integer id, unique across the server; shown as `uid` by the Discuz dialect.
    MemberId
);
int_id!(
    /// A conversation id (Discuz `plid`).
    ConversationId
);
int_id!(
    /// A message id (Discuz `pmid`, YesApi `id`). Within one conversation, ids grow in commit
    /// order on every backend, so paging by id never skips a message.
    MessageId
);
int_id!(
    /// A member's report, numbered across the server.
    ReportId
);

int_id!(
    /// A place in one member's event stream. Each member's positions are 1, 2, 3, … with no gap,
    /// in commit order, so a client that saw position `p` and next sees `p + 2` knows it missed
    /// exactly one event.
    Position
);

int_id!(
    /// A webhook endpoint of an app.
    WebhookId
);
int_id!(
    /// A place in the webhook outbox, shared by every app: each change an app's endpoints may
    /// want is one outbox row. Shown to the app's backend as `webhook-id: msg_<id>`.
    OutboxId
);

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant moved by `d` (saturating).
    pub fn plus(self, d: std::time::Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }

    /// This instant moved back by `d` (saturating).
    pub fn minus(self, d: std::time::Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(ms))
    }
}

/// 32 upper-case hex digits: the shape of app keys and member uuids in the seed documents.
fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

fn random_hex32() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode_upper(bytes)
}

macro_rules! hex32_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses 32 hex digits; lower-case input is accepted and normalised to upper case.
            pub fn parse(s: &str) -> Option<Self> {
                let upper = s.to_ascii_uppercase();
                is_hex32(&upper).then_some(Self(upper))
            }

            /// A fresh random value (128 bits from the OS-seeded thread RNG).
            pub fn generate() -> Self {
                Self(random_hex32())
            }

            /// The 32 upper-case hex digits.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex32_id!(
    /// The public identifier of an app: 32 upper-case hex digits.
    AppKey
);
hex32_id!(
    /// The public identifier of a member: 32 upper-case hex digits, unique server-wide.
    MemberUuid
);

/// An app's signing secret. Only ever shown once, when the app is created.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(pub String);

impl AppSecret {
    /// A fresh random secret: 32 upper-case hex digits.
    pub fn generate() -> Self {
        Self(random_hex32())
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// The SHA-256 of a session token, hex-encoded: the only form in which tokens are stored (and
/// the form a revocation names a session in on the bus).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TokenHash(pub String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex32_ids_are_normalised_and_checked() {
        let k = AppKey::parse("0123456789abcdef0123456789ABCDEF").unwrap();
        assert_eq!(k.as_str(), "0123456789ABCDEF0123456789ABCDEF");
        assert!(AppKey::parse("0123456789ABCDEF0123456789ABCDE").is_none());
        assert!(AppKey::parse("0123456789ABCDEF0123456789ABCDEG").is_none());
        let g = MemberUuid::generate();
        assert!(MemberUuid::parse(g.as_str()).is_some());
        assert_ne!(g, MemberUuid::generate());
    }
}
