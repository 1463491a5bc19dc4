//! The one place driver errors are classified into [`StoreError`] (wrapped in a [`DbError`]
//! that remembers unique-constraint violations, see [`unique`](crate::exec::unique)).

use sixin_core::store::StoreError;

use crate::exec::DbError;

/// Classifies a PostgreSQL driver error: anything that says the database cannot be reached
/// right now ([`pg_unavailable`]) is `Unavailable`; everything else is `Other`.
pub(crate) fn pg(e: sqlx::Error) -> DbError {
    let unique = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
    let error = if matches!(e, sqlx::Error::PoolTimedOut) {
        // sqlx keeps no cause: say what it means.
        StoreError::Unavailable(
            "no database connection within database.acquire_timeout_ms (PostgreSQL is down, \
             unreachable, or every pooled connection is busy)"
                .into(),
        )
    } else if pg_unavailable(&e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Other(Box::new(e))
    };
    DbError { unique, error }
}

/// Whether `e` means "the database is not there right now" rather than "this query is wrong":
/// no pooled connection in time (the database is down or overloaded), the pool closed, a lost
/// or refused connection (I/O errors, end of stream), TLS, the driver's worker gone, and the
/// server's own SQLSTATE classes 08 (connection exception), 57 (operator intervention: admin
/// or crash shutdown, cannot connect now, query cancelled) and 53300 (too many connections).
pub(crate) fn pg_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57") || c == "53300"),
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::fmt;

    use sixin_core::store::StoreError;
    use sqlx::error::{DatabaseError, ErrorKind};

    use super::pg;

    /// A server error with a SQLSTATE, as PostgreSQL would send it.
    #[derive(Debug)]
    struct Server(&'static str);

    impl fmt::Display for Server {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "server error {}", self.0)
        }
    }

    impl StdError for Server {}

    impl DatabaseError for Server {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn unavailable(e: sqlx::Error) -> bool {
        matches!(pg(e).error, StoreError::Unavailable(_))
    }

    #[test]
    fn connection_class_errors_are_unavailable() {
        for code in ["57P01", "57P02", "57P03", "08006", "08003", "53300"] {
            assert!(
                unavailable(sqlx::Error::Database(Box::new(Server(code)))),
                "{code}"
            );
        }
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "end of stream");
        assert!(unavailable(sqlx::Error::Io(eof)));
        assert!(unavailable(sqlx::Error::PoolTimedOut));
        assert!(unavailable(sqlx::Error::PoolClosed));
    }

    #[test]
    fn query_errors_are_not_unavailable() {
        for code in ["42P01", "23505", "22P02", "40001"] {
            assert!(
                !unavailable(sqlx::Error::Database(Box::new(Server(code)))),
                "{code}"
            );
        }
        assert!(!unavailable(sqlx::Error::RowNotFound));
    }
}
