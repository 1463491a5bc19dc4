//! The SQLite writer: one OS thread owns the only write connection. Write requests arrive over
//! a channel as boxed closures (command-as-value); the thread takes every request waiting (up
//! to [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction with a savepoint each (so
//! one failure does not sink the others), commits once — one fsync for the whole batch — and
//! only then answers each caller.

use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// A handle for submitting writes. The thread stops once every handle is gone.
pub(crate) struct Writer {
    tx: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn spawn(conn: Connection) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(4096);
        std::thread::Builder::new()
            .name("sixin-sqlite-writer".into())
            .spawn(move || run(conn, rx))?;
        Ok(Writer { tx })
    }

    /// Runs `work` in the next batch and returns its result once the batch is committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending { work, reply });
        self.tx.send(job).await.map_err(|_| stopped())?;
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

fn run(mut conn: Connection, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
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
    tracing::debug!("SQLite writer stopped: every store handle is gone");
}
