//! The SQLite writer: one OS thread owns the only write connection. Write requests arrive over
//! a channel as boxed closures (command-as-value); the thread takes every request waiting (up
//! to [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction with a savepoint each (so
//! one failure does not sink the others), commits once — one fsync for the whole batch — and
//! only then answers each caller.
//!
//! [`Writer::close`] ends the thread cleanly: writes queued before it still run and commit,
//! later ones are refused, then the WAL is checkpointed into the main file and the connection
//! closed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::Connection;
use sixin_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// The most requests committed together.
const MAX_BATCH: usize = 256;

/// A queued write: run it inside the batch, or fail it without running.
trait Job: Send {
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Done>;
    fn fail(self: Box<Self>, error: String);
}

/// A write that ran; its answer waits for the batch's commit.
trait Done {
    fn succeeded(&self) -> bool;
    fn answer(self: Box<Self>, commit: Result<(), String>);
}

struct Pending<T, F> {
    work: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

struct Ran<T> {
    result: StoreResult<T>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Done> {
        let result = (self.work)(conn);
        Box::new(Ran {
            result,
            reply: self.reply,
        })
    }

    fn fail(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::Unavailable(error)));
    }
}

impl<T: Send> Done for Ran<T> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, commit: Result<(), String>) {
        let result = match commit {
            Ok(()) => self.result,
            Err(e) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
        };
        // The caller may have gone away (request cancelled); the write stands either way.
        let _ = self.reply.send(result);
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite writer has stopped".into())
}

/// What the thread receives: a write, or the request to close.
enum Msg {
    Job(Box<dyn Job>),
    /// Finish what is queued, refuse the rest, checkpoint, close; then answer.
    Close(oneshot::Sender<Result<(), String>>),
}

/// A handle for submitting writes. The thread stops once every handle is gone (the connection
/// then closes as SQLite sees fit) or, cleanly, on [`Writer::close`].
pub(crate) struct Writer {
    tx: mpsc::Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn spawn(conn: Connection) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(4096);
        let thread = std::thread::Builder::new()
            .name("sixin-sqlite-writer".into())
            .spawn(move || run(conn, rx))?;
        Ok(Writer {
            tx,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Lets every write queued so far commit, refuses later ones (`Unavailable`), runs
    /// `PRAGMA wal_checkpoint(TRUNCATE)`, closes the connection and joins the thread. Call it
    /// after every other connection of this store is closed, so the checkpoint is complete and
    /// SQLite removes the `-wal` file. A second call finds the thread gone and returns `Ok`.
    pub(crate) async fn close(&self) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        let outcome = match self.tx.send(Msg::Close(reply)).await {
            // Dropped without an answer: a concurrent close answered its own request.
            Ok(()) => answer.await.unwrap_or(Ok(())),
            Err(_) => Ok(()), // already closed
        };
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|_| "the SQLite writer thread panicked".to_owned())?;
        }
        outcome
    }

    /// Runs `work` in the next batch and returns its result once the batch is committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending { work, reply });
        self.tx.send(Msg::Job(job)).await.map_err(|_| stopped())?;
        // A dropped reply means the job panicked (or the thread died): nothing was committed
        // for it.
        answer.await.map_err(|_| stopped())?
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), String> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.raw_execute())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn run(mut conn: Connection, mut rx: mpsc::Receiver<Msg>) {
    let mut closing = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Job(job) => batch.push(job),
                Msg::Close(reply) => {
                    // Refuse new writes; those already queued are still received below.
                    rx.close();
                    closing.push(reply);
                }
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        if let Err(e) = exec(&conn, "BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "SQLite writer could not begin a transaction");
            batch.into_iter().for_each(|job| job.fail(e.clone()));
            continue;
        }
        let mut done = Vec::with_capacity(batch.len());
        let mut broken = None;
        for job in batch {
            if let Some(e) = &broken {
                job.fail(String::clone(e));
                continue;
            }
            if let Err(e) = exec(&conn, "SAVEPOINT job") {
                broken = Some(e.clone());
                job.fail(e);
                continue;
            }
            let ran = catch_unwind(AssertUnwindSafe(|| job.run(&mut conn)));
            let ok = matches!(&ran, Ok(r) if r.succeeded());
            if ran.is_err() {
                tracing::error!("a SQLite write panicked; its changes are rolled back");
            }
            let end = if ok {
                exec(&conn, "RELEASE job")
            } else {
                exec(&conn, "ROLLBACK TO job").and_then(|()| exec(&conn, "RELEASE job"))
            };
            if let Err(e) = end {
                broken = Some(e);
            }
            if let Ok(ran) = ran {
                done.push(ran);
            }
        }
        let commit = match broken {
            Some(e) => Err(e),
            None => exec(&conn, "COMMIT"),
        };
        if commit.is_err() {
            let _ = exec(&conn, "ROLLBACK");
        }
        tracing::trace!(batch.size = done.len(), "SQLite writer committed a batch");
        for ran in done {
            ran.answer(commit.clone());
        }
    }
    if closing.is_empty() {
        tracing::debug!("SQLite writer stopped: every store handle is gone");
        return;
    }
    let outcome = checkpoint_and_close(conn);
    for reply in closing {
        let _ = reply.send(outcome.clone());
    }
}

/// Copies the whole WAL into the database file, empties the WAL, and closes the connection.
/// With no other connection open, SQLite then deletes the `-wal` and `-shm` files.
fn checkpoint_and_close(conn: Connection) -> Result<(), String> {
    let (busy, log, done): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(|e| format!("checkpoint failed: {e}"))?;
    let checkpoint = if busy != 0 {
        // Another process (an admin command, a backup) is reading: its snapshot keeps the
        // WAL alive. Everything committed is still durable in the WAL.
        Err(format!(
            "checkpoint incomplete ({done} of {log} WAL frames copied): another connection is \
             using the database"
        ))
    } else {
        tracing::debug!(frames = done, "SQLite WAL checkpointed");
        Ok(())
    };
    conn.close()
        .map_err(|(_, e)| format!("closing the connection failed: {e}"))?;
    tracing::debug!("SQLite writer closed");
    checkpoint
}
