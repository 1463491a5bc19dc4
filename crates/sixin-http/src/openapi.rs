//! The OpenAPI document of the native API, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' schemas. `openapi.json` at the repository root is a snapshot of
//! [`openapi_json`], kept true by a test.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::native::{blocks, conversations, dto, error, events, members, messages, reports};
use crate::ops;
use crate::server;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sixin native API",
        description = "Private messages for an app's members: send, history, read state, \
                       unread counts, conversations and groups. Authenticate with \
                       `Authorization: Bearer <token>` from `POST /v1/sessions`. Errors are \
                       `{\"error\":{\"code\":\"...\",\"message\":\"...\"}}`."
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::metrics,
        serve,
        members::register,
        members::login,
        members::logout,
        blocks::me,
        blocks::set_dm_policy,
        members::profile,
        blocks::block,
        blocks::unblock,
        blocks::list,
        messages::send,
        messages::multi_send,
        messages::history,
        messages::direct_history,
        messages::hide,
        messages::recall,
        reports::file,
        conversations::list,
        conversations::detail,
        conversations::mark_read,
        conversations::unread,
        conversations::create_group,
        conversations::add_members,
        conversations::remove_member,
        events::events,
        server::app::show,
        server::app::set_registration,
        server::app::set_member_tokens,
        server::app::set_dm_policy,
        server::before_send::set,
        server::before_send::show,
        server::before_send::delete,
        server::export::export,
        server::export::erase,
        server::secret::rotate,
        server::members::upsert,
        server::members::find_or_list,
        server::members::issue_session,
        server::members::revoke_sessions,
        server::members::ban,
        server::members::unban,
        server::members::mute,
        server::members::unmute,
        server::acts::send,
        server::acts::create_group,
        server::acts::add_members,
        server::acts::remove_member,
        server::words::list,
        server::words::put,
        server::words::remove,
        server::reports::list,
        server::reports::resolve,
        server::webhooks::create,
        server::webhooks::list,
        server::webhooks::show,
        server::webhooks::update,
        server::webhooks::delete,
        server::webhooks::deliveries,
        server::webhooks::replay,
        server::webhooks::test,
    ),
    components(schemas(error::ErrorEnvelope, error::ErrorBody, dto::MessageKind, dto::Kind)),
    modifiers(&BearerAuth),
    tags(
        (name = "members", description = "Registration, sessions, profiles"),
        (name = "messages", description = "Send, history, delete-for-me, recall"),
        (name = "conversations", description = "Conversation list, read state, groups"),
        (name = "blocks", description = "The caller's block list: a blocked member cannot send \
            them direct messages nor add them to a group"),
        (name = "events", description = "Live delivery: the member's event stream over \
            WebSocket or Server-Sent Events, resumable by position"),
        (name = "ops", description = "Health, metrics and this document"),
        (name = "server", description = "The server API, for the app's backend only: \
            provision members under the app's own ids, issue and revoke their sessions, ban and \
            mute, the registration and who-may-message policies, rotating the app secret, webhook \
            endpoints and their deliveries, the sensitive-word list, members' reports. \
            Authenticate with `Authorization: Bearer <JWT>`: HS256 \
            signed with the app secret, claims `iss` (app key), `aud` = `sixin-server`, `iat`, \
            `exp` (at most `server_api.max_token_secs` after `iat`, 300 s by default) and a \
            single-use `jti`. Refusals are `401 bad_server_token` with the reason."),
    )
)]
struct ApiDoc;

/// Declares the `bearer` and `serverToken` security schemes the handlers refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A session token from `POST /v1/sessions`"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let server = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "For the app's backend: an HS256 JWT signed with the app secret, with `iss` = \
                 app key, `aud` = `sixin-server`, `iat`, `exp` (short-lived) and a single-use \
                 `jti`",
            ))
            .build();
        components.add_security_scheme("serverToken", SecurityScheme::Http(server));
    }
}

/// The OpenAPI 3.1 document of the native API, as pretty-printed JSON. Deterministic: the same
/// code always produces the same text.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("an OpenApi value is plain data that always serializes to JSON")
}

/// `GET /v1/openapi.json` — this API's OpenAPI document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document",
        content_type = "application/json")))]
pub(crate) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps `openapi.json` at the repository root equal to what the code generates. Run with
    /// `UPDATE_OPENAPI=1` to rewrite it after an intended API change.
    #[test]
    fn committed_openapi_json_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
        let generated = format!("{}\n", openapi_json());
        if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(path, &generated).expect("openapi.json is writable");
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p sixin-http \
             committed_openapi_json_matches_the_code` and commit the result"
        );
    }
}
