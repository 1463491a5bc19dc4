//! The one place driver errors are classified into [`StoreError`] (wrapped in a [`DbError`]
//! that remembers unique-constraint violations, see [`unique`](crate::exec::unique)).

use sixin_core::store::StoreError;

use crate::exec::DbError;

/// Classifies a PostgreSQL driver error: pool timeouts and lost connections are `Unavailable`;
/// everything else is `Other`.
pub(crate) fn pg(e: sqlx::Error) -> DbError {
    let unique = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
    let error = match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(Box::new(e)),
    };
    DbError { unique, error }
}

/// Like [`pg`], straight to a [`StoreError`].
pub(crate) fn pg_store(e: sqlx::Error) -> StoreError {
    pg(e).error
}

/// Classifies a SQLite error: a busy or locked database is `Unavailable`; everything else is
/// `Other`.
pub(crate) fn lite(e: rusqlite::Error) -> DbError {
    use rusqlite::ffi;
    let (unique, busy) = match &e {
        rusqlite::Error::SqliteFailure(f, _) => (
            matches!(
                f.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            matches!(
                f.code,
                ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked
            ),
        ),
        _ => (false, false),
    };
    let error = if busy {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Other(Box::new(e))
    };
    DbError { unique, error }
}
