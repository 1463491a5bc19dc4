//! Server API member handlers: provision by the app's own id, look up and list, sessions, bans
//! and mutes.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sixin_core::ids::Timestamp;
use sixin_core::store::Upserted;

use super::auth::Backend;
use super::dto::{
    BanRequest, IssuedSessionDto, MemberPageDto, MembersAnswer, MembersParams, MembersQuery,
    MuteRequest, RevokedDto, ServerMemberDto, SessionRequest, UpsertRequest,
};
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::{JsonBody, OptionalJsonBody, Path, Query};
use crate::state::AppState;

type Member = Result<Json<ServerMemberDto>, ApiError>;

/// `PUT /v1/server/members/{external_id}` — create the member with the app's own id
/// `external_id` (`username` required; no password: they cannot log in with one), or update
/// the `username`/`ext_info` given.
///
/// - `201` created, `200` updated.
/// - `409 conflict` when the username is another member's.
/// - `400 invalid_request` for a bad id, username or `ext_info`, or no username to create.
#[utoipa::path(put, path = "/v1/server/members/{external_id}", tag = "server",
    security(("serverToken" = [])), request_body = UpsertRequest,
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 201, body = ServerMemberDto, description = "Created"),
        (status = 200, body = ServerMemberDto, description = "Updated"),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub(crate) async fn upsert(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
    JsonBody(req): JsonBody<UpsertRequest>,
) -> Result<(StatusCode, Json<ServerMemberDto>), ApiError> {
    let (member, done) = s
        .core
        .upsert_member(&app, &external_id, req.username.as_deref(), req.ext_info)
        .await?;
    let status = match done {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Updated => StatusCode::OK,
    };
    Ok((status, Json(ServerMemberDto::from(&member))))
}

/// `GET /v1/server/members` — with exactly one of `external_id`, `username`, `uuid`: that
/// member (`404 not_found` if none); with none: a page of the app's members in id order.
///
/// - `400 invalid_request` for two filters, a filter with paging, a bad `limit` or cursor.
#[utoipa::path(get, path = "/v1/server/members", tag = "server",
    security(("serverToken" = [])), params(MembersParams),
    responses(
        (status = 200, body = MembersAnswer),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn find_or_list(
    State(s): State<AppState>,
    Backend(app): Backend,
    Query(params): Query<MembersParams>,
) -> Result<Json<MembersAnswer>, ApiError> {
    Ok(Json(match params.query()? {
        MembersQuery::One(by) => {
            let member = s.core.find_member(&app, by).await?;
            MembersAnswer::One(ServerMemberDto::from(&member))
        }
        MembersQuery::Page { after, limit } => {
            let page = s.core.list_members(&app, after, limit).await?;
            MembersAnswer::Page(MemberPageDto::from(&page))
        }
    }))
}

/// `POST /v1/server/members/{external_id}/sessions` — a session token for the member, usable
/// in every dialect like a login's.
///
/// - `403 banned` while a ban is in force; `404 not_found` for an unknown id.
#[utoipa::path(post, path = "/v1/server/members/{external_id}/sessions", tag = "server",
    security(("serverToken" = [])), request_body = SessionRequest,
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 201, body = IssuedSessionDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn issue_session(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<SessionRequest>,
) -> Result<(StatusCode, Json<IssuedSessionDto>), ApiError> {
    let ttl = req.ttl_secs.map(Duration::from_secs);
    let login = s.core.issue_session(&app, &external_id, ttl).await?;
    Ok((StatusCode::CREATED, Json(IssuedSessionDto::from(&login))))
}

/// `DELETE /v1/server/members/{external_id}/sessions` — end every session of the member.
#[utoipa::path(delete, path = "/v1/server/members/{external_id}/sessions", tag = "server",
    security(("serverToken" = [])),
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = RevokedDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn revoke_sessions(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
) -> Result<Json<RevokedDto>, ApiError> {
    let revoked = s.core.revoke_member_sessions(&app, &external_id).await?;
    Ok(Json(RevokedDto { revoked }))
}

/// `POST /v1/server/members/{external_id}/ban` — ban the member, for good or `until` a time,
/// with an optional `reason`: every session ends at once, login and issued tokens are refused
/// (`403 banned`) until the ban is lifted or lapses by itself. Banning again replaces the ban.
///
/// - `400 invalid_request` for an `until` not in the future or a bad reason.
#[utoipa::path(post, path = "/v1/server/members/{external_id}/ban", tag = "server",
    security(("serverToken" = [])), request_body = BanRequest,
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = ServerMemberDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn ban(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<BanRequest>,
) -> Member {
    let ban = Some(req.into_ban());
    let member = s.core.ban_member(&app, &external_id, ban).await?;
    Ok(Json(ServerMemberDto::from(&member)))
}

/// `DELETE /v1/server/members/{external_id}/ban` — lift the ban (the member logs in again or
/// gets a new token).
#[utoipa::path(delete, path = "/v1/server/members/{external_id}/ban", tag = "server",
    security(("serverToken" = [])),
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = ServerMemberDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn unban(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
) -> Member {
    let member = s.core.ban_member(&app, &external_id, None).await?;
    Ok(Json(ServerMemberDto::from(&member)))
}

/// `POST /v1/server/members/{external_id}/mute` — mute the member, for good or `until` a
/// time: they may read, every send is refused (`403 muted` here; each dialect's own code).
///
/// - `400 invalid_request` for an `until` not in the future.
#[utoipa::path(post, path = "/v1/server/members/{external_id}/mute", tag = "server",
    security(("serverToken" = [])), request_body = MuteRequest,
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = ServerMemberDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn mute(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
    OptionalJsonBody(req): OptionalJsonBody<MuteRequest>,
) -> Member {
    let mute = Some(req.until.map(Timestamp));
    let member = s.core.mute_member(&app, &external_id, mute).await?;
    Ok(Json(ServerMemberDto::from(&member)))
}

/// `DELETE /v1/server/members/{external_id}/mute` — lift the mute.
#[utoipa::path(delete, path = "/v1/server/members/{external_id}/mute", tag = "server",
    security(("serverToken" = [])),
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = ServerMemberDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn unmute(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
) -> Member {
    let member = s.core.mute_member(&app, &external_id, None).await?;
    Ok(Json(ServerMemberDto::from(&member)))
}
