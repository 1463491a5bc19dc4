//! PhalApi credentials. The app is named by `app_key` and the sender by `uuid` + `token`, as in
//! YesApi. When the app requires signatures, `Platform.*` calls also need an `access_token`
//! from `App.Auth.ApplyToken`, which itself is called with a YesApi-style `sign`, so the app
//! secret never travels. The tokens and the policy are the core's
//! ([`Core::issue_access_token`], [`Core::check_access_token`]); this module only pulls the
//! credentials out of the parameters.

use sixin_core::model::App;
use sixin_core::service::Signing;
use sixin_core::{Caller, Core};

use super::error::PhalApiError;
use crate::common::envelope::Failure;
use crate::common::params::Params;
use crate::common::sign;

/// The app named by `app_key`: `ret 400` when missing, `ret 407` when malformed or unknown.
pub(super) async fn app(core: &Core, p: &Params) -> Result<App, PhalApiError> {
    Ok(core.app_by_key(p.required("app_key")?).await?)
}

/// `App.Auth.ApplyToken`'s check: `sign` must be valid whatever the app's setting (`ret 406`).
pub(super) fn signature(core: &Core, app: &App, p: &Params) -> Result<(), PhalApiError> {
    sign::check(core, app, Signing::Always, p)?;
    Ok(())
}

/// `ret 406` when the app requires signatures and `access_token` is not a live token of it.
pub(super) fn access_token(core: &Core, app: &App, p: &Params) -> Result<(), PhalApiError> {
    Ok(core.check_access_token(app, p.get("access_token"))?)
}

/// The member behind `uuid` + `token`: `ret 408` when either is missing or the member is
/// banned, `ret 406` when the token is not a live session of that member of this app.
pub(super) async fn member(core: &Core, app: &App, p: &Params) -> Result<Caller, PhalApiError> {
    let (Some(uuid), Some(token)) = (p.get("uuid"), p.get("token")) else {
        return Err(Failure::not_logged_in().into());
    };
    Ok(core.authenticate_member(app, uuid, token).await?)
}
