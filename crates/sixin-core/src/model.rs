//! Domain values the core hands to adapters. Plain data: no behaviour that decides anything.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{
    AppId, AppKey, AppSecret, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp,
};

mod safety;
pub use safety::*;

/// A tenant. Everything else belongs to exactly one app.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub id: AppId,
    pub key: AppKey,
    pub name: String,
    /// Kept to verify YesApi signatures and to compute `_auth`; never returned by an API.
    pub secret: AppSecret,
    /// Whether dialects that sign requests (YesApi, PhalApi) must present a valid signature.
    pub require_sign: bool,
    /// Who may create members: anyone (`open`) or only the app's backend and the operator.
    pub registration: Registration,
    /// The secret before the last rotation, still accepted until its `until`.
    pub previous_secret: Option<PreviousSecret>,
    /// What an app-signed member token naming an unknown member does.
    pub member_tokens: MemberTokens,
    /// Who may start a direct conversation with a member who has not chosen for themselves.
    pub dm_policy: DmPolicy,
    /// The app's own rate limits: a JSON object overriding the configuration's defaults key
    /// by key (`None`: the defaults).
    pub limits: Option<Value>,
    /// Grows with every change to the app's word list: a node whose matcher is older rebuilds it.
    pub word_list_version: i64,
    /// The app's before-send hook, if it has one.
    pub before_send: Option<crate::webhook::BeforeSendHook>,
    pub created_at: Timestamp,
}

/// Who may start a direct conversation with a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Any member of the app.
    #[default]
    Everyone,
    /// Only members who already have a direct conversation with them.
    Contacts,
    /// No one: no new direct conversation can be started with them.
    Nobody,
}

impl DmPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DmPolicy::Everyone => "everyone",
            DmPolicy::Contacts => "contacts",
            DmPolicy::Nobody => "nobody",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "everyone" => Some(DmPolicy::Everyone),
            "contacts" => Some(DmPolicy::Contacts),
            "nobody" => Some(DmPolicy::Nobody),
            _ => None,
        }
    }
}

/// An app's secret before its last rotation, accepted until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousSecret {
    pub secret: AppSecret,
    pub until: Timestamp,
}

/// What an app-signed member token whose `sub` names no member does on first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberTokens {
    /// Refused: members come from the server API (or registration) first.
    #[default]
    Existing,
    /// The member is created from the token's claims (`sub`, `name`, `ext_info`).
    Provision,
}

impl MemberTokens {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberTokens::Existing => "existing",
            MemberTokens::Provision => "provision",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "existing" => Some(MemberTokens::Existing),
            "provision" => Some(MemberTokens::Provision),
            _ => None,
        }
    }
}

/// An app's registration policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Members register themselves (native `POST /v1/members`, YesApi `App.User.Register`).
    #[default]
    Open,
    /// Self-registration is refused; members come from the server API and the CLI.
    Closed,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Open => "open",
            Registration::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Registration::Open),
            "closed" => Some(Registration::Closed),
            _ => None,
        }
    }
}

/// A member of an app, as the member themself and the app's operator see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: MemberId,
    pub app: AppId,
    pub uuid: MemberUuid,
    pub username: String,
    /// A JSON object (nickname, avatar, age, …), free-form for the app.
    pub ext_info: Value,
    /// The app's own id for this member (set by the server API), unique per app.
    pub external_id: Option<String>,
    /// Whether a ban was set; it is in force until `banned_until` (for good when `None`). Ask
    /// [`rules::banned_at`](crate::rules::banned_at), which applies the expiry.
    pub banned: bool,
    pub banned_until: Option<Timestamp>,
    pub ban_reason: Option<String>,
    /// Whether a mute was set; in force until `muted_until` (for good when `None`). Ask
    /// [`rules::muted_at`](crate::rules::muted_at).
    pub muted: bool,
    pub muted_until: Option<Timestamp>,
    /// The member's own who-may-message-me setting (`None`: the app's default).
    pub dm_policy: Option<DmPolicy>,
    pub created_at: Timestamp,
}

impl Member {
    /// What other members may see of this member.
    pub fn profile(&self) -> Profile {
        Profile {
            id: self.id,
            uuid: self.uuid.clone(),
            username: self.username.clone(),
            ext_info: self.ext_info.clone(),
        }
    }
}

/// What other members see of a member.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: MemberId,
    pub uuid: MemberUuid,
    pub username: String,
    pub ext_info: Value,
}

/// A session token handed to a member at login. The plain token exists only here and in the
/// client; the store keeps its hash.
#[derive(Clone)]
pub struct Login {
    pub token: String,
    pub expires_at: Timestamp,
    pub member: Member,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("member", &self.member)
            .finish()
    }
}

/// A valid session, with the app and member it belongs to.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub app: App,
    pub member: Member,
    pub expires_at: Timestamp,
}

/// `direct`: exactly two members, one conversation per pair. `group`: a subject and members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ConversationKind::Direct),
            "group" => Some(ConversationKind::Group),
            _ => None,
        }
    }
}

/// The five message types of the seed documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Text,
    Html,
    Image,
    Link,
    Custom,
}

impl MessageType {
    pub const ALL: [MessageType; 5] = [
        MessageType::Text,
        MessageType::Html,
        MessageType::Image,
        MessageType::Link,
        MessageType::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Html => "html",
            MessageType::Image => "image",
            MessageType::Link => "link",
            MessageType::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub app: AppId,
    pub kind: ConversationKind,
    /// Group subject; `None` for direct conversations.
    pub subject: Option<String>,
    /// The group owner (its creator until they leave); for direct conversations, the member who
    /// sent first.
    pub owner: MemberId,
    pub created_at: Timestamp,
    /// Time of the last message, or of creation while there is none.
    pub last_activity_at: Timestamp,
    /// Messages ever sent in the conversation (recalled ones included).
    pub message_count: i64,
    pub member_count: i64,
}

/// A message as stored, with its sender's public identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub sender: MemberId,
    pub sender_uuid: MemberUuid,
    pub sender_username: String,
    pub kind: MessageType,
    /// The validated (html: sanitised) data. A recalled message keeps its type and has `{}`.
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
    pub created_at: Timestamp,
    pub recalled_at: Option<Timestamp>,
}

/// A message as one member sees it in history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub message: Message,
    /// For a message the viewer received: whether the viewer read it. For one the viewer sent:
    /// whether every other current member has read it (in a direct conversation, the peer).
    pub read: bool,
}

/// One entry of a member's conversation list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub conversation: Conversation,
    /// This entry's place in the member's list: the conversation's last activity, or when the
    /// member joined if later. List cursors are built from it.
    pub activity_at: Timestamp,
    /// Unread messages for this member in this conversation.
    pub unread: u32,
    /// The newest message this member can see, if any.
    pub last_message: Option<HistoryItem>,
    /// For a direct conversation, the other member.
    pub peer: Option<Profile>,
}

/// One member of a conversation, with their read state.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub profile: Profile,
    pub role: Role,
    pub unread: u32,
    /// When this member's read state last changed (or they joined).
    pub read_updated_at: Timestamp,
    pub joined_at: Timestamp,
}

/// A member's role in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A conversation with everything a detail view needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub participants: Vec<Participant>,
    /// The oldest and newest messages the viewer can see.
    pub first_message: Option<Message>,
    pub last_message: Option<Message>,
    /// Messages the viewer can see.
    pub visible_count: i64,
}

/// A page of results and the cursor for the next page, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

/// Unread counters of one member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnreadCounts {
    /// Unread messages in all the member's conversations.
    pub total: u64,
    /// One page of the conversations with at least one unread message, by ascending id.
    pub conversations: Vec<(ConversationId, u32)>,
    /// Whether more such conversations came after this page when it was read.
    pub has_more: bool,
}

/// What a mark-read call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Messages that went from unread to read in this call.
    pub marked: u32,
    /// Unread messages left in the conversation.
    pub unread: u32,
    /// The reader's read-up-to mark after this call (messages up to it are all read).
    pub last_read: MessageId,
    /// The events this call appended (none when nothing was marked).
    pub deliveries: Vec<Delivery>,
}

/// One event appended to one member's stream in the same transaction as the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub member: MemberId,
    pub position: Position,
    /// The member's total unread count right after the write.
    pub unread_total: u64,
}

/// The outcome of a send.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message: Message,
    pub conversation: Conversation,
    /// `false` when a retry with the same client key returned the original message.
    pub created: bool,
    /// The event appended for every current member, the sender included (none on a retry).
    pub deliveries: Vec<Delivery>,
}

/// Per-recipient outcome of a multi-send.
#[derive(Debug)]
pub struct MultiSendItem {
    /// The recipient as the client gave it (upper-cased when it is a well-formed uuid).
    pub to: String,
    pub result: Result<Sent, crate::Error>,
}
