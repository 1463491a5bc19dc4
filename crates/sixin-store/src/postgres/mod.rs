//! The PostgreSQL store: a connection pool, one transaction per write. Sends lock their
//! conversation row before drawing a message id, so ids within a conversation grow in commit
//! order even though sequence values are handed out before commit.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sixin_core::ids::{
    AppId, AppKey, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp, TokenHash,
};
use sixin_core::model::{
    App, ConversationDetail, ConversationKind, ConversationSummary, HistoryItem, Member, Page,
    Profile, ReadOutcome, Sent, SessionInfo, UnreadCounts,
};
use sixin_core::store::{
    Events, HistoryWindow, ListQuery, MemberRef, MembershipChange, MessageUpdate, NewApp,
    NewContent, NewGroup, NewMember, NewSession, ReadTarget, SendTarget, Store, StoreError,
    StoreResult,
};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Column, PgConnection, PgPool, Postgres, Row as _, TypeInfo, ValueRef};

use crate::errors::{pg, pg_store};
use crate::exec::{DbResult, Exec, Param, Row, Value};
use crate::ops;
use crate::{OpenError, StoreConfig};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL connection (or transaction) as an [`Exec`].
struct PgExec<'c>(&'c mut PgConnection);

fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    params: &'q [Param],
) -> Query<'q, Postgres, PgArguments> {
    for p in params {
        query = match p {
            Param::Int(v) => query.bind(*v),
            Param::OptInt(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.as_str()),
            Param::OptText(v) => query.bind(v.as_deref()),
            Param::Bool(v) => query.bind(*v),
        };
    }
    query
}

fn value(row: &PgRow, i: usize) -> DbResult<Value> {
    if row.try_get_raw(i).map_err(pg)?.is_null() {
        return Ok(Value::Null);
    }
    let column = &row.columns()[i];
    Ok(match column.type_info().name() {
        "INT8" => Value::Int(row.try_get::<i64, _>(i).map_err(pg)?),
        "INT4" => Value::Int(row.try_get::<i32, _>(i).map_err(pg)?.into()),
        "INT2" => Value::Int(row.try_get::<i16, _>(i).map_err(pg)?.into()),
        "BOOL" => Value::Bool(row.try_get::<bool, _>(i).map_err(pg)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
            Value::Text(row.try_get::<String, _>(i).map_err(pg)?)
        }
        other => {
            return Err(StoreError::Other(
                format!("column `{}` has unsupported type {other}", column.name()).into(),
            )
            .into())
        }
    })
}

#[async_trait]
impl Exec for PgExec<'_> {
    fn lock(&self) -> &'static str {
        " FOR UPDATE"
    }
    fn share(&self) -> &'static str {
        " FOR SHARE OF m"
    }
    async fn rows(&mut self, sql: &str, params: &[Param]) -> DbResult<Vec<Row>> {
        let rows = bind(sqlx::query(sql), params)
            .fetch_all(&mut *self.0)
            .await
            .map_err(pg)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns: Arc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        rows.iter()
            .map(|r| {
                let values = (0..columns.len())
                    .map(|i| value(r, i))
                    .collect::<DbResult<Vec<_>>>()?;
                Ok(Row::new(columns.clone(), values))
            })
            .collect()
    }
    async fn execute(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let done = bind(sqlx::query(sql), params)
            .execute(&mut *self.0)
            .await
            .map_err(pg)?;
        Ok(done.rows_affected())
    }
}

/// The PostgreSQL backend.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `cfg.url` (with `search_path` set to `cfg.pg_schema` when given) and
    /// migrates. Several nodes may start at once: sqlx serialises migrations with an advisory
    /// lock.
    pub async fn open(cfg: &StoreConfig) -> Result<Self, OpenError> {
        let mut opts =
            PgConnectOptions::from_str(&cfg.url).map_err(|e| OpenError::BadUrl(e.to_string()))?;
        if let Some(schema) = &cfg.pg_schema {
            opts = opts.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(cfg.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate(e.to_string()))?;
        Ok(PgStore { pool })
    }

    async fn reader(&self) -> StoreResult<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(pg_store)
    }
}

/// Runs a write in its own transaction: `write!(self, |ex| ops::f(ex, args…))`.
macro_rules! write {
    ($self:ident, |$ex:ident| $body:expr) => {{
        let mut tx = $self.pool.begin().await.map_err(pg_store)?;
        let out = {
            let $ex: &mut dyn Exec = &mut PgExec(&mut tx);
            $body.await?
        };
        tx.commit().await.map_err(pg_store)?;
        Ok(out)
    }};
}

/// Runs a read on a pooled connection: `read!(self, |ex| ops::f(ex, args…))`.
macro_rules! read {
    ($self:ident, |$ex:ident| $body:expr) => {{
        let mut conn = $self.reader().await?;
        let $ex: &mut dyn Exec = &mut PgExec(&mut conn);
        $body.await
    }};
}

#[async_trait]
impl Store for PgStore {
    async fn create_app(&self, new: NewApp) -> StoreResult<App> {
        write!(self, |ex| ops::create_app(ex, new))
    }
    async fn app_by_key(&self, key: &AppKey) -> StoreResult<Option<App>> {
        read!(self, |ex| ops::app_by_key(ex, key))
    }
    async fn apps(&self) -> StoreResult<Vec<App>> {
        read!(self, |ex| ops::apps(ex))
    }
    async fn set_require_sign(&self, key: &AppKey, on: bool) -> StoreResult<Option<App>> {
        let key = key.clone();
        write!(self, |ex| ops::set_require_sign(ex, &key, on))
    }
    async fn create_member(&self, app: AppId, new: NewMember) -> StoreResult<Member> {
        write!(self, |ex| ops::create_member(ex, app, new))
    }
    async fn member(&self, app: AppId, by: MemberRef<'_>) -> StoreResult<Option<Member>> {
        read!(self, |ex| ops::member(ex, app, by))
    }
    async fn members_by_uuids(&self, app: AppId, uuids: &[MemberUuid]) -> StoreResult<Vec<Member>> {
        read!(self, |ex| ops::members_by_uuids(ex, app, uuids))
    }
    async fn credentials(
        &self,
        app: AppId,
        username: &str,
    ) -> StoreResult<Option<(Member, String)>> {
        read!(self, |ex| ops::credentials(ex, app, username))
    }
    async fn set_banned(
        &self,
        app: AppId,
        member: MemberId,
        banned: bool,
    ) -> StoreResult<Option<Member>> {
        write!(self, |ex| ops::set_banned(ex, app, member, banned))
    }
    async fn create_session(&self, app: AppId, new: NewSession) -> StoreResult<()> {
        write!(self, |ex| ops::create_session(ex, app, new))
    }
    async fn session(&self, token: &TokenHash, now: Timestamp) -> StoreResult<Option<SessionInfo>> {
        read!(self, |ex| ops::session(ex, token, now))
    }
    async fn delete_session(&self, token: &TokenHash) -> StoreResult<bool> {
        let token = token.clone();
        write!(self, |ex| ops::delete_session(ex, &token))
    }
    async fn send(
        &self,
        app: AppId,
        sender: MemberId,
        to: SendTarget,
        content: NewContent,
    ) -> StoreResult<Sent> {
        write!(self, |ex| ops::send(ex, app, sender, to, &content))
    }
    async fn send_many(
        &self,
        app: AppId,
        sender: MemberId,
        recipients: &[MemberId],
        content: NewContent,
    ) -> StoreResult<Vec<Sent>> {
        let recipients = recipients.to_vec();
        write!(self, |ex| ops::send_many(
            ex,
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
        read!(self, |ex| ops::history(
            ex,
            app,
            viewer,
            conversation,
            window,
            limit,
        ))
    }
    async fn direct_conversation(
        &self,
        app: AppId,
        a: MemberId,
        b: MemberId,
    ) -> StoreResult<Option<ConversationId>> {
        read!(self, |ex| ops::direct_conversation(ex, app, a, b))
    }
    async fn mark_read(
        &self,
        app: AppId,
        reader: MemberId,
        conversation: ConversationId,
        target: ReadTarget,
        now: Timestamp,
    ) -> StoreResult<ReadOutcome> {
        write!(self, |ex| ops::mark_read(
            ex,
            app,
            reader,
            conversation,
            target,
            now
        ))
    }
    async fn unread(&self, app: AppId, member: MemberId) -> StoreResult<UnreadCounts> {
        read!(self, |ex| ops::unread(ex, app, member))
    }
    async fn conversations(
        &self,
        app: AppId,
        member: MemberId,
        query: ListQuery,
    ) -> StoreResult<Page<ConversationSummary>> {
        read!(self, |ex| ops::conversations(ex, app, member, query))
    }
    async fn conversation_count(
        &self,
        app: AppId,
        member: MemberId,
        kind: Option<ConversationKind>,
    ) -> StoreResult<u64> {
        read!(self, |ex| ops::conversation_count(ex, app, member, kind))
    }
    async fn conversation(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetail>> {
        read!(self, |ex| ops::conversation(ex, app, viewer, id))
    }
    async fn participants(
        &self,
        app: AppId,
        viewer: MemberId,
        id: ConversationId,
    ) -> StoreResult<Option<Vec<Profile>>> {
        read!(self, |ex| ops::participants(ex, app, viewer, id))
    }
    async fn hide_message(
        &self,
        app: AppId,
        member: MemberId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |ex| ops::hide_message(ex, app, member, message, now))
    }
    async fn events_since(
        &self,
        app: AppId,
        member: MemberId,
        after: Position,
        limit: u32,
    ) -> StoreResult<Events> {
        read!(self, |ex| crate::events::events_since(
            ex, app, member, after, limit
        ))
    }
    async fn recall(
        &self,
        app: AppId,
        sender: MemberId,
        message: MessageId,
        not_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<MessageUpdate> {
        write!(self, |ex| ops::recall(
            ex, app, sender, message, not_before, now
        ))
    }
    async fn create_group(&self, app: AppId, new: NewGroup) -> StoreResult<MembershipChange> {
        write!(self, |ex| ops::create_group(ex, app, new))
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
        write!(self, |ex| ops::add_members(
            ex,
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
        write!(self, |ex| ops::remove_member(
            ex, app, actor, group, member, now
        ))
    }
}
