//! The server API's route table, nested at `/v1/server` (paths here are relative to it).
//! Unknown paths and methods fall through to the native `/v1` fallbacks.

use axum::routing::{delete, get, post, put};
use axum::Router;

use super::{acts, app, before_send, export, members, reports, secret, webhooks, words};
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(app::show))
        .route("/app/registration", put(app::set_registration))
        .route("/app/member-tokens", put(app::set_member_tokens))
        .route("/app/dm-policy", put(app::set_dm_policy))
        .route("/app/secret", post(secret::rotate))
        .route(
            "/app/before-send",
            put(before_send::set)
                .get(before_send::show)
                .delete(before_send::delete),
        )
        .route("/members", get(members::find_or_list))
        .route(
            "/members/{external_id}",
            put(members::upsert).delete(export::erase),
        )
        .route("/members/{external_id}/export", get(export::export))
        .route(
            "/members/{external_id}/sessions",
            post(members::issue_session).delete(members::revoke_sessions),
        )
        .route(
            "/members/{external_id}/ban",
            post(members::ban).delete(members::unban),
        )
        .route(
            "/members/{external_id}/mute",
            post(members::mute).delete(members::unmute),
        )
        .route("/messages", post(acts::send))
        .route("/groups", post(acts::create_group))
        .route("/groups/{id}/members", post(acts::add_members))
        .route("/groups/{id}/members/{uuid}", delete(acts::remove_member))
        .route(
            "/words",
            get(words::list).put(words::put).delete(words::remove),
        )
        .route("/reports", get(reports::list))
        .route("/reports/{id}/resolve", post(reports::resolve))
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/webhooks/{id}",
            get(webhooks::show)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}/replay", post(webhooks::replay))
        .route("/webhooks/{id}/test", post(webhooks::test))
}
