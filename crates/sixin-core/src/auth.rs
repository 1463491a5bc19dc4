//! Secrets: argon2 password hashes, random session tokens stored only as SHA-256 hashes,
//! stateless app access tokens (HMAC-SHA256 with the app secret), and a constant-time
//! comparison for signatures (the dialects build their canonical strings).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::CoreConfig;
use crate::error::{Error, Result};
use crate::ids::{AppSecret, Timestamp, TokenHash};
use crate::model::App;

fn hasher(cfg: &CoreConfig) -> Result<Argon2<'static>> {
    let params = Params::new(cfg.argon2_memory_kib, cfg.argon2_iterations, 1, None)
        .map_err(|e| Error::Internal(e.to_string().into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(cfg: &CoreConfig, password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(cfg)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(e.to_string().into()))
}

/// Whether `password` matches the stored PHC hash (parameters are read from the hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new session token: 32 random bytes, lower-case hex (64 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> TokenHash {
    TokenHash(hex::encode(Sha256::digest(token.as_bytes())))
}

/// The secrets `app` accepts at `now`: its current one, then the one it replaced while that
/// one's grace period lasts (`now` before its `until`). Every proof of the app secret — a
/// YesApi/PhalApi `sign`, an access token, a server API JWT — is checked against these.
pub fn secrets_at(app: &App, now: Timestamp) -> impl Iterator<Item = &AppSecret> {
    let previous = app
        .previous_secret
        .as_ref()
        .filter(|p| now < p.until)
        .map(|p| &p.secret);
    std::iter::once(&app.secret).chain(previous)
}

/// A stateless access token for `app`, valid until `expiry` (Unix seconds): `{expiry}.{tag}`,
/// where `tag` is lower-case hex HMAC-SHA256, keyed by the app secret, of `{app_key}.{expiry}`.
/// It works only for the app it was issued to; rotating the secret revokes every token once
/// the old secret's grace period ends.
pub fn access_token(app: &App, expiry: i64) -> String {
    format!("{expiry}.{}", access_tag(app, &app.secret, expiry))
}

/// Whether `token` is an access token of `app` that is still valid at `now`: unexpired, and
/// tagged with a secret the app accepts at `now` ([`secrets_at`]).
pub fn access_token_valid(app: &App, token: &str, now: Timestamp) -> bool {
    token
        .split_once('.')
        .and_then(|(expiry, given)| Some((expiry.parse::<i64>().ok()?, given)))
        .is_some_and(|(expiry, given)| {
            expiry > now.unix_seconds()
                && secrets_at(app, now)
                    .any(|secret| constant_time_eq(given, &access_tag(app, secret, expiry)))
        })
}

fn access_tag(app: &App, secret: &AppSecret, expiry: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.0.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(format!("{}.{expiry}", app.key.as_str()).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The header's `alg` and the claims of a JWT, unverified: enough to find the app whose secret
/// verifies it. `None` unless it is three base64url parts with JSON in the first two.
pub(crate) fn jwt_peek<C: serde::de::DeserializeOwned>(token: &str) -> Option<(String, C)> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (header, claims, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let alg = header.get("alg")?.as_str()?.to_owned();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
    Some((alg, claims))
}

/// The claims of an HS256 JWT whose signature verifies with one of `secrets` (an app's current
/// secret, then its previous one during a rotation's grace). Time claims are left to the caller,
/// which checks them on the core's clock. The error of the last secret tried otherwise
/// (`InvalidSignature` when none verifies; any other kind stops the search).
pub(crate) fn jwt_verify<'a, C: serde::de::DeserializeOwned>(
    token: &str,
    secrets: impl IntoIterator<Item = &'a crate::ids::AppSecret>,
) -> std::result::Result<C, jsonwebtoken::errors::ErrorKind> {
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    for secret in secrets {
        let key = DecodingKey::from_secret(secret.0.as_bytes());
        match jsonwebtoken::decode::<C>(token, &key, &v) {
            Ok(data) => return Ok(data.claims),
            Err(e) if *e.kind() == ErrorKind::InvalidSignature => {}
            Err(e) => return Err(e.into_kind()),
        }
    }
    Err(ErrorKind::InvalidSignature)
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use crate::ids::{AppId, AppKey, AppSecret, Timestamp};

    fn app(secret: &str) -> App {
        App {
            id: AppId(1),
            key: AppKey::parse("0123456789ABCDEF0123456789ABCDEF").unwrap(),
            secret: AppSecret(secret.to_owned()),
            name: "a".into(),
            require_sign: true,
            registration: crate::model::Registration::Open,
            previous_secret: None,
            member_tokens: crate::model::MemberTokens::Existing,
            dm_policy: crate::model::DmPolicy::Everyone,
            limits: None,
            word_list_version: 0,
            before_send: None,
            created_at: Timestamp(0),
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp(secs * 1000)
    }

    #[test]
    fn access_tokens_live_until_expiry_for_their_app_only() {
        let (a, b) = (app("S1"), app("S2"));
        let token = access_token(&a, 1000);
        assert!(access_token_valid(&a, &token, at(999)));
        assert!(!access_token_valid(&a, &token, at(1000)), "expired");
        assert!(!access_token_valid(&b, &token, at(999)), "another secret");
        let forged = token.replacen("1000.", "2000.", 1);
        assert!(!access_token_valid(&a, &forged, at(999)), "a moved expiry");
        assert!(!access_token_valid(&a, "garbage", at(0)));
    }

    #[test]
    fn the_previous_secret_is_accepted_until_its_deadline_only() {
        let old = app("OLD");
        let token = access_token(&old, 1000);
        let mut rotated = app("NEW");
        rotated.previous_secret = Some(crate::model::PreviousSecret {
            secret: AppSecret("OLD".into()),
            until: at(500),
        });
        let names =
            |now| -> Vec<String> { secrets_at(&rotated, now).map(|s| s.0.clone()).collect() };
        assert_eq!(names(at(499)), ["NEW", "OLD"]);
        assert_eq!(names(at(500)), ["NEW"], "the deadline itself is past");
        assert!(access_token_valid(&rotated, &token, at(499)));
        assert!(!access_token_valid(&rotated, &token, at(500)));
        let fresh = access_token(&rotated, 1000);
        assert!(access_token_valid(&rotated, &fresh, at(999)));
        assert!(!access_token_valid(&old, &fresh, at(999)));
    }

    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let cfg = CoreConfig {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..Default::default()
        };
        let h = hash_password(&cfg, "secret-1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("secret-1", &h));
        assert!(!verify_password("secret-2", &h));
        assert!(!verify_password("secret-1", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a).0, a);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
