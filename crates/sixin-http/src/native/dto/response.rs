//! Native response bodies and their conversions from core values. Times are Unix
//! milliseconds; members appear by uuid with their integer `uid` beside it; conversation and
//! message ids are JSON numbers.

use serde::Serialize;
use serde_json::Value;
use sixin_core::ids::MessageId;
use sixin_core::model::{
    Conversation, ConversationDetail, ConversationSummary, HistoryItem, Login, Member, Message,
    Page, Participant, Profile, ReadOutcome, Role, UnreadCounts,
};
use sixin_core::store::{HistoryWindow, MembershipChange};
use utoipa::ToSchema;

use super::request::{Kind, MessageKind};
use crate::native::cursor;

/// A member, as the member themself sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberDto {
    pub uuid: String,
    pub uid: i64,
    pub username: String,
    #[schema(value_type = Object)]
    pub ext_info: Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<&Member> for MemberDto {
    fn from(m: &Member) -> Self {
        MemberDto {
            uuid: m.uuid.to_string(),
            uid: m.id.0,
            username: m.username.clone(),
            ext_info: m.ext_info.clone(),
            created_at: m.created_at.0,
        }
    }
}

/// What other members see of a member.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProfileDto {
    pub uuid: String,
    pub uid: i64,
    pub username: String,
    #[schema(value_type = Object)]
    pub ext_info: Value,
}

impl From<&Profile> for ProfileDto {
    fn from(p: &Profile) -> Self {
        ProfileDto {
            uuid: p.uuid.to_string(),
            uid: p.id.0,
            username: p.username.clone(),
            ext_info: p.ext_info.clone(),
        }
    }
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionDto {
    /// The Bearer token. Shown only here.
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub member: MemberDto,
}

impl From<&Login> for SessionDto {
    fn from(l: &Login) -> Self {
        SessionDto {
            token: l.token.clone(),
            expires_at: l.expires_at.0,
            member: MemberDto::from(&l.member),
        }
    }
}

/// Who sent a message.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SenderDto {
    pub uuid: String,
    pub uid: i64,
    pub username: String,
}

/// A message.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MessageDto {
    pub id: i64,
    pub conversation_id: i64,
    pub sender: SenderDto,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// The stored (html: sanitised) data; `{}` once recalled.
    #[schema(value_type = Object)]
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub recalled: bool,
    /// Unix milliseconds, when recalled.
    pub recalled_at: Option<i64>,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        MessageDto {
            id: m.id.0,
            conversation_id: m.conversation.0,
            sender: SenderDto {
                uuid: m.sender_uuid.to_string(),
                uid: m.sender.0,
                username: m.sender_username.clone(),
            },
            kind: m.kind.into(),
            data: m.data.clone(),
            ext_data: m.ext_data.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: m.created_at.0,
            recalled: m.recalled_at.is_some(),
            recalled_at: m.recalled_at.map(|t| t.0),
        }
    }
}

/// A message as the caller sees it in history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryItemDto {
    #[serde(flatten)]
    pub message: MessageDto,
    /// Received: whether the caller read it. Sent: whether every other member read it.
    pub read: bool,
}

impl From<&HistoryItem> for HistoryItemDto {
    fn from(h: &HistoryItem) -> Self {
        HistoryItemDto {
            message: MessageDto::from(&h.message),
            read: h.read,
        }
    }
}

/// A page of history, ascending by id. Every page with items has both cursors, however few
/// items it has; an empty page gives back the position it was read at, to retry from.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryPageDto {
    pub items: Vec<HistoryItemDto>,
    /// Pass as `before` for the messages just older than this page (or than the position of an
    /// empty page). Null only for an empty page read without a cursor.
    pub prev_cursor: Option<String>,
    /// Pass as `after` for the messages just newer than this page (or than the position of an
    /// empty page): poll with it to follow the conversation; never null.
    pub next_cursor: Option<String>,
    /// Whether more messages lay beyond this page in the direction it was read (older for the
    /// newest page and `before`, newer for `after`) when it was read.
    pub has_more: bool,
}

/// A conversation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationDto {
    pub id: i64,
    pub kind: Kind,
    /// Group subject; null for direct conversations.
    pub subject: Option<String>,
    /// The group owner's uid (direct: who sent first).
    pub owner_uid: i64,
    pub created_at: i64,
    pub last_activity_at: i64,
    /// Messages ever sent (recalled ones included).
    pub message_count: i64,
    pub member_count: i64,
}

impl From<&Conversation> for ConversationDto {
    fn from(c: &Conversation) -> Self {
        ConversationDto {
            id: c.id.0,
            kind: c.kind.into(),
            subject: c.subject.clone(),
            owner_uid: c.owner.0,
            created_at: c.created_at.0,
            last_activity_at: c.last_activity_at.0,
            message_count: c.message_count,
            member_count: c.member_count,
        }
    }
}

/// One entry of the conversation list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationItemDto {
    #[serde(flatten)]
    pub conversation: ConversationDto,
    pub unread: u32,
    pub last_message: Option<HistoryItemDto>,
    /// Direct conversations: the other member.
    pub peer: Option<ProfileDto>,
}

impl From<&ConversationSummary> for ConversationItemDto {
    fn from(s: &ConversationSummary) -> Self {
        ConversationItemDto {
            conversation: ConversationDto::from(&s.conversation),
            unread: s.unread,
            last_message: s.last_message.as_ref().map(HistoryItemDto::from),
            peer: s.peer.as_ref().map(ProfileDto::from),
        }
    }
}

/// A page of the conversation list, most recently active first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationPageDto {
    pub items: Vec<ConversationItemDto>,
    /// Pass as `before` for the entries just more recently active than this page (what became
    /// active since): given on every page with items; an empty page gives back the cursor it
    /// was read with (null for an empty first page).
    pub prev_cursor: Option<String>,
    /// Pass as `cursor` for the entries after this page (less recently active): given on every
    /// page with items, however few; an empty page gives back the cursor it was read with
    /// (null for the first page).
    pub next_cursor: Option<String>,
    /// Whether more entries lay beyond this page, in the direction it was read, when it was
    /// read.
    pub has_more: bool,
}

/// A member's role in a conversation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    Owner,
    Member,
}

/// A current member of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ParticipantDto {
    pub uuid: String,
    pub uid: i64,
    pub username: String,
    pub role: RoleDto,
    pub unread: u32,
    pub joined_at: i64,
}

impl From<&Participant> for ParticipantDto {
    fn from(p: &Participant) -> Self {
        ParticipantDto {
            uuid: p.profile.uuid.to_string(),
            uid: p.profile.id.0,
            username: p.profile.username.clone(),
            role: match p.role {
                Role::Owner => RoleDto::Owner,
                Role::Member => RoleDto::Member,
            },
            unread: p.unread,
            joined_at: p.joined_at.0,
        }
    }
}

/// A conversation with its participants and first and last visible messages.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationDetailDto {
    #[serde(flatten)]
    pub conversation: ConversationDto,
    pub participants: Vec<ParticipantDto>,
    /// Messages the caller can see.
    pub visible_count: i64,
    pub first_message: Option<MessageDto>,
    pub last_message: Option<MessageDto>,
}

impl From<&ConversationDetail> for ConversationDetailDto {
    fn from(d: &ConversationDetail) -> Self {
        ConversationDetailDto {
            conversation: ConversationDto::from(&d.conversation),
            participants: d.participants.iter().map(ParticipantDto::from).collect(),
            visible_count: d.visible_count,
            first_message: d.first_message.as_ref().map(MessageDto::from),
            last_message: d.last_message.as_ref().map(MessageDto::from),
        }
    }
}

/// A group membership change.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MembershipDto {
    pub conversation: ConversationDto,
    /// uids whose membership changed in this call.
    pub changed_uids: Vec<i64>,
}

impl From<&MembershipChange> for MembershipDto {
    fn from(c: &MembershipChange) -> Self {
        MembershipDto {
            conversation: ConversationDto::from(&c.conversation),
            changed_uids: c.changed.iter().map(|m| m.0).collect(),
        }
    }
}

/// What a mark-read call did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReadDto {
    /// Messages that went from unread to read.
    pub marked: u32,
    /// Unread messages left in the conversation.
    pub unread: u32,
}

impl From<ReadOutcome> for ReadDto {
    fn from(r: ReadOutcome) -> Self {
        ReadDto {
            marked: r.marked,
            unread: r.unread,
        }
    }
}

/// Unread messages in one conversation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnreadEntryDto {
    pub conversation_id: i64,
    pub unread: u32,
}

/// The caller's unread counters: the total, and one page of the conversations with unread
/// messages.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnreadDto {
    /// Unread messages in all the caller's conversations (a kept counter: as cheap for 10,000
    /// conversations as for one).
    pub total: u64,
    /// One page of the conversations with at least one unread message, by ascending id.
    pub conversations: Vec<UnreadEntryDto>,
    /// Pass as `cursor` for the conversations after this page: given on every page with
    /// entries; an empty page gives back the cursor it was read with (null for the first).
    pub next_cursor: Option<String>,
    /// Whether more conversations with unread messages came after this page when it was read.
    pub has_more: bool,
}

impl UnreadDto {
    /// Renders a page read with the unread cursor `asked` (if any).
    pub(crate) fn new(u: &UnreadCounts, asked: Option<&str>) -> Self {
        let next_cursor = match u.conversations.last() {
            Some((id, _)) => Some(cursor::unread(*id)),
            None => asked.map(str::to_owned),
        };
        UnreadDto {
            total: u.total,
            conversations: u
                .conversations
                .iter()
                .map(|(id, n)| UnreadEntryDto {
                    conversation_id: id.0,
                    unread: *n,
                })
                .collect(),
            next_cursor,
            has_more: u.has_more,
        }
    }
}

impl HistoryPageDto {
    /// Renders a page fetched with `window`. A page with items continues both ways from its
    /// first and last message. An empty page continues from where it was read: `before X`
    /// found nothing older than X (newer: after X − 1, which includes X); `after X` found
    /// nothing newer than X (older: before X + 1, which includes X); the newest page of an
    /// empty conversation continues after 0.
    pub(crate) fn new(page: &Page<HistoryItem>, window: HistoryWindow) -> Self {
        let (prev, next) = match (page.items.first(), page.items.last()) {
            (Some(first), Some(last)) => (Some(first.message.id), last.message.id),
            _ => match window {
                HistoryWindow::Before(id) => (Some(id), MessageId((id.0 - 1).max(0))),
                HistoryWindow::After(id) => (Some(MessageId(id.0.saturating_add(1))), id),
                HistoryWindow::Latest | HistoryWindow::Offset { .. } => (None, MessageId(0)),
            },
        };
        HistoryPageDto {
            items: page.items.iter().map(HistoryItemDto::from).collect(),
            prev_cursor: prev.map(cursor::message),
            next_cursor: Some(cursor::message(next)),
            has_more: page.has_more,
        }
    }
}

impl ConversationPageDto {
    /// Renders a page read with the list cursor `asked` (if any).
    /// The page, with cursors from its first and last entries; an empty page gives back the
    /// cursor it was `asked` with, in both directions, to retry with.
    pub(crate) fn new(page: &Page<ConversationSummary>, asked: Option<&str>) -> Self {
        let at = |s: &ConversationSummary| cursor::conversation(s.activity_at, s.conversation.id);
        let (prev_cursor, next_cursor) = match (page.items.first(), page.items.last()) {
            (Some(first), Some(last)) => (Some(at(first)), Some(at(last))),
            _ => (asked.map(str::to_owned), asked.map(str::to_owned)),
        };
        ConversationPageDto {
            items: page.items.iter().map(ConversationItemDto::from).collect(),
            prev_cursor,
            next_cursor,
            has_more: page.has_more,
        }
    }
}
