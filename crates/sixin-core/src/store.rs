//! The [`Store`] trait: durable state, drawn at the level of domain operations. Every method runs
//! in one transaction and is confined to the [`AppId`] it is given. The core checks validation
//! and who may ask; the store guarantees atomicity, ordering, idempotency and counters, and
//! re-checks membership inside the transaction so a concurrent removal can never be raced.
//!
//! Every write that changes what a member should hear of appends one event to that member's
//! stream, in the same transaction, with the member's next position (1, 2, 3, … without gaps,
//! in commit order on every backend); the write returns those [`Delivery`]s so the core can
//! publish them.
//!
//! Each guarantee documented here has a case in `sixin-tests/src/conformance/`, which runs on
//! SQLite and PostgreSQL alike.

use async_trait::async_trait;
use serde_json::Value;

use crate::bus::MemberEvent;
use crate::error::Entity;
use crate::ids::{
    AppId, AppKey, AppSecret, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp,
    TokenHash,
};
use crate::model::{
    App, Conversation, ConversationDetail, ConversationKind, ConversationSummary, Delivery,
    DmPolicy, HistoryItem, Member, MemberTokens, MessageType, Page, Profile, ReadOutcome,
    Registration, Sent, SessionInfo, UnreadCounts,
};

pub use crate::rules::{Actor, Refusal, SendChecks};

mod blocks;
pub use blocks::{Block, BlockCursor};

mod safety;
pub use safety::{NewReport, ReportStore, ReportTarget, WordStore};

/// Store failures. Lookups return `Option`; these are for writes and for infrastructure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{} already exists", .0.as_str())]
    Conflict(Entity),
    #[error("{} not found", .0.as_str())]
    NotFound(Entity),
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Pool timeout, lost connection, database busy past its limit.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A new app, with its key and secret already generated.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub key: AppKey,
    pub secret: AppSecret,
    pub name: String,
    pub require_sign: bool,
    pub created_at: Timestamp,
}

/// A new member; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub uuid: MemberUuid,
    pub username: String,
    pub password_hash: String,
    pub ext_info: Value,
    pub created_at: Timestamp,
}

/// A member provisioned by the app's backend under its own id (`external_id`): created with
/// `uuid`, `username` and `ext_info` (`{}` when `None`) if the app has no member with that id,
/// otherwise updated with the fields given. Such members have no password.
#[derive(Debug, Clone)]
pub struct UpsertMember {
    pub external_id: String,
    pub uuid: MemberUuid,
    /// Required to create; `None` leaves an existing member's username as it is.
    pub username: Option<String>,
    pub ext_info: Option<Value>,
    pub created_at: Timestamp,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

/// What a password login needs to know of a member.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub member: Member,
    /// Empty: the member has no password and cannot log in with one.
    pub password_hash: String,
    /// Password attempts in a row not followed by a right password (see
    /// [`rules::LoginAttempt`](crate::rules::LoginAttempt)).
    pub failed_logins: u32,
    /// Logins are refused until then.
    pub login_locked_until: Option<Timestamp>,
}

/// A ban: until when (for good when `None`) and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ban {
    pub until: Option<Timestamp>,
    pub reason: Option<String>,
}

/// A new session; only the token's hash is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub member: MemberId,
    pub token_hash: TokenHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How to find a member within an app.
#[derive(Debug, Clone, Copy)]
pub enum MemberRef<'a> {
    Id(MemberId),
    Uuid(&'a MemberUuid),
    Username(&'a str),
    /// The app's own id for the member (see [`UpsertMember`]).
    ExternalId(&'a str),
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTarget {
    /// The direct conversation with this member, created on first use.
    Direct(MemberId),
    /// An existing conversation the sender belongs to.
    Conversation(ConversationId),
}

/// The validated content of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContent {
    pub kind: MessageType,
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
    pub created_at: Timestamp,
}

/// Which messages a history call returns. Pages are always in ascending id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryWindow {
    /// The newest `limit` messages.
    Latest,
    /// The newest `limit` messages with id < the given id.
    Before(MessageId),
    /// The oldest `limit` messages with id > the given id.
    After(MessageId),
    /// Skip `skip` messages counted from the oldest (`newest_first = false`) or the newest end.
    Offset { skip: u32, newest_first: bool },
}

/// How far a member has read: everything, or one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadTarget {
    All,
    One(MessageId),
}

/// Where a conversation-list page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListWindow {
    /// From the most recently active conversation.
    First,
    /// After the entry with this activity time and id (the last one of the previous page):
    /// less recently active entries.
    After {
        last_activity_at: Timestamp,
        id: ConversationId,
    },
    /// Before the entry with this activity time and id (the first one of a page): the `limit`
    /// entries just more recently active, still listed most recent first; `has_more` says
    /// whether even more recent ones exist.
    Before {
        last_activity_at: Timestamp,
        id: ConversationId,
    },
    /// Skip this many entries.
    Offset(u32),
}

/// A conversation-list query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub kind: Option<ConversationKind>,
    pub window: ListWindow,
    pub limit: u32,
}

/// A page of a member's unread conversations (ascending conversation id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadQuery {
    /// The conversations after this one (none: from the first).
    pub after: Option<ConversationId>,
    pub limit: u32,
}

/// A new group conversation. `members` excludes the owner and has no duplicates.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub owner: MemberId,
    /// Who creates it: the owner ([`Actor::Member`]), who may not put a member who blocks them
    /// in it ([`rules::may_add_to_group`](crate::rules::may_add_to_group)), or the app.
    pub actor: Actor,
    pub subject: String,
    pub members: Vec<MemberId>,
    pub max_members: usize,
    pub created_at: Timestamp,
}

/// The outcome of a recall or a hide: the message as it now is, and the events appended.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageUpdate {
    pub message: crate::model::Message,
    pub deliveries: Vec<Delivery>,
}

/// The outcome of a membership change.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipChange {
    pub conversation: Conversation,
    /// Members whose membership changed in this call.
    pub changed: Vec<MemberId>,
    /// Their uuids, when they joined …
    pub added: Vec<MemberUuid>,
    /// … or left.
    pub removed: Vec<MemberUuid>,
    /// Current members after the change.
    pub members: Vec<MemberId>,
    /// The events appended: for every current member and every member who left.
    pub deliveries: Vec<Delivery>,
}

/// A stretch of one member's event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Events {
    /// The events after the requested position, in order (at most the requested number), and
    /// the member's latest position.
    Page {
        events: Vec<MemberEvent>,
        latest: Position,
    },
    /// The requested position is not one this stream can continue from (ahead of the stream,
    /// or older than what is kept): the client must resync from the APIs.
    Resync { latest: Position },
}

/// Durable state for sixin. See the module documentation for the general guarantees; the
/// webhook methods are [`WebhookStore`](crate::webhook::WebhookStore)'s, the word list's and
/// the reports' [`WordStore`]'s and [`ReportStore`]'s.
#[async_trait]
pub trait Store:
    crate::webhook::WebhookStore + WordStore + ReportStore + Send + Sync + 'static
{
    /// Finishes the work already submitted, refuses new work (`Unavailable`) and releases the
    /// database: on SQLite the reader and writer threads end and the WAL is checkpointed into
    /// the database file, which then holds everything on its own; on PostgreSQL the pool
    /// closes. Calling it again does nothing. A store dropped without it loses nothing that
    /// was acknowledged, but leaves a SQLite WAL behind.
    async fn close(&self) -> StoreResult<()>;
    /// Creates an app. `Conflict(App)` if the key exists.
    async fn create_app(&self, new: NewApp) -> StoreResult<App>;
    /// Looks an app up by key.
    async fn app_by_key(&self, key: &AppKey) -> StoreResult<Option<App>>;
    /// Every app, oldest first.
    async fn apps(&self) -> StoreResult<Vec<App>>;
    /// Sets whether an app requires signed requests; `None` if the key is unknown.
    async fn set_require_sign(&self, key: &AppKey, on: bool) -> StoreResult<Option<App>>;
    /// Sets an app's registration policy; `None` if the app is unknown.
    async fn set_registration(&self, app: AppId, policy: Registration) -> StoreResult<Option<App>>;
    /// Sets (`Some`: a JSON object, already validated) or clears (`None`) an app's own rate
    /// limits; `None` if the app is unknown.
    async fn set_limits(&self, app: AppId, limits: Option<Value>) -> StoreResult<Option<App>>;
    /// Sets (`Some`: the hook as a JSON object, already validated) or clears (`None`) an app's
    /// before-send hook; `None` if the app is unknown.
    async fn set_before_send(&self, app: AppId, hook: Option<Value>) -> StoreResult<Option<App>>;
    /// For up to `members` members with an id above `after`: deletes their events more than
    /// `keep` positions behind their latest and, with `older_than`, those before their first
    /// event created at or after it (always a prefix of the stream, even if clocks of several
    /// nodes disagree). The rows deleted, and the last member visited (`None`: no member is
    /// left after it).
    async fn prune_events(
        &self,
        keep: i64,
        older_than: Option<Timestamp>,
        after: MemberId,
        members: u32,
    ) -> StoreResult<(u64, Option<MemberId>)>;
    /// Deletes up to `batch` settled webhook deliveries of outbox entries created before
    /// `before`, and up to `batch` such entries left without deliveries (never a pending one).
    async fn prune_outbox(&self, before: Timestamp, batch: u32) -> StoreResult<u64>;
    /// Presence, for the offline hint of `message.created` webhooks: marks node `node` alive
    /// until `until` and records, in the same transaction, that the members `online` now have
    /// an event stream open on it and the members `offline` no longer have one.
    async fn set_presence(
        &self,
        node: &str,
        until: Timestamp,
        online: Vec<MemberId>,
        offline: Vec<MemberId>,
    ) -> StoreResult<()>;
    /// Deletes node `node` (when `Some`) and every node alive only until before `before`, with
    /// their presence rows; the rows deleted.
    async fn remove_nodes(&self, node: Option<&str>, before: Timestamp) -> StoreResult<u64>;
    /// Sets what an app-signed member token naming an unknown member does; `None` if the app
    /// is unknown.
    async fn set_member_tokens(&self, app: AppId, policy: MemberTokens)
        -> StoreResult<Option<App>>;
    /// Replaces an app's secret with `new_secret` in one statement: the secret it replaces
    /// becomes the previous one, accepted until `previous_until` (replacing any earlier previous
    /// secret); `None` if the app is unknown.
    async fn rotate_secret(
        &self,
        app: AppId,
        new_secret: AppSecret,
        previous_until: Timestamp,
    ) -> StoreResult<Option<App>>;
    /// Records the single use of a server token: `true` the first time `(app, jti)` is seen,
    /// `false` on every later call, on every node sharing the database (one insert against a
    /// unique key). The record is kept until `expires_at`; records that expired by `now` are
    /// pruned in the same call.
    async fn use_server_token(
        &self,
        app: AppId,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Creates a member. `Conflict(Username)` if the username is taken in this app.
    async fn create_member(&self, app: AppId, new: NewMember) -> StoreResult<Member>;
    /// Looks a member up within one app only.
    async fn member(&self, app: AppId, by: MemberRef<'_>) -> StoreResult<Option<Member>>;
    /// The members of this app among `uuids`, in no particular order; unknown ones are absent.
    async fn members_by_uuids(&self, app: AppId, uuids: &[MemberUuid]) -> StoreResult<Vec<Member>>;
    /// The app's members with these external ids, in one read; unknown ids (and other apps'
    /// members) are left out; order unspecified.
    async fn members_by_external_ids(&self, app: AppId, ids: &[String])
        -> StoreResult<Vec<Member>>;
    /// A member with their password hash and login lockout, for login.
    async fn credentials(&self, app: AppId, username: &str) -> StoreResult<Option<Credentials>>;
    /// Counts a password attempt on `member` before the password is checked, in one
    /// transaction that every node sharing the database serialises: reads the member's failures
    /// in a row and lock, lets [`rules::login_attempt`](crate::rules::login_attempt) decide
    /// under `lockout` at `now`, and stores a counted attempt. `NotFound(Member)` if unknown.
    async fn count_login_attempt(
        &self,
        app: AppId,
        member: MemberId,
        lockout: crate::rules::Lockout,
        now: Timestamp,
    ) -> StoreResult<crate::rules::LoginAttempt>;
    /// A right password: the member's failures in a row go back to zero and the lock is lifted.
    async fn reset_failed_logins(&self, app: AppId, member: MemberId) -> StoreResult<()>;
    /// Sets (`Some`: flag, expiry and reason) or clears (`None`) a member's ban at `now`.
    /// `None` if unknown.
    async fn set_banned(
        &self,
        app: AppId,
        member: MemberId,
        ban: Option<Ban>,
        now: Timestamp,
    ) -> StoreResult<Option<Member>>;
    /// Sets (`Some(until)`; `until` `None` for good) or clears (`None`) a member's mute at
    /// `now`. `None` if unknown.
    async fn set_muted(
        &self,
        app: AppId,
        member: MemberId,
        mute: Option<Option<Timestamp>>,
        now: Timestamp,
    ) -> StoreResult<Option<Member>>;
    /// Creates or updates the member with `external_id` in one transaction (see
    /// [`UpsertMember`]); concurrent upserts of one id create one member. `Conflict(Username)`
    /// if the username is another member's; `None` when the member does not exist and no
    /// username was given to create it.
    async fn upsert_member(
        &self,
        app: AppId,
        up: UpsertMember,
    ) -> StoreResult<Option<(Member, Upserted)>>;
    /// A page of the app's members in id order, after `after` (from the first when `None`).
    async fn members_page(
        &self,
        app: AppId,
        after: Option<MemberId>,
        limit: u32,
    ) -> StoreResult<Page<Member>>;

    /// Stores a session.
    async fn create_session(&self, app: AppId, new: NewSession) -> StoreResult<()>;
    /// The session with this token hash if it exists and expires after `now`.
    async fn session(&self, token: &TokenHash, now: Timestamp) -> StoreResult<Option<SessionInfo>>;
    /// Revokes every session of a member; how many there were.
    async fn revoke_sessions(&self, app: AppId, member: MemberId) -> StoreResult<u64>;
    /// Revokes a session; `false` if there was none.
    async fn delete_session(&self, token: &TokenHash) -> StoreResult<bool>;

    /// Sends one message. Direct targets create the conversation on first use (one per pair,
    /// even under concurrent first sends). Idempotent on `(sender, conversation, client_msg_id)`:
    /// a retry returns the original with `created = false` and changes nothing. Increments
    /// every other member's unread counter. `Refused(NotMember)` if the sender is not a member
    /// of the target conversation at commit time. Within a conversation, message ids grow in
    /// commit order.
    ///
    /// A direct send is held to `checks` at commit time, on what the transaction reads:
    /// [`rules::may_continue_direct`](crate::rules::may_continue_direct) in a conversation that
    /// exists (by peer or by conversation id), and
    /// [`rules::may_open_direct`](crate::rules::may_open_direct) before one is created, which
    /// counts the sender's openings exactly even under concurrent sends. A refused send writes
    /// nothing: `Refused(NotAccepted)` or `Refused(NewDirectCap)`.
    async fn send(
        &self,
        app: AppId,
        sender: MemberId,
        to: SendTarget,
        content: NewContent,
        checks: SendChecks,
    ) -> StoreResult<Sent>;
    /// Sends one direct message to each recipient, all in one transaction, each held to
    /// `checks` as [`Store::send`] is: a refused recipient gets its refusal and writes nothing,
    /// the others commit together (any other failure commits nothing). Same idempotency per
    /// recipient as [`Store::send`]. Results are in the order of `recipients`.
    async fn send_many(
        &self,
        app: AppId,
        sender: MemberId,
        recipients: &[MemberId],
        content: NewContent,
        checks: SendChecks,
    ) -> StoreResult<Vec<Result<Sent, Refusal>>>;

    /// A page of the conversation as `viewer` sees it (hidden messages and messages from before
    /// the viewer joined are left out), ascending by id. `None` if the viewer is not a member.
    /// Never changes read state.
    async fn history(
        &self,
        app: AppId,
        viewer: MemberId,
        conversation: ConversationId,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Option<Page<HistoryItem>>>;
    /// The direct conversation between two members, if it exists.
    async fn direct_conversation(
        &self,
        app: AppId,
        a: MemberId,
        b: MemberId,
    ) -> StoreResult<Option<ConversationId>>;
    /// Marks one message or the whole conversation read for `reader`, adjusting counters.
    /// Marking an already-read or own message marks nothing. `NotFound(Message)` if the message
    /// is not in the conversation; `Refused(NotMember)` if the reader is not a member.
    async fn mark_read(
        &self,
        app: AppId,
        reader: MemberId,
        conversation: ConversationId,
        target: ReadTarget,
        now: Timestamp,
    ) -> StoreResult<ReadOutcome>;
    /// The member's total unread count, kept with every write that changes a conversation's
    /// count (one row to read, however many conversations the member has; no history scan).
    async fn unread_total(&self, app: AppId, member: MemberId) -> StoreResult<u64>;
    /// The total (as [`Store::unread_total`]) and, read with it in one snapshot, one page of
    /// the member's conversations with unread messages in ascending id order: those after
    /// `query.after`, at most `query.limit`. Ids never change, so paging on never skips or
    /// repeats a conversation that stays unread throughout.
    async fn unread(
        &self,
        app: AppId,
        member: MemberId,
        query: UnreadQuery,
    ) -> StoreResult<UnreadCounts>;
    /// The member's unread count in one conversation; `None` when they are not a member.
    async fn unread_in(
        &self,
        app: AppId,
        member: MemberId,
        conversation: ConversationId,
    ) -> StoreResult<Option<u32>>;
    /// The member's conversations by last activity, newest first (ties by id, descending).
    async fn conversations(
        &self,
        app: AppId,
        member: MemberId,
        query: ListQuery,
    ) -> StoreResult<Page<ConversationSummary>>;
    /// How many conversations of this kind the member belongs to.
    async fn conversation_count(
        &self,
        app: AppId,
        member: MemberId,
        kind: Option<ConversationKind>,
    ) -> StoreResult<u64>;
    /// A conversation with participants and first/last visible message; `None` if the viewer
    /// is not a member.
    async fn conversation(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetail>>;
    /// Current members' public profiles; `None` if the viewer is not a member.
    async fn participants(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<Vec<Profile>>>;

    /// Hides a message from `member` only. If it was unread, the counters drop. Hiding twice is
    /// not an error. `NotFound(Message)` if the member cannot see the message.
    async fn hide_message(
        &self,
        app: AppId,
        member: MemberId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate>;
    /// Withdraws a message for everyone: data becomes `{}`, `recalled_at` is set, and members
    /// who had not read it get their counters lowered. Recalling twice returns the first recall.
    /// Refused as [`rules::may_recall`](crate::rules::may_recall) decides for `window` at `now`.
    async fn recall(
        &self,
        app: AppId,
        sender: MemberId,
        message: MessageId,
        window: std::time::Duration,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate>;

    /// `member`'s events with position > `after`, oldest first, at most `limit`.
    async fn events_since(
        &self,
        app: AppId,
        member: MemberId,
        after: Position,
        limit: u32,
    ) -> StoreResult<Events>;

    /// Creates a group owned by `owner` with the given members.
    async fn create_group(&self, app: AppId, new: NewGroup) -> StoreResult<MembershipChange>;
    /// Adds members, as [`rules::may_add_members`](crate::rules::may_add_members),
    /// [`rules::group_fits`](crate::rules::group_fits) and
    /// [`rules::may_add_to_group`](crate::rules::may_add_to_group) allow at commit time. Already-present
    /// members are left as they are and are not in `changed`. New members see messages sent
    /// from now on.
    async fn add_members(
        &self,
        app: AppId,
        actor: Actor,
        group: ConversationId,
        members: &[MemberId],
        max_members: usize,
        now: Timestamp,
    ) -> StoreResult<MembershipChange>;
    /// Removes a member as [`rules::may_remove`](crate::rules::may_remove) allows at commit
    /// time; ownership passes to [`rules::heir`](crate::rules::heir). A removed member keeps no
    /// access to the conversation.
    async fn remove_member(
        &self,
        app: AppId,
        actor: Actor,
        group: ConversationId,
        member: MemberId,
        now: Timestamp,
    ) -> StoreResult<MembershipChange>;
    /// Erases a member in one transaction: their sessions end; every message they sent becomes
    /// a tombstone (data `{}`, no ext_data, `recalled_at` set), lowering the unread counts of
    /// the members who had not read it; they leave every group (ownership passing as the core's
    /// `rules::heir` decides); their profile becomes `username`, with no ext_info, password or
    /// external id, banned; their blocks, both ways, are deleted. Direct conversations stay,
    /// with them as the tombstoned peer. The membership changes of the groups they left.
    async fn erase_member(
        &self,
        app: AppId,
        member: MemberId,
        username: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<MembershipChange>>;

    /// `blocker` blocks `blocked` (both members of `app`; the core checks who may be blocked).
    /// Blocking again changes nothing and keeps the first time. The entry as it now is.
    async fn block(
        &self,
        app: AppId,
        blocker: MemberId,
        blocked: MemberId,
        now: Timestamp,
    ) -> StoreResult<Block>;
    /// Lifts a block; whether there was one.
    async fn unblock(&self, app: AppId, blocker: MemberId, blocked: MemberId) -> StoreResult<bool>;
    /// A page of `blocker`'s blocks, most recent first (ties by member id, descending), after
    /// `after` (from the first when `None`).
    async fn blocks(
        &self,
        app: AppId,
        blocker: MemberId,
        after: Option<BlockCursor>,
        limit: u32,
    ) -> StoreResult<Page<Block>>;
    /// Sets a member's own who-may-message-me setting (`None`: the app's default applies).
    /// `None` if the member is unknown.
    async fn set_dm_policy(
        &self,
        app: AppId,
        member: MemberId,
        policy: Option<DmPolicy>,
    ) -> StoreResult<Option<Member>>;
    /// Sets the app's default who-may-message-me setting; `None` if the app is unknown.
    async fn set_app_dm_policy(&self, app: AppId, policy: DmPolicy) -> StoreResult<Option<App>>;
}
