//! Apps: the tenants, and how a request proves it comes from one: the app's signing policy
//! (`require_sign`) and its access tokens. Dialects extract the proof and build their own
//! canonical strings; whether a proof is needed, and whether it holds, is decided here.

use std::time::Duration;

use crate::auth;
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

    /// Enforces the app's signing policy: when `when` asks for it, `given` must equal the
    /// signature `expected` computes from the app secret (compared in constant time).
    /// [`Error::BadSignature`] otherwise.
    pub fn check_signature(
        &self,
        app: &App,
        when: Signing,
        given: Option<&str>,
        expected: impl FnOnce(&str) -> String,
    ) -> Result<()> {
        let needed = match when {
            Signing::Always => true,
            Signing::WhenRequired => app.require_sign,
        };
        if !needed {
            return Ok(());
        }
        match given {
            Some(given) if auth::constant_time_eq(given, &expected(&app.secret.0)) => Ok(()),
            _ => Err(Error::BadSignature),
        }
    }

    /// A new access token for `app` and how long it lives (`access_token_ttl`).
    pub fn issue_access_token(&self, app: &App) -> (String, Duration) {
        let ttl = self.config().access_token_ttl;
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let expiry = self.now().unix_seconds().saturating_add(ttl_secs);
        (auth::access_token(app, expiry), ttl)
    }

    /// When the app requires signatures, `token` must be a live access token of this app
    /// ([`Error::BadAccessToken`] otherwise); other apps need none.
    pub fn check_access_token(&self, app: &App, token: Option<&str>) -> Result<()> {
        if !app.require_sign {
            return Ok(());
        }
        let now = self.now().unix_seconds();
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
