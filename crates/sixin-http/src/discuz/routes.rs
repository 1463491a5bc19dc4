//! The Discuz route, `/plugin.php` (GET and POST), and its dispatch table: `id` must be
//! `xinxiu_network:pm` (else code 404 "unknown plugin id"), then `action` picks the method
//! (unknown or missing: code 404 "unknown action").

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::auth;
use super::error::DiscuzError;
use super::request::{self, DiscuzRequest, Params, PLUGIN_ID};
use super::response::{self, Node, Reply};
use crate::state::AppState;

/// The Discuz routes, to be merged at the root.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/plugin.php",
        get(plugin).post(plugin).fallback(method_not_allowed),
    )
}

/// `GET|POST /plugin.php?id=xinxiu_network:pm&action=…` — every pm plugin call.
async fn plugin(State(s): State<AppState>, req: DiscuzRequest) -> Reply {
    let outcome = match (req.params.get("id"), req.params.get("action")) {
        (Some(PLUGIN_ID), Some("pm_get")) => pm_get(&s, &req.params).await,
        (Some(PLUGIN_ID), _) => Err(DiscuzError::unknown_action()),
        _ => Err(DiscuzError::unknown_plugin()),
    };
    req.reply(outcome)
}

/// # pm_get (seeds/003, 获取单条信息内容) — one conversation (`plids`) with its members and a page
/// of its messages (`start`, `limit`, `sort`). Members only: anyone else gets code 404.
async fn pm_get(s: &AppState, params: &Params) -> Result<Node, DiscuzError> {
    let cmd = request::pm_get(params)?;
    let caller = auth::member(&s.core, params).await?;
    let page = s
        .core
        .history(&caller, cmd.plid, cmd.window, cmd.limit)
        .await?;
    let detail = s.core.conversation(&caller, cmd.plid).await?;
    Ok(response::pm_get(&detail, page.items, cmd.newest_first))
}

/// `/plugin.php` with a method other than GET or POST: code 405, in JSON.
async fn method_not_allowed() -> DiscuzError {
    DiscuzError::method_not_allowed()
}
