//! PhalApi credentials. The app is named by `app_key` and the sender by `uuid` + `token`, as in
//! YesApi. When the app requires signatures, `Platform.*` calls also need an `access_token`
//! from `App.Auth.ApplyToken`, which itself is called with a YesApi-style `sign`, so the app
//! secret never travels.
//!
//! Access tokens are stateless: `{expiry}.{hmac}`, where `expiry` is a Unix time and `hmac` is
//! lower-case hex HMAC-SHA256, keyed by the app secret, of `{app_key}.{expiry}`. A token works
//! only for the app that applied for it, until it expires; changing the secret revokes them all.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sixin_core::auth::constant_time_eq;
use sixin_core::ids::Timestamp;
use sixin_core::model::App;
use sixin_core::{Caller, Core, Error};

use super::error::PhalApiError;
use crate::common::envelope::Failure;
use crate::common::params::Params;
use crate::common::sign;

/// How long an access token is valid, in seconds (2 hours).
pub(super) const TOKEN_TTL_SECS: i64 = 7200;

/// The app named by `app_key`: `ret 400` when missing, `ret 407` when malformed or unknown.
pub(super) async fn app(core: &Core, p: &Params) -> Result<App, PhalApiError> {
    Ok(core.app_by_key(p.required("app_key")?).await?)
}

/// `App.Auth.ApplyToken`'s check: `sign` must be valid whatever the app's setting (`ret 406`).
pub(super) fn signature(app: &App, p: &Params) -> Result<(), PhalApiError> {
    if !sign::verify(p, &app.secret.0) {
        return Err(Error::BadSignature.into());
    }
    Ok(())
}

/// A new access token for `app`, valid until `now` + [`TOKEN_TTL_SECS`].
pub(super) fn issue(app: &App, now: Timestamp) -> String {
    let expiry = now.unix_seconds() + TOKEN_TTL_SECS;
    format!("{expiry}.{}", tag(app, expiry))
}

/// When the app requires signatures: `access_token` must be a live token of this app, else
/// `ret 406`. Apps that do not require signatures ignore it.
pub(super) fn access_token(app: &App, p: &Params, now: Timestamp) -> Result<(), PhalApiError> {
    if !app.require_sign {
        return Ok(());
    }
    let valid = p
        .get("access_token")
        .and_then(|t| t.split_once('.'))
        .and_then(|(expiry, given)| Some((expiry.parse::<i64>().ok()?, given)))
        .is_some_and(|(expiry, given)| {
            expiry > now.unix_seconds() && constant_time_eq(given, &tag(app, expiry))
        });
    if valid {
        Ok(())
    } else {
        Err(Failure::new(
            crate::common::envelope::CHECK_FAILED,
            "access_token is missing, invalid or expired",
        )
        .into())
    }
}

fn tag(app: &App, expiry: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app.secret.0.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(format!("{}.{expiry}", app.key.as_str()).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The member behind `uuid` + `token`: `ret 408` when either is missing or the member is
/// banned, `ret 406` when the token is not a live session of that member of this app.
pub(super) async fn member(core: &Core, app: &App, p: &Params) -> Result<Caller, PhalApiError> {
    let (Some(uuid), Some(token)) = (p.get("uuid"), p.get("token")) else {
        return Err(Failure::not_logged_in().into());
    };
    Ok(core.authenticate_member(app, uuid, token).await?)
}
