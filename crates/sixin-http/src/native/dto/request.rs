//! Native request bodies and query parameters, and their translation into core commands.
//! Only syntax is checked here (types, presence, "exactly one of"); every rule is the core's.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sixin_core::ids::{ConversationId, MessageId};
use sixin_core::model::{ConversationKind, MessageType};
use sixin_core::service::{MultiSend, Recipient, SendMessage};
use sixin_core::store::{HistoryWindow, ListQuery, ListWindow, ReadTarget, UnreadQuery};
use sixin_core::Error;
use utoipa::{IntoParams, ToSchema};

use crate::native::cursor;

/// Page size when a client does not give `limit`.
const DEFAULT_LIMIT: u32 = 20;

/// Open registration of a member of an app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    /// The app's key (32 hex digits).
    pub app_key: String,
    pub username: String,
    pub password: String,
    /// Free-form JSON object (nickname, avatar, …).
    #[schema(value_type = Option<Object>)]
    pub ext_info: Option<Value>,
}

/// Log in with a username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    pub app_key: String,
    pub username: String,
    pub password: String,
}

/// The five message types.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MessageKind {
    Text,
    Html,
    Image,
    Link,
    Custom,
}

impl From<MessageKind> for MessageType {
    fn from(k: MessageKind) -> Self {
        match k {
            MessageKind::Text => MessageType::Text,
            MessageKind::Html => MessageType::Html,
            MessageKind::Image => MessageType::Image,
            MessageKind::Link => MessageType::Link,
            MessageKind::Custom => MessageType::Custom,
        }
    }
}

impl From<MessageType> for MessageKind {
    fn from(t: MessageType) -> Self {
        match t {
            MessageType::Text => MessageKind::Text,
            MessageType::Html => MessageKind::Html,
            MessageType::Image => MessageKind::Image,
            MessageType::Link => MessageKind::Link,
            MessageType::Custom => MessageKind::Custom,
        }
    }
}

/// Send one message: to a member (`to`, a uuid) or into a conversation (`conversation_id`),
/// exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendRequest {
    /// The recipient's uuid: the direct conversation with them is created on first send.
    pub to: Option<String>,
    /// A conversation the caller belongs to.
    pub conversation_id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// A JSON object whose shape depends on `type` (text/html: `{"content"}`, image: `{"url",
    /// "width"?, "height"?, "thumb"?}`, link: `{"url", "title", "desc"?, "image"?}`, custom: any).
    #[schema(value_type = Object)]
    pub data: Value,
    /// Opaque string stored with the message.
    pub ext_data: Option<String>,
    /// Idempotency key: a retry with the same key returns the original message (status 200).
    pub client_msg_id: Option<String>,
}

/// Send one direct message to each of several members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MultiSendRequest {
    /// Recipient uuids, 1..=200.
    pub to: Vec<String>,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    #[schema(value_type = Object)]
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
}

/// Conversation kinds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Direct,
    Group,
}

impl From<Kind> for ConversationKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Direct => ConversationKind::Direct,
            Kind::Group => ConversationKind::Group,
        }
    }
}

impl From<ConversationKind> for Kind {
    fn from(k: ConversationKind) -> Self {
        match k {
            ConversationKind::Direct => Kind::Direct,
            ConversationKind::Group => Kind::Group,
        }
    }
}

/// Conversation-list query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// A `next_cursor`: the entries just less recently active than it.
    pub cursor: Option<String>,
    /// A `prev_cursor`: the entries just more recently active than it (what became active
    /// since that page was read). Not together with `cursor`.
    pub before: Option<String>,
    /// Only conversations of this kind.
    pub kind: Option<Kind>,
}

/// Unread query: one page of the conversations with unread messages, by ascending id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UnreadParams {
    /// Page size, 1..=100 (default 100, so up to 100 unread conversations come in one page).
    pub limit: Option<u32>,
    /// A `next_cursor`: the conversations after it.
    pub cursor: Option<String>,
}

/// History query. Without `before` or `after`, the newest messages.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryParams {
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// A `prev_cursor`: the page of messages just older than it.
    pub before: Option<String>,
    /// A `next_cursor`: the page of messages just newer than it.
    pub after: Option<String>,
}

/// Mark one message, or (without `message_id`, or without a body) the whole conversation, read.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkReadRequest {
    pub message_id: Option<i64>,
}

/// Create a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupRequest {
    pub subject: String,
    /// Member uuids; the caller is added as owner anyway.
    pub members: Vec<String>,
}

/// Add members to a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembersRequest {
    /// Member uuids.
    pub members: Vec<String>,
}

impl SendRequest {
    /// The core command; `400 invalid_request` unless exactly one of `to` and
    /// `conversation_id` is given.
    pub(crate) fn into_command(self) -> Result<SendMessage, Error> {
        let to = match (self.to, self.conversation_id) {
            (Some(uuid), None) => Recipient::Member(uuid),
            (None, Some(id)) => Recipient::Conversation(ConversationId(id)),
            _ => {
                let why = "give exactly one of `to` and `conversation_id`";
                return Err(Error::invalid("to", why));
            }
        };
        Ok(SendMessage {
            to,
            kind: self.kind.into(),
            data: self.data,
            ext_data: self.ext_data,
            client_msg_id: self.client_msg_id,
        })
    }
}

impl From<MultiSendRequest> for MultiSend {
    fn from(r: MultiSendRequest) -> Self {
        MultiSend {
            to: r.to,
            kind: r.kind.into(),
            data: r.data,
            ext_data: r.ext_data,
            client_msg_id: r.client_msg_id,
        }
    }
}

impl ListParams {
    /// The core list query; `400 invalid_request` for a malformed cursor.
    pub(crate) fn query(&self) -> Result<ListQuery, Error> {
        let window = match (&self.cursor, &self.before) {
            (None, None) => ListWindow::First,
            (Some(c), None) => {
                let (last_activity_at, id) = cursor::parse_conversation("cursor", c)?;
                ListWindow::After {
                    last_activity_at,
                    id,
                }
            }
            (None, Some(c)) => {
                let (last_activity_at, id) = cursor::parse_conversation("before", c)?;
                ListWindow::Before {
                    last_activity_at,
                    id,
                }
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "before",
                    "give either cursor or before, not both",
                ))
            }
        };
        Ok(ListQuery {
            kind: self.kind.map(Into::into),
            window,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT),
        })
    }
}

impl HistoryParams {
    /// The history window; `400 invalid_request` for a malformed cursor or both directions.
    pub(crate) fn window(&self) -> Result<HistoryWindow, Error> {
        match (&self.before, &self.after) {
            (None, None) => Ok(HistoryWindow::Latest),
            (Some(c), None) => Ok(HistoryWindow::Before(cursor::parse_message("before", c)?)),
            (None, Some(c)) => Ok(HistoryWindow::After(cursor::parse_message("after", c)?)),
            (Some(_), Some(_)) => Err(Error::invalid(
                "before",
                "give at most one of `before` and `after`",
            )),
        }
    }

    /// The page size asked for (the core checks its range).
    pub(crate) fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

impl UnreadParams {
    /// The core's page query; `400 invalid_request` for a malformed cursor.
    pub(crate) fn query(&self) -> Result<UnreadQuery, Error> {
        let after = self
            .cursor
            .as_deref()
            .map(|c| cursor::parse_unread("cursor", c))
            .transpose()?;
        Ok(UnreadQuery {
            after,
            limit: self.limit.unwrap_or(sixin_core::config::MAX_PAGE),
        })
    }
}

impl MarkReadRequest {
    /// One message, or everything.
    pub(crate) fn target(&self) -> ReadTarget {
        self.message_id
            .map_or(ReadTarget::All, |id| ReadTarget::One(MessageId(id)))
    }
}
