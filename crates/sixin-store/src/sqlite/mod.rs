//! The SQLite store (`rusqlite`): one file in WAL mode with `synchronous=FULL`. Writes go
//! through the single [`writer`] thread, which commits concurrent writes together; reads run
//! on a few reader threads, each owning a connection.

mod exec;
mod migrate;
mod writer;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::executor::block_on;
use rusqlite::Connection;
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
use tokio::sync::oneshot;

use self::exec::LiteExec;
use crate::exec::Exec;
use crate::ops;
use crate::{OpenError, StoreConfig};

/// Reader threads at most: SQLite reads are short and CPU-bound; more threads than this only
/// compete with the writer.
const MAX_READERS: u32 = 4;

type ReadJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The SQLite backend.
pub struct SqliteStore {
    writer: writer::Writer,
    readers: mpsc::Sender<ReadJob>,
}

/// The file named by a `sqlite:` URL: `sqlite://PATH`, `sqlite:PATH` or `sqlite:///ABS/PATH`;
/// a query string (`?mode=rwc`) is ignored — the file is always created if missing.
fn path_of(url: &str) -> Result<String, OpenError> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| OpenError::BadUrl(format!("`{url}` is not a sqlite: URL")))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(OpenError::BadUrl(format!("`{url}` names no file")));
    }
    if path == ":memory:" {
        return Err(OpenError::BadUrl(
            "in-memory SQLite is not supported: use sqlite://PATH".into(),
        ));
    }
    Ok(path.to_owned())
}

/// Opens a connection with the store's settings.
fn connect(path: &str, reader: bool) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    conn.set_prepared_statement_cache_capacity(exec::STATEMENT_CACHE);
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "cannot switch the database to WAL mode (got {mode})"
        ));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(|e| e.to_string())?;
    if reader {
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(|e| e.to_string())?;
    }
    Ok(conn)
}

fn spawn_reader(
    index: u32,
    mut conn: Connection,
    jobs: Arc<Mutex<mpsc::Receiver<ReadJob>>>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("sixin-sqlite-reader-{index}"))
        .spawn(move || loop {
            let job = match jobs.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else {
                return; // every store handle is gone
            };
            // A panicking read drops its reply (the caller sees `Unavailable`); the thread
            // and its connection stay usable.
            if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
                tracing::error!("a SQLite read panicked");
            }
        })
        .map(|_| ())
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `cfg.url`.
    pub async fn open(cfg: &StoreConfig) -> Result<Self, OpenError> {
        let path = path_of(&cfg.url)?;
        let readers = cfg.max_connections.clamp(1, MAX_READERS);
        let opened = tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path, false).map_err(OpenError::Connect)?;
            migrate::run(&mut writer).map_err(OpenError::Migrate)?;
            let readers = (0..readers)
                .map(|_| connect(&path, true).map_err(OpenError::Connect))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, OpenError>((writer, readers))
        })
        .await
        .map_err(|e| OpenError::Connect(e.to_string()))?;
        let (writer, reader_conns) = opened?;
        let (tx, rx) = mpsc::channel::<ReadJob>();
        let rx = Arc::new(Mutex::new(rx));
        for (i, conn) in (0..).zip(reader_conns) {
            spawn_reader(i, conn, rx.clone()).map_err(|e| OpenError::Connect(e.to_string()))?;
        }
        Ok(SqliteStore {
            writer: writer::Writer::spawn(writer).map_err(|e| OpenError::Connect(e.to_string()))?,
            readers: tx,
        })
    }

    /// Runs `work` on a reader thread.
    async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        let stopped = || StoreError::Unavailable("the SQLite readers have stopped".into());
        self.readers.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Runs a write on the writer thread: `write!(self, |ex| ops::f(ex, args…))`. Arguments are
/// moved into the job, so borrowed ones must be made owned first.
macro_rules! write {
    ($self:ident, |$ex:ident| $body:expr) => {
        $self
            .writer
            .write(move |conn| {
                let $ex: &mut dyn Exec = &mut LiteExec(conn);
                block_on($body)
            })
            .await
    };
}

/// Runs a read on a reader thread: `read!(self, |ex| ops::f(ex, args…))`.
macro_rules! read {
    ($self:ident, |$ex:ident| $body:expr) => {
        $self
            .read(move |conn| {
                let $ex: &mut dyn Exec = &mut LiteExec(conn);
                block_on($body)
            })
            .await
    };
}

/// An owned [`MemberRef`], to move into a read job.
enum OwnedRef {
    Id(MemberId),
    Uuid(MemberUuid),
    Username(String),
}

impl OwnedRef {
    fn new(by: MemberRef<'_>) -> Self {
        match by {
            MemberRef::Id(id) => OwnedRef::Id(id),
            MemberRef::Uuid(u) => OwnedRef::Uuid(u.clone()),
            MemberRef::Username(u) => OwnedRef::Username(u.to_owned()),
        }
    }

    fn get(&self) -> MemberRef<'_> {
        match self {
            OwnedRef::Id(id) => MemberRef::Id(*id),
            OwnedRef::Uuid(u) => MemberRef::Uuid(u),
            OwnedRef::Username(u) => MemberRef::Username(u),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_app(&self, new: NewApp) -> StoreResult<App> {
        write!(self, |ex| ops::create_app(ex, new))
    }
    async fn app_by_key(&self, key: &AppKey) -> StoreResult<Option<App>> {
        let key = key.clone();
        read!(self, |ex| ops::app_by_key(ex, &key))
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
        let by = OwnedRef::new(by);
        read!(self, |ex| ops::member(ex, app, by.get()))
    }
    async fn members_by_uuids(&self, app: AppId, uuids: &[MemberUuid]) -> StoreResult<Vec<Member>> {
        let uuids = uuids.to_vec();
        read!(self, |ex| ops::members_by_uuids(ex, app, &uuids))
    }
    async fn credentials(
        &self,
        app: AppId,
        username: &str,
    ) -> StoreResult<Option<(Member, String)>> {
        let username = username.to_owned();
        read!(self, |ex| ops::credentials(ex, app, &username))
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
        let token = token.clone();
        read!(self, |ex| ops::session(ex, &token, now))
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
            limit
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

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn sqlite_urls_name_files() {
        assert_eq!(path_of("sqlite://sixin.db").unwrap(), "sixin.db");
        assert_eq!(path_of("sqlite:sixin.db").unwrap(), "sixin.db");
        assert_eq!(path_of("sqlite:///abs/x.db").unwrap(), "/abs/x.db");
        assert_eq!(path_of("sqlite://x.db?mode=rwc").unwrap(), "x.db");
        assert!(path_of("sqlite://").is_err());
        assert!(path_of("sqlite::memory:").is_err());
    }
}
