//! Server API tokens for tests: [`mint`] signs claims with `jsonwebtoken`, [`mint_by_hand`]
//! builds the same token from base64url + HMAC-SHA256 alone (what a backend without a JWT
//! library does), and [`Harness::backend`] authenticates one to get an [`AppCaller`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sixin_core::model::App;
use sixin_core::AppCaller;

use crate::Harness;

/// The claims of a valid token for `app`, issued at `now_secs`, living 60 s, with `jti`.
pub fn claims(app: &App, now_secs: i64, jti: &str) -> Value {
    json!({
        "iss": app.key.as_str(),
        "aud": "sixin-server",
        "iat": now_secs,
        "exp": now_secs + 60,
        "jti": jti,
    })
}

/// `claims` signed HS256 with `secret` by `jsonwebtoken`.
pub fn mint(secret: &str, claims: &Value) -> String {
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// `claims` under `header`, signed HS256 with `secret`, built by hand:
/// `base64url(header) . base64url(claims) . base64url(HMAC-SHA256(secret, first two parts))`.
pub fn mint_by_hand(secret: &str, header: &Value, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

impl Harness {
    /// A fresh, valid server token for `app` at the harness clock's now.
    pub fn server_token(&self, app: &App) -> String {
        let now = self.core.now().unix_seconds();
        let jti = format!("t-{}", rand::random::<u64>());
        mint(&app.secret.0, &claims(app, now, &jti))
    }

    /// A member of `app` provisioned by its backend under `external_id`, with an issued
    /// session.
    pub async fn provisioned(&self, app: &App, external_id: &str, username: &str) -> crate::Person {
        let backend = self.backend(app).await;
        let (member, _) = self
            .core
            .upsert_member(&backend, external_id, Some(username), None)
            .await
            .expect("provision");
        let login = self
            .core
            .issue_session(&backend, external_id, None)
            .await
            .expect("issue a session");
        let caller = self
            .core
            .authenticate(&login.token)
            .await
            .expect("authenticate");
        crate::Person {
            member,
            caller,
            token: login.token,
        }
    }

    /// Mutes `external_id` of `app` for good, through the backend.
    pub async fn mute(&self, app: &App, external_id: &str) {
        let backend = self.backend(app).await;
        self.core
            .mute_member(&backend, external_id, Some(None))
            .await
            .expect("mute");
    }

    /// `app`'s backend, authenticated with a fresh token.
    pub async fn backend(&self, app: &App) -> AppCaller {
        self.core
            .authenticate_server(Some(&self.server_token(app)))
            .await
            .expect("a fresh server token authenticates")
    }
}
