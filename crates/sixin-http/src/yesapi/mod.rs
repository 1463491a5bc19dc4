//! The YesApi dialect (seeds/000): `App.Market_ChatMessage.*` and the `App.User.*` member
//! endpoints, at `/api/App/{Class}/{Method}` and `/?s=App.{Class}.{Method}` (or `service=`), by
//! any method, parameters in the query string or a form body.
//!
//! - `routes`: the paths, the service-name table (unknown names answer `ret 404`) and dispatch.
//! - `auth`: `app_key` → app, `sign` (when the app requires it), `uuid` + `token` → caller.
//! - `request`: seed parameter names, defaults and limits → core commands.
//! - `handlers`: one short function per service: authenticate, one core call, render.
//! - `response`: core results → seed field names and types; the envelope with `_t`/`_auth`.
//! - `error`: [`YesApiError`](error::YesApiError), a `ret` code and message.

mod auth;
mod error;
mod handlers;
mod request;
mod response;
mod routes;

use jiff::tz::TimeZone;
use sixin_core::Core;

pub(crate) use routes::routes;

/// What YesApi handlers share.
#[derive(Clone)]
pub(crate) struct YesApiState {
    pub(crate) core: Core,
    /// The zone `add_time` and `reg_time` are shown in.
    pub(crate) time_zone: TimeZone,
}
