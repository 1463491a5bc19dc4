//! The SQLite writer: one task owns the only write connection. Write requests arrive over a
//! channel as boxed closures (command-as-value); the task takes every request waiting, runs
//! them in one transaction with a savepoint each (so one failure does not sink the others),
//! commits once — one fsync for the whole batch — and only then answers each caller.

use futures::future::BoxFuture;
use sixin_core::store::{StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

/// The most requests committed together.
const MAX_BATCH: usize = 256;

/// A queued write: run it inside the batch, or fail it without running.
trait Job: Send {
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Done>>;
    fn fail(self: Box<Self>, error: String);
}

/// A write that ran; its answer waits for the batch's commit.
trait Done: Send {
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
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Done>> {
        Box::pin(async move {
            let result = (self.work)(conn).await;
            Box::new(Ran {
                result,
                reply: self.reply,
            }) as Box<dyn Done>
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

/// A handle for submitting writes. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer task on `conn`.
    pub(crate) fn spawn(conn: SqliteConnection) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run(conn, rx));
        Writer { tx }
    }

    /// Runs `work` in the next batch and returns its result once the batch is committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending { work, reply });
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), String> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = exec(&mut conn, "BEGIN IMMEDIATE").await {
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
            if let Err(e) = exec(&mut conn, "SAVEPOINT job").await {
                broken = Some(e.clone());
                job.fail(e);
                continue;
            }
            let ran = job.run(&mut conn).await;
            let end = if ran.succeeded() {
                exec(&mut conn, "RELEASE job").await
            } else {
                match exec(&mut conn, "ROLLBACK TO job").await {
                    Ok(()) => exec(&mut conn, "RELEASE job").await,
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = end {
                broken = Some(e);
            }
            done.push(ran);
        }
        let commit = match broken {
            Some(e) => Err(e),
            None => exec(&mut conn, "COMMIT").await,
        };
        if commit.is_err() {
            let _ = exec(&mut conn, "ROLLBACK").await;
        }
        tracing::trace!(batch.size = done.len(), "SQLite writer committed a batch");
        for ran in done {
            ran.answer(commit.clone());
        }
    }
    tracing::debug!("SQLite writer stopped: every store handle is gone");
}
