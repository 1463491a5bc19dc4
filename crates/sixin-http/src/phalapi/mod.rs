//! The APIUSB/PhalApi dialect (seeds/001): `Platform.ChatMessage.Send` and
//! `App.Auth.ApplyToken` at `/api/platform?s=…` (or `service=`), by any method, parameters in
//! the query string or a form body. The app and sender are named as in YesApi (`app_key`,
//! `uuid` + `token`); apps that require signatures also need an `access_token`.
//!
//! - `routes`: the path, the service-name table (unknown names answer `ret 404`) and dispatch.
//! - `auth`: `app_key` → app, access tokens (issue and check), `uuid` + `token` → caller.
//! - `request`: seed parameter names → core commands.
//! - `handlers`: one short function per service.
//! - `response`: `{ret, data, msg}` with `data.id` as a string, and the optional `debug` block.
//! - `error`: [`PhalApiError`](error::PhalApiError), a `ret` code and message.

mod auth;
mod error;
mod handlers;
mod request;
mod response;
mod routes;

use sixin_core::Core;

pub(crate) use routes::routes;

/// What PhalApi handlers share.
#[derive(Clone)]
pub(crate) struct PhalApiState {
    pub(crate) core: Core,
    /// Whether requests may ask for the `debug` block with `__debug__=1`.
    pub(crate) debug: bool,
}
