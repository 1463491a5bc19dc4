//! The one place driver errors are classified into [`StoreError`].

use sixin_core::error::Entity;
use sixin_core::store::StoreError;

/// Classifies a driver error: pool timeouts, lost connections and a busy SQLite database are
/// `Unavailable`; everything else is `Other`.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("5") => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

/// Like [`db`], but a unique-constraint violation means `what` already exists.
pub(crate) fn unique(what: Entity) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
        _ => db(e),
    }
}
