//! [`Db`]: the one implementation of [`Store`] for both backends. Each method moves its
//! arguments into a [`Job`] — a call of one operation in [`ops`](crate::ops) — and hands it to
//! the [`Backend`], which runs it in a read or in a committed write transaction.

use async_trait::async_trait;
use serde_json::Value;
use sixin_core::ids::{
    AppId, AppKey, AppSecret, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp,
    TokenHash,
};
use sixin_core::model::{
    App, ConversationDetail, ConversationKind, ConversationSummary, DmPolicy, HistoryItem, Member,
    MemberTokens, Page, Profile, ReadOutcome, Registration, Sent, SessionInfo, UnreadCounts,
};
use sixin_core::rules::{Lockout, LoginAttempt};
use sixin_core::store::{
    Actor, Ban, Block, BlockCursor, Credentials, Events, HistoryWindow, ListQuery, MemberRef,
    MembershipChange, MessageUpdate, NewApp, NewContent, NewGroup, NewMember, NewSession,
    ReadTarget, Refusal, SendChecks, SendTarget, Store, StoreResult, UnreadQuery, UpsertMember,
    Upserted,
};

use crate::ops::members::OwnedRef;
use crate::ops::{
    apps, blocks, conversations, events, groups, hide_recall, history, logins, members, reads, send,
};

mod job;
use job::job;
pub(crate) use job::{Backend, Job};

/// A [`Store`] over a [`Backend`].
pub(crate) struct Db<B>(pub(crate) B);

/// `write!(self, |ex| ops::f(ex, args…))`: arguments are moved into the job, so borrowed
/// ones must be made owned first.
macro_rules! write {
    ($self:ident, |$ex:ident| $body:expr) => {
        $self
            .0
            .write(job(move |$ex| Box::pin(async move { $body.await })))
            .await
    };
}

/// `lookup!(self, |ex| ops::f(ex, args…))`: a read of a few rows by an index (see
/// [`Backend::lookup`]).
macro_rules! lookup {
    ($self:ident, |$ex:ident| $body:expr) => {
        $self
            .0
            .lookup(job(move |$ex| Box::pin(async move { $body.await })))
            .await
    };
}

/// `read!(self, |ex| ops::f(ex, args…))`.
macro_rules! read {
    ($self:ident, |$ex:ident| $body:expr) => {
        $self
            .0
            .read(job(move |$ex| Box::pin(async move { $body.await })))
            .await
    };
}

#[async_trait]
impl<B: Backend> Store for Db<B> {
    async fn close(&self) -> StoreResult<()> {
        self.0.close().await
    }
    async fn create_app(&self, new: NewApp) -> StoreResult<App> {
        write!(self, |ex| apps::create_app(ex, new))
    }
    async fn app_by_key(&self, key: &AppKey) -> StoreResult<Option<App>> {
        let key = key.clone();
        lookup!(self, |ex| apps::app_by_key(ex, &key))
    }
    async fn apps(&self) -> StoreResult<Vec<App>> {
        read!(self, |ex| apps::apps(ex))
    }
    async fn set_require_sign(&self, key: &AppKey, on: bool) -> StoreResult<Option<App>> {
        let key = key.clone();
        write!(self, |ex| apps::set_require_sign(ex, &key, on))
    }
    async fn set_registration(&self, app: AppId, policy: Registration) -> StoreResult<Option<App>> {
        write!(self, |ex| apps::set_registration(ex, app, policy))
    }
    async fn set_limits(&self, app: AppId, limits: Option<Value>) -> StoreResult<Option<App>> {
        write!(self, |ex| apps::set_limits(ex, app, limits))
    }

    async fn set_before_send(&self, app: AppId, hook: Option<Value>) -> StoreResult<Option<App>> {
        write!(self, |ex| apps::set_before_send(ex, app, hook))
    }

    async fn prune_events(
        &self,
        keep: i64,
        older_than: Option<Timestamp>,
        after: MemberId,
        members: u32,
    ) -> StoreResult<(u64, Option<MemberId>)> {
        write!(self, |ex| crate::ops::prune::prune_events(
            ex, keep, older_than, after, members
        ))
    }

    async fn prune_outbox(&self, before: Timestamp, batch: u32) -> StoreResult<u64> {
        write!(self, |ex| crate::ops::prune::prune_outbox(
            ex, before, batch
        ))
    }
    async fn set_presence(
        &self,
        node: &str,
        until: Timestamp,
        online: Vec<MemberId>,
        offline: Vec<MemberId>,
    ) -> StoreResult<()> {
        let node = node.to_owned();
        write!(self, |ex| crate::ops::presence::set_presence(
            ex, node, until, online, offline
        ))
    }
    async fn remove_nodes(&self, node: Option<&str>, before: Timestamp) -> StoreResult<u64> {
        let node = node.map(str::to_owned);
        write!(self, |ex| crate::ops::presence::remove_nodes(
            ex, node, before
        ))
    }
    async fn set_member_tokens(
        &self,
        app: AppId,
        policy: MemberTokens,
    ) -> StoreResult<Option<App>> {
        write!(self, |ex| apps::set_member_tokens(ex, app, policy))
    }
    async fn rotate_secret(
        &self,
        app: AppId,
        new_secret: AppSecret,
        previous_until: Timestamp,
    ) -> StoreResult<Option<App>> {
        write!(self, |ex| apps::rotate_secret(
            ex,
            app,
            new_secret,
            previous_until
        ))
    }
    async fn use_server_token(
        &self,
        app: AppId,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let jti = jti.to_owned();
        write!(self, |ex| apps::use_server_token(
            ex, app, &jti, expires_at, now
        ))
    }

    async fn create_member(&self, app: AppId, new: NewMember) -> StoreResult<Member> {
        write!(self, |ex| members::create_member(ex, app, new))
    }
    async fn member(&self, app: AppId, by: MemberRef<'_>) -> StoreResult<Option<Member>> {
        let by = OwnedRef::new(by);
        lookup!(self, |ex| members::member(ex, app, by.get()))
    }
    async fn members_by_uuids(&self, app: AppId, uuids: &[MemberUuid]) -> StoreResult<Vec<Member>> {
        let uuids = uuids.to_vec();
        lookup!(self, |ex| members::members_by_uuids(ex, app, &uuids))
    }
    async fn members_by_external_ids(
        &self,
        app: AppId,
        ids: &[String],
    ) -> StoreResult<Vec<Member>> {
        let ids = ids.to_vec();
        lookup!(self, |ex| members::members_by_external_ids(ex, app, &ids))
    }
    async fn credentials(&self, app: AppId, name: &str) -> StoreResult<Option<Credentials>> {
        let name = name.to_owned();
        lookup!(self, |ex| logins::credentials(ex, app, &name))
    }
    async fn count_login_attempt(
        &self,
        app: AppId,
        m: MemberId,
        lockout: Lockout,
        now: Timestamp,
    ) -> StoreResult<LoginAttempt> {
        write!(self, |ex| logins::count_login_attempt(
            ex, app, m, lockout, now
        ))
    }
    async fn reset_failed_logins(&self, app: AppId, m: MemberId) -> StoreResult<()> {
        write!(self, |ex| logins::reset_failed_logins(ex, app, m))
    }
    async fn set_banned(
        &self,
        app: AppId,
        m: MemberId,
        ban: Option<Ban>,
        now: Timestamp,
    ) -> StoreResult<Option<Member>> {
        write!(self, |ex| members::set_banned(ex, app, m, ban, now))
    }
    async fn set_muted(
        &self,
        app: AppId,
        m: MemberId,
        mute: Option<Option<Timestamp>>,
        now: Timestamp,
    ) -> StoreResult<Option<Member>> {
        write!(self, |ex| members::set_muted(ex, app, m, mute, now))
    }
    async fn upsert_member(
        &self,
        app: AppId,
        up: UpsertMember,
    ) -> StoreResult<Option<(Member, Upserted)>> {
        write!(self, |ex| members::upsert_member(ex, app, up))
    }
    async fn members_page(
        &self,
        app: AppId,
        after: Option<MemberId>,
        limit: u32,
    ) -> StoreResult<Page<Member>> {
        read!(self, |ex| members::members_page(ex, app, after, limit))
    }
    async fn create_session(&self, app: AppId, new: NewSession) -> StoreResult<()> {
        write!(self, |ex| members::create_session(ex, app, new))
    }
    async fn session(&self, token: &TokenHash, now: Timestamp) -> StoreResult<Option<SessionInfo>> {
        let token = token.clone();
        lookup!(self, |ex| members::session(ex, &token, now))
    }
    async fn revoke_sessions(&self, app: AppId, member: MemberId) -> StoreResult<u64> {
        write!(self, |ex| members::revoke_sessions(ex, app, member))
    }
    async fn delete_session(&self, token: &TokenHash) -> StoreResult<bool> {
        let token = token.clone();
        write!(self, |ex| members::delete_session(ex, &token))
    }

    async fn send(
        &self,
        app: AppId,
        sender: MemberId,
        to: SendTarget,
        content: NewContent,
        checks: SendChecks,
    ) -> StoreResult<Sent> {
        write!(self, |ex| send::send(ex, app, sender, to, &content, checks))
    }
    async fn send_many(
        &self,
        app: AppId,
        sender: MemberId,
        to: &[MemberId],
        content: NewContent,
        checks: SendChecks,
    ) -> StoreResult<Vec<Result<Sent, Refusal>>> {
        let to = to.to_vec();
        write!(self, |ex| send::send_many(
            ex, app, sender, &to, &content, checks
        ))
    }

    async fn history(
        &self,
        app: AppId,
        viewer: MemberId,
        conversation: ConversationId,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Option<Page<HistoryItem>>> {
        read!(self, |ex| history::history(
            ex,
            app,
            viewer,
            conversation,
            window,
            limit
        ))
    }
    async fn direct_conversation(
        &self,
        app: AppId,
        a: MemberId,
        b: MemberId,
    ) -> StoreResult<Option<ConversationId>> {
        read!(self, |ex| history::direct_conversation(ex, app, a, b))
    }

    async fn mark_read(
        &self,
        app: AppId,
        reader: MemberId,
        conversation: ConversationId,
        target: ReadTarget,
        now: Timestamp,
    ) -> StoreResult<ReadOutcome> {
        write!(self, |ex| reads::mark_read(
            ex,
            app,
            reader,
            conversation,
            target,
            now
        ))
    }
    async fn unread_total(&self, app: AppId, member: MemberId) -> StoreResult<u64> {
        read!(self, |ex| reads::unread_total(ex, app, member))
    }
    async fn unread(
        &self,
        app: AppId,
        member: MemberId,
        query: UnreadQuery,
    ) -> StoreResult<UnreadCounts> {
        read!(self, |ex| reads::unread(ex, app, member, query))
    }
    async fn unread_in(
        &self,
        app: AppId,
        member: MemberId,
        conversation: ConversationId,
    ) -> StoreResult<Option<u32>> {
        read!(self, |ex| reads::unread_in(ex, app, member, conversation))
    }

    async fn conversations(
        &self,
        app: AppId,
        member: MemberId,
        query: ListQuery,
    ) -> StoreResult<Page<ConversationSummary>> {
        read!(self, |ex| conversations::conversations(
            ex, app, member, query
        ))
    }
    async fn conversation_count(
        &self,
        app: AppId,
        member: MemberId,
        kind: Option<ConversationKind>,
    ) -> StoreResult<u64> {
        read!(self, |ex| conversations::conversation_count(
            ex, app, member, kind
        ))
    }
    async fn conversation(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetail>> {
        read!(self, |ex| conversations::conversation(ex, app, viewer, id))
    }
    async fn participants(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<Vec<Profile>>> {
        read!(self, |ex| conversations::participants(ex, app, viewer, id))
    }

    async fn hide_message(
        &self,
        app: AppId,
        member: MemberId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |ex| hide_recall::hide_message(
            ex, app, member, message, now
        ))
    }
    async fn recall(
        &self,
        app: AppId,
        sender: MemberId,
        message: MessageId,
        window: std::time::Duration,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |ex| hide_recall::recall(
            ex, app, sender, message, window, now
        ))
    }

    async fn events_since(
        &self,
        app: AppId,
        member: MemberId,
        after: Position,
        limit: u32,
    ) -> StoreResult<Events> {
        read!(self, |ex| events::events_since(
            ex, app, member, after, limit
        ))
    }

    async fn create_group(&self, app: AppId, new: NewGroup) -> StoreResult<MembershipChange> {
        write!(self, |ex| groups::create_group(ex, app, new))
    }
    async fn add_members(
        &self,
        app: AppId,
        actor: Actor,
        group: ConversationId,
        members: &[MemberId],
        max_members: usize,
        now: Timestamp,
    ) -> StoreResult<MembershipChange> {
        let members = members.to_vec();
        write!(self, |ex| groups::add_members(
            ex,
            app,
            actor,
            group,
            &members,
            max_members,
            now
        ))
    }
    async fn erase_member(
        &self,
        app: AppId,
        member: MemberId,
        username: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<MembershipChange>> {
        let username = username.to_owned();
        write!(self, |ex| groups::erase_member(
            ex, app, member, &username, now
        ))
    }
    async fn remove_member(
        &self,
        app: AppId,
        actor: Actor,
        group: ConversationId,
        member: MemberId,
        now: Timestamp,
    ) -> StoreResult<MembershipChange> {
        write!(self, |ex| groups::remove_member(
            ex, app, actor, group, member, now
        ))
    }

    async fn block(
        &self,
        app: AppId,
        blocker: MemberId,
        blocked: MemberId,
        now: Timestamp,
    ) -> StoreResult<Block> {
        write!(self, |ex| blocks::block(ex, app, blocker, blocked, now))
    }
    async fn unblock(&self, app: AppId, blocker: MemberId, blocked: MemberId) -> StoreResult<bool> {
        write!(self, |ex| blocks::unblock(ex, app, blocker, blocked))
    }
    async fn blocks(
        &self,
        app: AppId,
        blocker: MemberId,
        after: Option<BlockCursor>,
        limit: u32,
    ) -> StoreResult<Page<Block>> {
        read!(self, |ex| blocks::blocks(ex, app, blocker, after, limit))
    }
    async fn set_dm_policy(
        &self,
        app: AppId,
        member: MemberId,
        policy: Option<DmPolicy>,
    ) -> StoreResult<Option<Member>> {
        write!(self, |ex| blocks::set_dm_policy(ex, app, member, policy))
    }
    async fn set_app_dm_policy(&self, app: AppId, policy: DmPolicy) -> StoreResult<Option<App>> {
        write!(self, |ex| blocks::set_app_dm_policy(ex, app, policy))
    }
}

mod safety;
mod webhooks;
