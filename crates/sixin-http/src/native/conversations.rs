//! Conversation handlers: the list, detail, read state, unread counts, groups.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sixin_core::ids::ConversationId;

use super::auth::Authed;
use super::dto::{
    ConversationDetailDto, ConversationDto, ConversationPageDto, GroupRequest, ListParams,
    MarkReadRequest, MembersRequest, MembershipDto, ReadDto, UnreadDto, UnreadParams,
};
use super::error::{ApiError, ErrorEnvelope};
use super::extract::{JsonBody, OptionalJsonBody, Path, Query};
use crate::state::AppState;

/// `GET /v1/conversations` — the caller's conversations, most recently active first.
///
/// - Each entry has the unread count, the last visible message and (direct) the peer.
/// - Every page with items has `prev_cursor` (pass as `before`: the entries just more recently
///   active, e.g. what became active since) and `next_cursor` (pass as `cursor`: less recently
///   active); an empty page gives back the cursor it was read with; `has_more` in the direction
///   read. `400 invalid_request` for a malformed cursor, both cursors, or a bad `limit`.
/// - Ordered by last activity (each send's commit-time clock), so a conversation that becomes
///   active moves up: `before=prev_cursor` finds it. For an exact feed of changes follow
///   `/v1/events`.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    security(("bearer" = [])), params(ListParams),
    responses(
        (status = 200, body = ConversationPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<ListParams>,
) -> Result<Json<ConversationPageDto>, ApiError> {
    let page = s.core.conversations(&caller, q.query()?).await?;
    let asked = q.cursor.as_deref().or(q.before.as_deref());
    Ok(Json(ConversationPageDto::new(&page, asked)))
}

/// `GET /v1/conversations/{id}` — one conversation with participants and read states.
///
/// - `404 not_found` when it does not exist or the caller is not a member.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, body = ConversationDetailDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn detail(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
) -> Result<Json<ConversationDetailDto>, ApiError> {
    let detail = s.core.conversation(&caller, ConversationId(id)).await?;
    Ok(Json(ConversationDetailDto::from(&detail)))
}

/// `POST /v1/conversations/{id}/read` — mark one message (`message_id`) or everything read.
///
/// - The body may be left out entirely to mark everything.
/// - Marking an own or already-read message marks nothing.
#[utoipa::path(post, path = "/v1/conversations/{id}/read", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body(content = Option<MarkReadRequest>, description = "Optional"),
    responses(
        (status = 200, body = ReadDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn mark_read(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
    OptionalJsonBody(req): OptionalJsonBody<MarkReadRequest>,
) -> Result<Json<ReadDto>, ApiError> {
    let outcome = s
        .core
        .mark_read(&caller, ConversationId(id), req.target())
        .await?;
    Ok(Json(ReadDto::from(outcome)))
}

/// `GET /v1/unread` — the caller's unread counters: the total, and one page of the
/// conversations with unread messages.
///
/// - `total` is a kept counter: it costs the same for 10,000 conversations as for one.
/// - Entries come by ascending conversation id, `limit` per page (default and most 100); follow
///   `next_cursor` (as `cursor`) while `has_more`. Paging never skips or repeats a conversation
///   that stays unread meanwhile. `400 invalid_request` for a malformed cursor or a bad `limit`.
#[utoipa::path(get, path = "/v1/unread", tag = "conversations", security(("bearer" = [])),
    params(UnreadParams),
    responses(
        (status = 200, body = UnreadDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn unread(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<UnreadParams>,
) -> Result<Json<UnreadDto>, ApiError> {
    let counts = s.core.unread(&caller, q.query()?).await?;
    Ok(Json(UnreadDto::new(&counts, q.cursor.as_deref())))
}

/// `POST /v1/groups` — create a group owned by the caller.
///
/// - Unknown member uuids fail the whole call (`404 not_found`).
#[utoipa::path(post, path = "/v1/groups", tag = "conversations", security(("bearer" = [])),
    request_body = GroupRequest,
    responses(
        (status = 201, body = ConversationDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn create_group(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(req): JsonBody<GroupRequest>,
) -> Result<(StatusCode, Json<ConversationDto>), ApiError> {
    let change = s
        .core
        .create_group(&caller, &req.subject, req.members)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConversationDto::from(&change.conversation)),
    ))
}

/// `POST /v1/conversations/{id}/members` — add members to a group (owner only).
///
/// - Members already present are left as they are and are not in `changed_uids`.
#[utoipa::path(post, path = "/v1/conversations/{id}/members", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Group conversation id")),
    request_body = MembersRequest,
    responses(
        (status = 200, body = MembershipDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn add_members(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<MembersRequest>,
) -> Result<Json<MembershipDto>, ApiError> {
    let change = s
        .core
        .add_members(&caller, ConversationId(id), req.members)
        .await?;
    Ok(Json(MembershipDto::from(&change)))
}

/// `DELETE /v1/conversations/{id}/members/{uuid}` — remove a member (owner), or leave (the
/// caller's own uuid).
///
/// - A removed member keeps no access to the conversation.
#[utoipa::path(delete, path = "/v1/conversations/{id}/members/{uuid}", tag = "conversations",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Group conversation id"),
        ("uuid" = String, Path, description = "The member to remove")),
    responses(
        (status = 200, body = MembershipDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn remove_member(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path((id, uuid)): Path<(i64, String)>,
) -> Result<Json<MembershipDto>, ApiError> {
    let change = s
        .core
        .remove_member(&caller, ConversationId(id), &uuid)
        .await?;
    Ok(Json(MembershipDto::from(&change)))
}
