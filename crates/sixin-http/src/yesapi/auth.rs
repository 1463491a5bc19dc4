//! YesApi credentials: `app_key` names the app, `sign` proves the app secret (enforced when the
//! app requires signatures), `uuid` + `token` name the logged-in member. The core decides
//! whether each is valid; this module only pulls them out of the parameters.

use sixin_core::ids::AppSecret;
use sixin_core::model::App;
use sixin_core::service::Signing;
use sixin_core::{Caller, Core};

use super::error::YesApiError;
use crate::common::envelope::Failure;
use crate::common::params::Params;
use crate::common::sign;

/// The app named by `app_key`: `ret 400` when missing, `ret 407` when malformed or unknown.
pub(super) async fn app(core: &Core, p: &Params) -> Result<App, YesApiError> {
    Ok(core.app_by_key(p.required("app_key")?).await?)
}

/// `ret 406` when the app requires signatures (the core decides) and `sign` is missing or
/// wrong; otherwise the secret `_auth` is made with (the one `sign` was made with).
pub(super) fn signature<'a>(
    core: &Core,
    app: &'a App,
    p: &Params,
) -> Result<&'a AppSecret, YesApiError> {
    Ok(sign::check(core, app, Signing::WhenRequired, p)?)
}

/// The member behind `uuid` + `token`: `ret 408` when either is missing or the member is
/// banned, `ret 406` when the token is not a live session of that member of this app.
pub(super) async fn member(core: &Core, app: &App, p: &Params) -> Result<Caller, YesApiError> {
    let (Some(uuid), Some(token)) = (p.get("uuid"), p.get("token")) else {
        return Err(Failure::not_logged_in().into());
    };
    Ok(core.authenticate_member(app, uuid, token).await?)
}
