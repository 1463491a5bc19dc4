//! Apps: the tenants, and how a request proves it comes from one: the app's signing policy
//! (`require_sign`) and its access tokens. Dialects extract the proof and build their own
//! canonical strings; whether a proof is needed, and whether it holds, is decided here. A
//! rotated secret stays accepted for its grace period ([`Core::rotate_secret`]).

use std::time::Duration;

use serde_json::Value;

use crate::auth;
use crate::caller::AppCaller;
use crate::config::MAX_SECRET_GRACE;
use crate::error::{Error, Result};
use crate::ids::{AppKey, AppSecret};
use crate::model::App;
use crate::store::NewApp;
use crate::{validate, Core};

impl Core {
    /// Creates an app with a fresh key and secret. The returned [`App`] is the only place the
    /// secret is ever handed out.
    pub async fn create_app(&self, name: &str, require_sign: bool) -> Result<App> {
        validate::subject("name", name)?;
        let new = NewApp {
            key: AppKey::generate(),
            secret: AppSecret::generate(),
            name: name.trim().to_owned(),
            require_sign,
            created_at: self.now(),
        };
        Ok(self.store().create_app(new).await?)
    }

    /// Every app, oldest first.
    pub async fn apps(&self) -> Result<Vec<App>> {
        Ok(self.store().apps().await?)
    }

    /// The app with this key; [`Error::UnknownApp`] for unknown or malformed keys.
    pub async fn app_by_key(&self, key: &str) -> Result<App> {
        let key = AppKey::parse(key).ok_or(Error::UnknownApp)?;
        self.store()
            .app_by_key(&key)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Turns signature enforcement on or off for an app.
    pub async fn set_require_sign(&self, key: &str, on: bool) -> Result<App> {
        let key = AppKey::parse(key).ok_or(Error::UnknownApp)?;
        self.store()
            .set_require_sign(&key, on)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Sets (`Some`: a JSON object of some [`Limits`](crate::limits::Limits) keys) or clears
    /// (`None`) the app's own rate limits, which override the configuration's key by key.
    /// [`Error::Invalid`] (`limits`) for an override that does not apply: not an object, an
    /// unknown key, a wrong type, or a value [`Limits::validate`](crate::limits::Limits::validate)
    /// refuses. The operator's call (`sixin app set-limits`): the server API has none, since an
    /// app must not raise its own limits.
    pub async fn set_limits(&self, caller: &AppCaller, over: Option<Value>) -> Result<App> {
        if let Some(over) = &over {
            let applied = self.config().limits.with(over);
            applied.map_err(|e| Error::invalid("limits", e.to_string()))?;
        }
        self.store()
            .set_limits(caller.app_id(), over)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// The secrets `app` accepts now: the current one, then the previous one while its grace
    /// period after a rotation lasts ([`auth::secrets_at`]).
    pub fn accepted_secrets<'a>(&self, app: &'a App) -> impl Iterator<Item = &'a AppSecret> {
        auth::secrets_at(app, self.now())
    }

    /// Replaces the app's secret with a fresh one, shown only in the returned [`App`]. The old
    /// secret stays accepted for `grace` (by default `secret_grace`; zero: not at all), up to
    /// [`MAX_SECRET_GRACE`]; a secret rotated out earlier is forgotten at once.
    pub async fn rotate_secret(&self, caller: &AppCaller, grace: Option<Duration>) -> Result<App> {
        let grace = grace.unwrap_or(self.config().secret_grace);
        if grace > MAX_SECRET_GRACE {
            return Err(Error::invalid("grace_secs", "must be 0..2592000 (30 days)"));
        }
        let until = self.now().plus(grace);
        self.store()
            .rotate_secret(caller.app_id(), AppSecret::generate(), until)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Enforces the app's signing policy: when `when` asks for it, `given` must equal the
    /// signature `expected` computes from a secret the app accepts now (compared in constant
    /// time); [`Error::BadSignature`] otherwise. Returns the secret the response is signed with
    /// (YesApi `_auth`): the one `given` was made with, so a client still on its previous secret
    /// during the grace period can check its answers; the current one when `given` matches none
    /// and none was needed.
    pub fn check_signature<'a>(
        &self,
        app: &'a App,
        when: Signing,
        given: Option<&str>,
        expected: impl Fn(&str) -> String,
    ) -> Result<&'a AppSecret> {
        let needed = match when {
            Signing::Always => true,
            Signing::WhenRequired => app.require_sign,
        };
        let matched = given.and_then(|given| {
            self.accepted_secrets(app)
                .find(|secret| auth::constant_time_eq(given, &expected(&secret.0)))
        });
        match matched {
            Some(secret) => Ok(secret),
            None if !needed => Ok(&app.secret),
            None => Err(Error::BadSignature),
        }
    }

    /// A new access token for `app` and how long it lives (`access_token_ttl`).
    pub fn issue_access_token(&self, app: &App) -> (String, Duration) {
        let ttl = self.config().access_token_ttl;
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let expiry = self.now().unix_seconds().saturating_add(ttl_secs);
        (auth::access_token(app, expiry), ttl)
    }

    /// When the app requires signatures, `token` must be a live access token of this app, made
    /// with a secret it accepts now ([`Error::BadAccessToken`] otherwise); other apps need none.
    pub fn check_access_token(&self, app: &App, token: Option<&str>) -> Result<()> {
        if !app.require_sign {
            return Ok(());
        }
        let now = self.now();
        match token {
            Some(t) if auth::access_token_valid(app, t, now) => Ok(()),
            _ => Err(Error::BadAccessToken),
        }
    }
}

/// When a request must carry the app's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Only when the app requires signed requests.
    WhenRequired,
    /// Always (for example to obtain an access token).
    Always,
}
