//! The native route table, mounted at `/v1`. Paths here are relative to `/v1`; the OpenAPI
//! document names them in full.

use axum::routing::{delete, get, post, put};
use axum::Router;

use super::error::{method_not_allowed, unknown_route};
use super::{blocks, conversations, events, members, messages, reports};
use crate::openapi;
use crate::state::AppState;

/// Every native route, with fallbacks that answer unknown paths (`404`) and unsupported
/// methods (`405`) in the native envelope.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/members", post(members::register))
        .route("/members/{uuid}", get(members::profile))
        .route("/sessions", post(members::login))
        .route("/sessions/current", delete(members::logout))
        .route("/me", get(blocks::me))
        .route("/me/dm-policy", put(blocks::set_dm_policy))
        .route("/blocks", get(blocks::list))
        .route("/blocks/{uuid}", put(blocks::block).delete(blocks::unblock))
        .route("/messages", post(messages::send))
        .route("/messages/multi", post(messages::multi_send))
        .route("/messages/{id}", delete(messages::hide))
        .route("/messages/{id}/recall", post(messages::recall))
        .route("/direct/{uuid}/messages", get(messages::direct_history))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{id}", get(conversations::detail))
        .route("/conversations/{id}/messages", get(messages::history))
        .route("/conversations/{id}/read", post(conversations::mark_read))
        .route(
            "/conversations/{id}/members",
            post(conversations::add_members),
        )
        .route(
            "/conversations/{id}/members/{uuid}",
            delete(conversations::remove_member),
        )
        .route("/unread", get(conversations::unread))
        .route("/groups", post(conversations::create_group))
        .route("/reports", post(reports::file))
        .route("/events", get(events::events))
        .nest("/server", crate::server::routes::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
}
