//! Apps: the tenants.

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
}
