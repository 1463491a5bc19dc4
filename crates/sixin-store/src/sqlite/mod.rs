//! The SQLite store (`rusqlite`): one file in WAL mode with `synchronous=FULL`. Writes go
//! through the single [`writer`] thread, which commits concurrent writes together; reads run
//! on a few reader threads, each owning a connection, except look-ups by an index, which run on
//! the caller's thread with a connection of their own (see [`SqliteStore::lookup_here`]).
//! [`SqliteStore`]'s `close` ends the readers, then the writer, which checkpoints the WAL into
//! the main file: after a clean stop the database file alone holds everything.

mod backup;
mod exec;
mod lock;
mod migrate;
mod writer;

pub use backup::{backup, verify, BackupError, Verified};
pub use lock::{lock_for_serving, ServeLock, ServeLockError};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::executor::block_on;
use rusqlite::Connection;
use sixin_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

use self::exec::LiteExec;
use crate::engine::{Backend, Db, Job};
use crate::{OpenError, StoreConfig};

/// Reader threads at most: SQLite reads are short and CPU-bound; more threads than this only
/// compete with the writer.
const MAX_READERS: u32 = 4;

type ReadJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The SQLite backend.
pub(crate) struct SqliteStore {
    writer: writer::Writer,
    /// `None` once closed: reads are refused.
    readers: Mutex<Option<mpsc::Sender<ReadJob>>>,
    reader_threads: Mutex<Vec<JoinHandle<()>>>,
    /// Idle connections for look-ups on the caller's thread; `None` once closed.
    lookups: Mutex<Option<Vec<Connection>>>,
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
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("sixin-sqlite-reader-{index}"))
        .spawn(move || loop {
            let job = match jobs.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else {
                return; // closed, or every store handle is gone: the connection closes
            };
            // A panicking read drops its reply (the caller sees `Unavailable`); the thread
            // and its connection stay usable.
            if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
                tracing::error!("a SQLite read panicked");
            }
        })
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `cfg.url`.
    pub(crate) async fn open(cfg: &StoreConfig) -> Result<Db<Self>, OpenError> {
        let path = path_of(&cfg.url)?;
        let readers = cfg.max_connections.clamp(1, MAX_READERS) as usize;
        let opened = tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path, false).map_err(OpenError::Connect)?;
            migrate::run(&mut writer).map_err(OpenError::Migrate)?;
            let open_readers = |n| {
                (0..n)
                    .map(|_| connect(&path, true).map_err(OpenError::Connect))
                    .collect::<Result<Vec<_>, _>>()
            };
            // As many look-up connections as reader threads: beyond that, look-ups queue
            // for the readers like any read.
            let (readers, lookups) = (open_readers(readers)?, open_readers(readers)?);
            Ok::<_, OpenError>((writer, readers, lookups))
        })
        .await
        .map_err(|e| OpenError::Connect(e.to_string()))?;
        let (writer, reader_conns, lookups) = opened?;
        let (tx, rx) = mpsc::channel::<ReadJob>();
        let rx = Arc::new(Mutex::new(rx));
        let mut threads = Vec::new();
        for (i, conn) in (0..).zip(reader_conns) {
            threads.push(
                spawn_reader(i, conn, rx.clone()).map_err(|e| OpenError::Connect(e.to_string()))?,
            );
        }
        Ok(Db(SqliteStore {
            writer: writer::Writer::spawn(writer).map_err(|e| OpenError::Connect(e.to_string()))?,
            readers: Mutex::new(Some(tx)),
            reader_threads: Mutex::new(threads),
            lookups: Mutex::new(Some(lookups)),
        }))
    }

    /// Refuses new reads, lets the queued ones finish and joins the reader threads (closing
    /// their connections); then closes the writer, which commits what is queued, checkpoints
    /// the WAL and closes the last connection.
    async fn shut(&self) -> StoreResult<()> {
        // Idle look-up connections close now; one in use closes when its look-up ends.
        drop(self.lookups.lock().map(|mut l| l.take()).ok().flatten());
        let senders = self.readers.lock().map(|mut r| r.take()).ok().flatten();
        drop(senders);
        let threads = self
            .reader_threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            for thread in threads {
                if thread.join().is_err() {
                    tracing::error!("a SQLite reader thread panicked");
                }
            }
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.writer.close().await.map_err(StoreError::Unavailable)
    }

    /// Runs `work` on a reader thread.
    async fn on_reader<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        let stopped = || StoreError::Unavailable("the SQLite readers have stopped".into());
        {
            let readers = self.readers.lock().map_err(|_| stopped())?;
            readers
                .as_ref()
                .ok_or_else(stopped)?
                .send(job)
                .map_err(|_| stopped())?;
        }
        answer.await.map_err(|_| stopped())?
    }
}

impl SqliteStore {
    /// Runs a look-up on the calling thread with an idle look-up connection, or, when every one
    /// is in use, on a reader thread. A look-up reads a few rows by an index (tens of
    /// microseconds): handing it to a reader thread and waking the caller again cost more than
    /// the read itself (two thread switches per read, three reads per send), so the caller's
    /// thread runs it, blocking only for that long. Longer reads stay on the reader threads.
    async fn lookup_here<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        let idle = self
            .lookups
            .lock()
            .ok()
            .and_then(|mut l| l.as_mut().and_then(Vec::pop));
        let Some(mut conn) = idle else {
            return self.read(job).await;
        };
        let done = catch_unwind(AssertUnwindSafe(|| block_on(job(&mut LiteExec(&mut conn)))));
        if let Ok(mut lookups) = self.lookups.lock() {
            if let Some(idle) = lookups.as_mut() {
                idle.push(conn);
            }
        }
        done.unwrap_or_else(|_| {
            tracing::error!("a SQLite look-up panicked");
            Err(StoreError::Unavailable("a SQLite look-up panicked".into()))
        })
    }
}

/// Jobs run on a thread that owns its connection; the job's future only awaits that
/// connection, so `block_on` completes it without a runtime.
impl Backend for SqliteStore {
    async fn read<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        self.on_reader(move |conn| block_on(job(&mut LiteExec(conn))))
            .await
    }

    async fn lookup<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        self.lookup_here(job).await
    }

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> StoreResult<T> {
        self.writer
            .write(move |conn| block_on(job(&mut LiteExec(conn))))
            .await
    }

    async fn close(&self) -> StoreResult<()> {
        self.shut().await
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;
    use crate::{open, StoreConfig};
    use sixin_core::ids::{AppKey, AppSecret, Timestamp};
    use sixin_core::store::NewApp;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_leaves_everything_in_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.db");
        let store = open(&StoreConfig::new(format!("sqlite://{}", file.display())))
            .await
            .unwrap();
        for i in 0..20 {
            store
                .create_app(NewApp {
                    key: AppKey::parse(&format!("{i:032X}")).unwrap(),
                    secret: AppSecret("s".into()),
                    name: format!("app {i}"),
                    require_sign: false,
                    created_at: Timestamp(0),
                })
                .await
                .unwrap();
        }
        store.close().await.unwrap();
        store.close().await.unwrap();
        assert!(store.apps().await.is_err(), "reads after close");
        let key = AppKey::parse(&format!("{:032X}", 1)).unwrap();
        assert!(
            store.app_by_key(&key).await.is_err(),
            "look-ups after close"
        );
        let wal = std::fs::metadata(dir.path().join("c.db-wal")).map_or(0, |m| m.len());
        assert_eq!(wal, 0, "the WAL was not checkpointed");
        assert!(!dir.path().join("c.db-shm").exists());
        let elsewhere = tempfile::tempdir().unwrap();
        let copy = elsewhere.path().join("copy.db");
        std::fs::copy(&file, &copy).unwrap();
        let n: i64 = rusqlite::Connection::open(&copy)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM apps", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 20);
    }

    /// More threads looking up at once than there are look-up connections: those without one
    /// fall back to the reader threads, and every look-up answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lookups_from_more_threads_than_connections_all_answer() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("l.db").display());
        let mut cfg = StoreConfig::new(url);
        cfg.max_connections = 2;
        let store = open(&cfg).await.unwrap();
        let key = AppKey::parse(&format!("{:032X}", 7)).unwrap();
        let app = store
            .create_app(NewApp {
                key: key.clone(),
                secret: AppSecret("s".into()),
                name: "looked up".into(),
                require_sign: false,
                created_at: Timestamp(0),
            })
            .await
            .unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (store, key) = (store.clone(), key.clone());
                let rt = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    (0..200)
                        .map(|_| rt.block_on(store.app_by_key(&key)).unwrap().unwrap().id)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for t in threads {
            assert!(t.await.unwrap().iter().all(|id| *id == app.id));
        }
        store.close().await.unwrap();
    }

    /// A look-up takes an idle look-up connection and gives it back; with none idle it is
    /// answered by a reader thread, and the taken connections are left as they were.
    #[tokio::test]
    async fn lookups_use_their_own_connections_and_fall_back_to_the_readers() {
        use crate::engine::{Backend, Job};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("f.db").display());
        let mut cfg = StoreConfig::new(url);
        cfg.max_connections = 2;
        let db = super::SqliteStore::open(&cfg).await.unwrap();
        let idle = |db: &crate::engine::Db<super::SqliteStore>| {
            db.0.lookups.lock().unwrap().as_ref().map_or(0, Vec::len)
        };
        let count = || -> Job<i64> {
            Box::new(|ex| {
                Box::pin(async move {
                    let rows = ex.all("SELECT COUNT(*) AS n FROM apps", &[]).await?;
                    rows[0].i64("n")
                })
            })
        };
        assert_eq!(idle(&db), 2);
        assert_eq!(db.0.lookup(count()).await.unwrap(), 0);
        assert_eq!(idle(&db), 2, "the connection went back");
        let taken: Vec<_> = std::mem::take(db.0.lookups.lock().unwrap().as_mut().unwrap());
        assert_eq!(
            db.0.lookup(count()).await.unwrap(),
            0,
            "answered by a reader"
        );
        assert_eq!(idle(&db), 0);
        db.0.lookups.lock().unwrap().as_mut().unwrap().extend(taken);
        db.0.close().await.unwrap();
        assert_eq!(idle(&db), 0, "closed");
        assert!(db.0.lookup(count()).await.is_err(), "refused after close");
    }

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
