//! sixin-store: the SQLite and PostgreSQL implementations of [`sixin_core::Store`].
//!
//! - [`open`] picks the backend from the URL scheme (`sqlite://PATH`, `postgres://…`).
//! - `engine`: the one `Store` implementation, generic over a backend that runs jobs.
//! - `ops`: every operation's transaction body, written once against `exec::Exec`, one file
//!   per capability.
//! - `exec`: the small executor interface (owned parameters in, owned rows out) each backend
//!   implements.
//! - `rows`: row structs shared by both backends and their conversion into domain values.
//! - `errors`: the one place driver errors become [`StoreError`](sixin_core::store::StoreError).
//! - `sqlite`: `rusqlite`; WAL file, single writer thread with group commit, reader threads;
//!   the serve lock ([`lock_for_serving`]) and online [`backup`] / [`verify`].
//! - `postgres`: `sqlx` pool; per-conversation row locks keep message ids in commit order.
//!
//! Migrations live in `migrations/{sqlite,postgres}/`, paired by file name.

mod engine;
mod errors;
mod exec;
mod ops;
mod postgres;
mod rows;
mod sqlite;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sixin_core::Store;

pub use sqlite::{
    backup, lock_for_serving, verify, BackupError, ServeLock, ServeLockError, Verified,
};

/// How to reach the database.
#[derive(Clone)]
pub struct StoreConfig {
    /// `sqlite://PATH` (created if missing) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub url: String,
    /// Pool size (SQLite: reader threads, at most 4; the writer is one extra connection).
    pub max_connections: u32,
    /// PostgreSQL only: the schema to work in (tests use one schema each).
    pub pg_schema: Option<String>,
    /// PostgreSQL only: how long a request waits for a pooled connection (or for a new one to
    /// be opened) before it is answered `unavailable`. Short, so that while the database is
    /// down requests fail fast instead of piling up.
    pub acquire_timeout: Duration,
}

/// The default [`StoreConfig::acquire_timeout`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

impl StoreConfig {
    /// A configuration for `url` with default pool settings.
    pub fn new(url: impl Into<String>) -> Self {
        StoreConfig {
            url: url.into(),
            max_connections: 8,
            pg_schema: None,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("pg_schema", &self.pg_schema)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Checks what can be checked of a database URL without connecting: a `postgres://` URL must
/// name a host and a database (PostgreSQL would otherwise pick a database named after the user,
/// which is never what an operator meant). The error says what is missing, password redacted.
pub fn check_url(url: &str) -> Result<(), String> {
    let scheme = url.split(':').next().unwrap_or_default();
    if !matches!(scheme, "postgres" | "postgresql") {
        return Ok(());
    }
    let parsed =
        url::Url::parse(url).map_err(|e| format!("is not a valid URL ({e}): {}", redact(url)))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "names no host: {} (use postgres://USER@HOST:PORT/DATABASE)",
            redact(url)
        ));
    }
    if parsed.path().trim_start_matches('/').is_empty() {
        return Err(format!(
            "names no database: {} (use postgres://USER@HOST:PORT/DATABASE)",
            redact(url)
        ));
    }
    Ok(())
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH (for example sqlite://sixin.db) or \
         postgres://USER@HOST:PORT/DATABASE"
    )]
    UnknownScheme(String),
    #[error("malformed database URL: {0}")]
    BadUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
    /// PostgreSQL could not be reached or refused us: `reason` says what happened in words
    /// (connection refused, unknown host, authentication failed, no such database, no answer
    /// in time), never a driver's debug output; `url` is redacted.
    #[error("cannot connect to the database {url} (database.url): {reason}")]
    Unreachable { url: String, reason: String },
}

/// Opens and migrates the store named by `cfg.url`.
pub async fn open(cfg: &StoreConfig) -> Result<Arc<dyn Store>, OpenError> {
    let scheme = cfg.url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::open(cfg).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(postgres::PgStore::open(cfg).await?)),
        _ => Err(OpenError::UnknownScheme(redact(&cfg.url))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn names(dir: &str) -> BTreeSet<String> {
        let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn migration_folders_pair_by_name() {
        let (lite, pg) = (names("sqlite"), names("postgres"));
        assert!(!lite.is_empty());
        assert_eq!(lite, pg, "every migration needs a twin with the same name");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn postgres_urls_must_name_host_and_database() {
        use super::check_url;
        assert!(check_url("sqlite://x.db").is_ok());
        assert!(check_url("postgres://u@h:5432/db").is_ok());
        assert!(check_url("postgresql://u@h/db?sslmode=disable").is_ok());
        for bad in [
            "postgres://u:hunter2@h:5432",
            "postgres://u:hunter2@h:5432/",
            "postgres://u:hunter2@h/?sslmode=disable",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(err.contains("no database"), "{bad}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[tokio::test]
    async fn unknown_schemes_get_a_helpful_error() {
        let err = super::open(&super::StoreConfig::new("mysql://u:p@h/db"))
            .await
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("sqlite://") && msg.contains("u:***@h"),
            "{msg}"
        );
    }
}
