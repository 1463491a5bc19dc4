//! Server API messages and groups: send as a member or as the app's system sender, create a
//! group for a member, add and remove group members as the app. Translation only: the rules
//! are in `sixin_core::service::app_acts` and the core's send and group services.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sixin_core::ids::ConversationId;
use sixin_core::service::{AppMember, AppRecipients, AppSend, AppSender, AppSent};
use sixin_core::Error;
use utoipa::ToSchema;

use super::auth::Backend;
use crate::native::dto::{MembershipDto, MessageDto, MessageKind, MultiSendDto};
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::{JsonBody, Path};
use crate::state::AppState;

/// A member, by exactly one of the app's own id or sixin's uuid.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberRefDto {
    /// The app's own id for the member.
    pub external_id: Option<String>,
    pub uuid: Option<String>,
}

impl MemberRefDto {
    fn into_core(self, field: &'static str) -> Result<AppMember, Error> {
        match (self.external_id, self.uuid) {
            (Some(e), None) => Ok(AppMember::ExternalId(e)),
            (None, Some(u)) => Ok(AppMember::Uuid(u)),
            _ => Err(Error::invalid(
                field,
                "give exactly one of external_id, uuid",
            )),
        }
    }
}

fn all(refs: Vec<MemberRefDto>, field: &'static str) -> Result<Vec<AppMember>, Error> {
    refs.into_iter().map(|r| r.into_core(field)).collect()
}

/// The sender: a member (`{"external_id"}` or `{"uuid"}`), or `"system"`, the app's system
/// sender.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum FromDto {
    /// `"system"`.
    Keyword(String),
    Member(MemberRefDto),
}

/// One recipient: a member (`{"external_id"}` or `{"uuid"}`) or a conversation the sender
/// belongs to (`{"conversation_id"}`); exactly one field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetDto {
    pub external_id: Option<String>,
    pub uuid: Option<String>,
    pub conversation_id: Option<i64>,
}

/// Where the message goes: one target, or a list of 1..=200 members (a multi-send).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum ToDto {
    Many(Vec<MemberRefDto>),
    One(TargetDto),
}

/// A message sent by the app's backend.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerSendRequest {
    pub from: FromDto,
    pub to: ToDto,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// As in `POST /v1/messages`.
    #[schema(value_type = Object)]
    pub data: Value,
    pub ext_data: Option<String>,
    /// Idempotency key, per sender and conversation, as in `POST /v1/messages`.
    pub client_msg_id: Option<String>,
}

impl ServerSendRequest {
    fn into_core(self) -> Result<AppSend, Error> {
        let from = match self.from {
            FromDto::Keyword(k) if k == "system" => AppSender::System,
            FromDto::Keyword(_) => {
                return Err(Error::invalid(
                    "from",
                    "give \"system\", {\"external_id\"} or {\"uuid\"}",
                ))
            }
            FromDto::Member(m) => AppSender::Member(m.into_core("from")?),
        };
        let to = match self.to {
            ToDto::Many(list) => AppRecipients::Many(all(list, "to")?),
            ToDto::One(t) => match (t.external_id, t.uuid, t.conversation_id) {
                (Some(e), None, None) => AppRecipients::One(AppMember::ExternalId(e)),
                (None, Some(u), None) => AppRecipients::One(AppMember::Uuid(u)),
                (None, None, Some(id)) => AppRecipients::Conversation(ConversationId(id)),
                _ => {
                    return Err(Error::invalid(
                        "to",
                        "give exactly one of external_id, uuid, conversation_id, or a list",
                    ))
                }
            },
        };
        Ok(AppSend {
            from,
            to,
            kind: self.kind.into(),
            data: self.data,
            ext_data: self.ext_data,
            client_msg_id: self.client_msg_id,
        })
    }
}

/// One message (a single recipient or a conversation), or per-recipient results (a list).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum ServerSentDto {
    One(MessageDto),
    Many(MultiSendDto),
}

/// `POST /v1/server/messages` — send as a member of the app, or as the app's system sender.
///
/// - `from`: `{"external_id"}` or `{"uuid"}` — the member's own send, under every rule of
///   `POST /v1/messages` (a banned member is `403 banned`, a muted one `403 muted`: the backend
///   does not bypass moderation); `"system"` — the app's system sender, a reserved member
///   (`external_id` `sixin:system`) created on first use, whose messages are notices: members
///   cannot answer them (`403 cannot_reply`). The system sender writes to members only.
/// - `to`: one member (`201` with the message, `200` when `client_msg_id` repeats a send), a
///   conversation the member belongs to (`{"conversation_id"}`), or a list of 1..=200 members
///   (`200` with one result per recipient, in request order, as `POST /v1/messages/multi`;
///   each `to` as given).
/// - `404 not_found` for a member or conversation not of this app (or not the sender's).
#[utoipa::path(post, path = "/v1/server/messages", tag = "server",
    security(("serverToken" = [])), request_body = ServerSendRequest,
    responses(
        (status = 201, body = MessageDto, description = "Sent to one member or conversation"),
        (status = 200, body = ServerSentDto,
            description = "Per-recipient results of a list, or the original of a retried send"),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn send(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<ServerSendRequest>,
) -> Result<(StatusCode, Json<ServerSentDto>), ApiError> {
    Ok(match s.core.app_send(&app, req.into_core()?).await? {
        AppSent::One(sent) => {
            let status = if sent.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let message = MessageDto::from(&sent.message);
            (status, Json(ServerSentDto::One(message)))
        }
        AppSent::Many(items) => (
            StatusCode::OK,
            Json(ServerSentDto::Many(MultiSendDto::from(items))),
        ),
    })
}

/// A group created by the app for one of its members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerGroupRequest {
    /// The member who creates and owns the group.
    pub owner: MemberRefDto,
    pub subject: String,
    /// The other members (the owner is added anyway).
    #[serde(default)]
    pub members: Vec<MemberRefDto>,
}

/// Members to add to a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerMembersRequest {
    pub members: Vec<MemberRefDto>,
}

/// `POST /v1/server/groups` — create a group on behalf of `owner`, as if they had created it
/// (`POST /v1/groups`): they own it; a banned owner is `403 banned`.
///
/// - `404 not_found` when the owner or a member is not of this app.
#[utoipa::path(post, path = "/v1/server/groups", tag = "server",
    security(("serverToken" = [])), request_body = ServerGroupRequest,
    responses(
        (status = 201, body = MembershipDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn create_group(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<ServerGroupRequest>,
) -> Result<(StatusCode, Json<MembershipDto>), ApiError> {
    let owner = req.owner.into_core("owner")?;
    let members = all(req.members, "members")?;
    let change = s
        .core
        .app_create_group(&app, &owner, &req.subject, members)
        .await?;
    Ok((StatusCode::CREATED, Json(MembershipDto::from(&change))))
}

/// `POST /v1/server/groups/{id}/members` — add members to a group of the app as the app,
/// whoever owns it; the group size limit holds (`400 too_many_recipients`). Members already in
/// are left as they are.
///
/// - `404 not_found` for a group or member not of this app; `403 forbidden` for a direct
///   conversation.
#[utoipa::path(post, path = "/v1/server/groups/{id}/members", tag = "server",
    security(("serverToken" = [])), request_body = ServerMembersRequest,
    params(("id" = i64, Path, description = "Group conversation id")),
    responses(
        (status = 200, body = MembershipDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn add_members(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<ServerMembersRequest>,
) -> Result<Json<MembershipDto>, ApiError> {
    let members = all(req.members, "members")?;
    let change = s
        .core
        .app_add_members(&app, ConversationId(id), members)
        .await?;
    Ok(Json(MembershipDto::from(&change)))
}

/// `DELETE /v1/server/groups/{id}/members/{uuid}` — remove a member from a group of the app as
/// the app, whoever owns it (the owner too: ownership passes as when they leave).
///
/// - `404 not_found` for a group or member not of this app, or not in the group.
#[utoipa::path(delete, path = "/v1/server/groups/{id}/members/{uuid}", tag = "server",
    security(("serverToken" = [])),
    params(
        ("id" = i64, Path, description = "Group conversation id"),
        ("uuid" = String, Path, description = "The member's uuid")),
    responses(
        (status = 200, body = MembershipDto),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn remove_member(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path((id, uuid)): Path<(i64, String)>,
) -> Result<Json<MembershipDto>, ApiError> {
    let change = s
        .core
        .app_remove_member(&app, ConversationId(id), &uuid)
        .await?;
    Ok(Json(MembershipDto::from(&change)))
}
