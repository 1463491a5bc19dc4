//! The SQLite store: one file in WAL mode with `synchronous=FULL`. Writes go through the single
//! [`writer`] task, which commits concurrent writes together; reads use a pool of connections.

mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sixin_core::ids::{
    AppId, AppKey, ConversationId, MemberId, MemberUuid, MessageId, Timestamp, TokenHash,
};
use sixin_core::model::{
    App, ConversationDetail, ConversationKind, ConversationSummary, HistoryItem, Member, Page,
    Profile, ReadOutcome, Sent, SessionInfo, UnreadCounts,
};
use sixin_core::store::{
    HistoryWindow, ListQuery, MemberRef, MembershipChange, MessageUpdate, NewApp, NewContent,
    NewGroup, NewMember, NewSession, ReadTarget, SendTarget, Store, StoreResult,
};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Sqlite, SqlitePool};

use crate::errors::db;
use crate::{OpenError, StoreConfig};

mod ops {
    type Conn = sqlx::SqliteConnection;
    // The single writer serialises every write, so no row locks are needed.
    crate::ops::store_ops!(lock = "", share = "");
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite backend.
pub struct SqliteStore {
    writer: writer::Writer,
    read: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `cfg.url`.
    pub async fn open(cfg: &StoreConfig) -> Result<Self, OpenError> {
        let opts = SqliteConnectOptions::from_str(&cfg.url)
            .map_err(|e| OpenError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let mut conn = opts
            .connect()
            .await
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| OpenError::Migrate(e.to_string()))?;
        let read = SqlitePoolOptions::new()
            .max_connections(cfg.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        Ok(SqliteStore {
            writer: writer::Writer::spawn(conn),
            read,
        })
    }

    async fn reader(&self) -> StoreResult<PoolConnection<Sqlite>> {
        self.read.acquire().await.map_err(db)
    }
}

/// Runs a write closure on the writer: `write!(self, |conn| ops::f(conn, args…))`.
macro_rules! write {
    ($self:ident, |$conn:ident| $body:expr) => {
        $self
            .writer
            .write(move |$conn| Box::pin(async move { $body.await }))
            .await
    };
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_app(&self, new: NewApp) -> StoreResult<App> {
        write!(self, |c| ops::create_app(c, new))
    }
    async fn app_by_key(&self, key: &AppKey) -> StoreResult<Option<App>> {
        ops::app_by_key(&mut *self.reader().await?, key).await
    }
    async fn apps(&self) -> StoreResult<Vec<App>> {
        ops::apps(&mut *self.reader().await?).await
    }
    async fn set_require_sign(&self, key: &AppKey, on: bool) -> StoreResult<Option<App>> {
        let key = key.clone();
        write!(self, |c| ops::set_require_sign(c, &key, on))
    }
    async fn create_member(&self, app: AppId, new: NewMember) -> StoreResult<Member> {
        write!(self, |c| ops::create_member(c, app, new))
    }
    async fn member(&self, app: AppId, by: MemberRef<'_>) -> StoreResult<Option<Member>> {
        ops::member(&mut *self.reader().await?, app, by).await
    }
    async fn members_by_uuids(&self, app: AppId, uuids: &[MemberUuid]) -> StoreResult<Vec<Member>> {
        ops::members_by_uuids(&mut *self.reader().await?, app, uuids).await
    }
    async fn credentials(
        &self,
        app: AppId,
        username: &str,
    ) -> StoreResult<Option<(Member, String)>> {
        ops::credentials(&mut *self.reader().await?, app, username).await
    }
    async fn set_banned(
        &self,
        app: AppId,
        member: MemberId,
        banned: bool,
    ) -> StoreResult<Option<Member>> {
        write!(self, |c| ops::set_banned(c, app, member, banned))
    }
    async fn create_session(&self, app: AppId, new: NewSession) -> StoreResult<()> {
        write!(self, |c| ops::create_session(c, app, new))
    }
    async fn session(&self, token: &TokenHash, now: Timestamp) -> StoreResult<Option<SessionInfo>> {
        ops::session(&mut *self.reader().await?, token, now).await
    }
    async fn delete_session(&self, token: &TokenHash) -> StoreResult<bool> {
        let token = token.clone();
        write!(self, |c| ops::delete_session(c, &token))
    }
    async fn send(
        &self,
        app: AppId,
        sender: MemberId,
        to: SendTarget,
        content: NewContent,
    ) -> StoreResult<Sent> {
        write!(self, |c| ops::send(c, app, sender, to, &content))
    }
    async fn send_many(
        &self,
        app: AppId,
        sender: MemberId,
        recipients: &[MemberId],
        content: NewContent,
    ) -> StoreResult<Vec<Sent>> {
        let recipients = recipients.to_vec();
        write!(self, |c| ops::send_many(
            c,
            app,
            sender,
            &recipients,
            &content
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
        ops::history(
            &mut *self.reader().await?,
            app,
            viewer,
            conversation,
            window,
            limit,
        )
        .await
    }
    async fn direct_conversation(
        &self,
        app: AppId,
        a: MemberId,
        b: MemberId,
    ) -> StoreResult<Option<ConversationId>> {
        ops::direct_conversation(&mut *self.reader().await?, app, a, b).await
    }
    async fn mark_read(
        &self,
        app: AppId,
        reader: MemberId,
        conversation: ConversationId,
        target: ReadTarget,
        now: Timestamp,
    ) -> StoreResult<ReadOutcome> {
        write!(self, |c| ops::mark_read(
            c,
            app,
            reader,
            conversation,
            target,
            now
        ))
    }
    async fn unread(&self, app: AppId, member: MemberId) -> StoreResult<UnreadCounts> {
        ops::unread(&mut *self.reader().await?, app, member).await
    }
    async fn conversations(
        &self,
        app: AppId,
        member: MemberId,
        query: ListQuery,
    ) -> StoreResult<Page<ConversationSummary>> {
        ops::conversations(&mut *self.reader().await?, app, member, query).await
    }
    async fn conversation_count(
        &self,
        app: AppId,
        member: MemberId,
        kind: Option<ConversationKind>,
    ) -> StoreResult<u64> {
        ops::conversation_count(&mut *self.reader().await?, app, member, kind).await
    }
    async fn conversation(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetail>> {
        ops::conversation(&mut *self.reader().await?, app, viewer, id).await
    }
    async fn participants(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<Vec<Profile>>> {
        ops::participants(&mut *self.reader().await?, app, viewer, id).await
    }
    async fn hide_message(
        &self,
        app: AppId,
        member: MemberId,
        message: MessageId,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |c| ops::hide_message(c, app, member, message))
    }
    async fn recall(
        &self,
        app: AppId,
        sender: MemberId,
        message: MessageId,
        not_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |c| ops::recall(
            c, app, sender, message, not_before, now
        ))
    }
    async fn create_group(&self, app: AppId, new: NewGroup) -> StoreResult<MembershipChange> {
        write!(self, |c| ops::create_group(c, app, new))
    }
    async fn add_members(
        &self,
        app: AppId,
        actor: MemberId,
        group: ConversationId,
        members: &[MemberId],
        max_members: usize,
        now: Timestamp,
    ) -> StoreResult<MembershipChange> {
        let members = members.to_vec();
        write!(self, |c| ops::add_members(
            c,
            app,
            actor,
            group,
            &members,
            max_members,
            now
        ))
    }
    async fn remove_member(
        &self,
        app: AppId,
        actor: MemberId,
        group: ConversationId,
        member: MemberId,
        now: Timestamp,
    ) -> StoreResult<MembershipChange> {
        write!(self, |c| ops::remove_member(
            c, app, actor, group, member, now
        ))
    }
}
