//! Discuz authentication: the `token` parameter is a member session token (the same token the
//! native API takes as Bearer). The adapter only reads it; [`Core::authenticate`] decides.

use sixin_core::{Caller, Core, Error};

use super::error::DiscuzError;
use super::request::Params;

/// The member behind the request's `token`. Missing, unknown, expired or revoked tokens are
/// code 401; banned members code 403.
pub(crate) async fn member(core: &Core, params: &Params) -> Result<Caller, DiscuzError> {
    let token = params.get("token").ok_or(Error::Unauthenticated)?;
    let caller = core.authenticate(token).await?;
    let span = tracing::Span::current();
    span.record("app.id", caller.app_id().0);
    span.record("member.id", caller.member_id().0);
    Ok(caller)
}
