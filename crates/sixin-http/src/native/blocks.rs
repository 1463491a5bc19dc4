//! Block-list and who-may-message-me handlers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::auth::Authed;
use super::dto::{
    BlockDto, BlockPageDto, BlockParams, DmPolicyRequest, DmSettingDto, MeDto, MemberDto,
};
use super::error::{ApiError, ErrorEnvelope};
use super::extract::{JsonBody, Path, Query};
use crate::state::AppState;

/// `PUT /v1/blocks/{uuid}` — block a member: they can no longer send the caller direct
/// messages (in a conversation that exists or a new one) nor add the caller to a group; they
/// are told `403 not_accepted`, exactly as when the caller's who-may-message-me setting leaves
/// them out.
///
/// - Blocking again changes nothing; the entry keeps its first `created_at`.
/// - `404 not_found` for an unknown uuid (or a member of another app); `400 self_send` for the
///   caller's own uuid; `400 invalid_request` for the app's system sender.
#[utoipa::path(put, path = "/v1/blocks/{uuid}", tag = "blocks", security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The member to block")),
    responses(
        (status = 200, body = BlockDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn block(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(uuid): Path<String>,
) -> Result<Json<BlockDto>, ApiError> {
    let block = s.core.block(&caller, &uuid).await?;
    Ok(Json(BlockDto::from(&block)))
}

/// `DELETE /v1/blocks/{uuid}` — lift a block (`204` whether or not there was one).
///
/// - Errors as for `PUT`.
#[utoipa::path(delete, path = "/v1/blocks/{uuid}", tag = "blocks", security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The member to unblock")),
    responses(
        (status = 204),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn unblock(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(uuid): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.core.unblock(&caller, &uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/blocks` — the caller's block list, most recent first, each entry with the blocked
/// member's profile and when.
///
/// - Pages with `limit` (1..=100, default 20) and `cursor` (the `next_cursor` of the previous
///   page; `null` on the last). `400 invalid_request` for a malformed cursor or a bad `limit`.
#[utoipa::path(get, path = "/v1/blocks", tag = "blocks", security(("bearer" = [])),
    params(BlockParams),
    responses(
        (status = 200, body = BlockPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<BlockParams>,
) -> Result<Json<BlockPageDto>, ApiError> {
    let (after, limit) = q.page()?;
    let page = s.core.blocks(&caller, after, limit).await?;
    Ok(Json(BlockPageDto::from(&page)))
}

/// `GET /v1/me` — the caller, with their who-may-message-me setting: their own choice
/// (`dm_policy`, `null` when they follow the app's default) and what is in force
/// (`effective_dm_policy`).
#[utoipa::path(get, path = "/v1/me", tag = "members", security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn me(State(s): State<AppState>, Authed(caller): Authed) -> Json<MeDto> {
    Json(MeDto {
        member: MemberDto::from(caller.member()),
        dm: s.core.dm_setting(&caller).into(),
    })
}

/// `PUT /v1/me/dm-policy` — who may start a new direct conversation with the caller:
/// `everyone`, `contacts` (members who share a group with them) or `nobody`; `null` follows
/// the app's default. Conversations that exist carry on (block a member to stop one); a sender
/// left out is told `403 not_accepted`, as when blocked.
#[utoipa::path(put, path = "/v1/me/dm-policy", tag = "members", security(("bearer" = [])),
    request_body = DmPolicyRequest,
    responses(
        (status = 200, body = DmSettingDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn set_dm_policy(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(req): JsonBody<DmPolicyRequest>,
) -> Result<Json<DmSettingDto>, ApiError> {
    let setting = s
        .core
        .set_dm_policy(&caller, req.policy.map(Into::into))
        .await?;
    Ok(Json(setting.into()))
}
