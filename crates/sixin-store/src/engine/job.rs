//! [`Job`]: one store operation as a value, and [`Backend`], where jobs run.

use std::future::Future;

use futures::future::BoxFuture;
use sixin_core::store::StoreResult;

use crate::exec::Exec;

/// One operation, ready to run against a backend's executor.
pub(crate) type Job<T> =
    Box<dyn for<'e> FnOnce(&'e mut dyn Exec) -> BoxFuture<'e, StoreResult<T>> + Send>;

/// Boxes a closure as a [`Job`] (naming the closure's higher-ranked signature here lets the
/// compiler infer it at every call site).
pub(super) fn job<T, F>(f: F) -> Job<T>
where
    F: for<'e> FnOnce(&'e mut dyn Exec) -> BoxFuture<'e, StoreResult<T>> + Send + 'static,
{
    Box::new(f)
}

/// Where jobs run: SQLite's reader threads and single writer, or a PostgreSQL pool.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Runs a job that only reads.
    fn read<T: Send + 'static>(&self, job: Job<T>) -> impl Future<Output = StoreResult<T>> + Send;
    /// Runs a job that only reads a few rows by an index (an app by key, a session, members by
    /// id): where a hand-off to another thread costs more than the read, the backend may run it
    /// on the caller's thread.
    fn lookup<T: Send + 'static>(
        &self,
        job: Job<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        self.read(job)
    }
    /// Runs a job in a write transaction and answers once it is durably committed; a job that
    /// fails commits nothing.
    fn write<T: Send + 'static>(&self, job: Job<T>) -> impl Future<Output = StoreResult<T>> + Send;
    /// Finishes the work already submitted, refuses new work and releases the database.
    fn close(&self) -> impl Future<Output = StoreResult<()>> + Send;
}
