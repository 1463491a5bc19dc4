//! Message handlers: send, multi-send, history, delete-for-me, recall.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::auth::Authed;
use super::dto::{
    HistoryPageDto, HistoryParams, MessageDto, MultiSendDto, MultiSendRequest, SendRequest,
};
use super::error::{ApiError, ErrorEnvelope};
use super::extract::{JsonBody, Path, Query};
use crate::state::AppState;
use sixin_core::ids::{ConversationId, MessageId};

/// `POST /v1/messages` — send one message to a member (`to`) or into a conversation
/// (`conversation_id`).
///
/// - The first send to a member creates the direct conversation.
/// - `201` with the new message; `200` with the original when `client_msg_id` repeats a send.
/// - `400 self_send` for yourself; `404 not_found` for unknown members and for conversations
///   the caller does not belong to; `400 invalid_request` for bad `data`.
#[utoipa::path(post, path = "/v1/messages", tag = "messages", security(("bearer" = [])),
    request_body = SendRequest,
    responses(
        (status = 201, description = "Sent", body = MessageDto),
        (status = 200, description = "Idempotent replay of an earlier send", body = MessageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn send(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(req): JsonBody<SendRequest>,
) -> Result<(StatusCode, Json<MessageDto>), ApiError> {
    let sent = s.core.send(&caller, req.into_command()?).await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(MessageDto::from(&sent.message))))
}

/// `POST /v1/messages/multi` — send one direct message to each of 1..=200 members.
///
/// - All sends commit in one transaction; each recipient gets a `message` or an `error`
///   (unknown or self recipients do not stop the others), in request order.
#[utoipa::path(post, path = "/v1/messages/multi", tag = "messages", security(("bearer" = [])),
    request_body = MultiSendRequest,
    responses(
        (status = 200, body = MultiSendDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn multi_send(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(req): JsonBody<MultiSendRequest>,
) -> Result<Json<MultiSendDto>, ApiError> {
    let items = s.core.multi_send(&caller, req.into()).await?;
    Ok(Json(MultiSendDto::from(items)))
}

/// `GET /v1/conversations/{id}/messages` — a page of history, ascending by id.
///
/// - No cursor: the newest messages. `before`: older than the cursor; `after`: newer.
/// - Every page with items has `prev_cursor` and `next_cursor`, however few items it has; an
///   empty page gives back its position. Polling with `after=next_cursor` follows the
///   conversation: paging never skips or repeats a message, even while others send.
/// - Reading history marks nothing read.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), HistoryParams),
    responses(
        (status = 200, body = HistoryPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn history(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
    Query(q): Query<HistoryParams>,
) -> Result<Json<HistoryPageDto>, ApiError> {
    let window = q.window()?;
    let page = s
        .core
        .history(&caller, ConversationId(id), window, q.limit())
        .await?;
    Ok(Json(HistoryPageDto::new(&page, window)))
}

/// `GET /v1/direct/{uuid}/messages` — history with one member, as
/// `GET /v1/conversations/{id}/messages`.
///
/// - An empty page when the two have no conversation yet.
/// - `400 self_send` for the caller's own uuid; `404 not_found` for unknown members.
#[utoipa::path(get, path = "/v1/direct/{uuid}/messages", tag = "messages",
    security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The other member's uuid"), HistoryParams),
    responses(
        (status = 200, body = HistoryPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn direct_history(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(uuid): Path<String>,
    Query(q): Query<HistoryParams>,
) -> Result<Json<HistoryPageDto>, ApiError> {
    let window = q.window()?;
    let page = s
        .core
        .history_with(&caller, &uuid, window, q.limit())
        .await?;
    Ok(Json(HistoryPageDto::new(&page, window)))
}

/// `DELETE /v1/messages/{id}` — delete for me: hides the message from the caller only.
///
/// - Hiding twice is not an error; `404 not_found` if the caller cannot see the message.
#[utoipa::path(delete, path = "/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 204),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn hide(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.core.hide(&caller, MessageId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/messages/{id}/recall` — withdraw one of the caller's messages for everyone.
///
/// - Only the sender, only within the recall window (`409 recall_window_passed`).
/// - The recalled message keeps its type; its data becomes `{}`.
#[utoipa::path(post, path = "/v1/messages/{id}/recall", tag = "messages",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, body = MessageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope)))]
pub(crate) async fn recall(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<i64>,
) -> Result<Json<MessageDto>, ApiError> {
    let message = s.core.recall(&caller, MessageId(id)).await?;
    Ok(Json(MessageDto::from(&message)))
}
