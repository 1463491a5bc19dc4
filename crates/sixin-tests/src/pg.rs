//! PostgreSQL for tests: a schema per test ([`crate::TestDb::postgres`]) or a database per test
//! ([`TestDatabase`], for servers run as processes), in the server named by `SIXIN_TEST_PG_URL`.
//!
//! Every name carries its creation time, `t_<unix seconds>_<hex>` for schemas and
//! `sixin_test_<unix seconds>_<hex>` for databases, so that what a killed run left behind can be
//! told from what a running one is using: the first use in each process drops the leftovers
//! older than [`LEFTOVER_AGE`] ([`sweep_leftovers`]).

use std::future::Future;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection as _, PgConnection};

use crate::require_service;

/// How old a test schema or database must be before a sweep drops it: far longer than any test
/// run, so a sweep never takes one from under a running test.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(60 * 60);

/// The prefix of per-test schemas.
pub const SCHEMA_PREFIX: &str = "t_";
/// The prefix of per-test databases.
pub const DATABASE_PREFIX: &str = "sixin_test_";

/// A fresh name: `prefix`, the current unix time in seconds, `_`, 16 random hex digits.
pub fn fresh_name(prefix: &str) -> String {
    name_at(prefix, now_secs())
}

/// A name as [`fresh_name`] would have made it at `unix_secs`.
pub fn name_at(prefix: &str, unix_secs: u64) -> String {
    format!("{prefix}{unix_secs}_{:016x}", rand::random::<u64>())
}

/// The creation time (unix seconds) in a name made by [`fresh_name`], if `name` is one.
pub fn created_at(prefix: &str, name: &str) -> Option<u64> {
    let (secs, hex) = name.strip_prefix(prefix)?.split_once('_')?;
    let well_formed = !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 16
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then(|| secs.parse().ok()).flatten()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An admin connection to `url`.
pub async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to SIXIN_TEST_PG_URL: {e}"))
}

/// Runs `fut` to completion on a thread with a runtime of its own: for `Drop`, and for work that
/// must not depend on the (possibly paused or finishing) runtime of the test that asked for it.
pub fn block_on_own_runtime<F: Future<Output = ()> + Send + 'static>(fut: F) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(fut);
        }
    })
    .join();
}

/// Once per process: [`sweep_leftovers`] with [`LEFTOVER_AGE`].
pub fn sweep_once(url: &str) {
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| {
        let url = url.to_owned();
        block_on_own_runtime(async move {
            let mut conn = connect(&url).await;
            let dropped = sweep_leftovers(&mut conn, LEFTOVER_AGE).await;
            if !dropped.is_empty() {
                eprintln!("dropped leftover test schemas and databases: {dropped:?}");
            }
        });
    });
}

/// Drops the test schemas and test databases created more than `older_than` ago; returns their
/// names. Names without a creation time (other schemas, other databases) are never touched.
pub async fn sweep_leftovers(conn: &mut PgConnection, older_than: Duration) -> Vec<String> {
    let cutoff = now_secs().saturating_sub(older_than.as_secs());
    let is_old = |prefix: &str, name: &str| created_at(prefix, name).is_some_and(|t| t < cutoff);
    let schemas: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    let databases: Vec<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    let mut dropped = Vec::new();
    for name in schemas.into_iter().filter(|n| is_old(SCHEMA_PREFIX, n)) {
        // Another process's sweep may get there first: that is as good.
        let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
        if sqlx::query(&sql).execute(&mut *conn).await.is_ok() {
            dropped.push(name);
        }
    }
    for name in databases.into_iter().filter(|n| is_old(DATABASE_PREFIX, n)) {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if sqlx::query(&sql).execute(&mut *conn).await.is_ok() {
            dropped.push(name);
        }
    }
    dropped
}

/// A database of a test's own in the PostgreSQL server of `SIXIN_TEST_PG_URL` (for servers run
/// as processes, which take a URL), dropped (`WITH (FORCE)`) when this is dropped.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// The URL of this database.
    pub url: String,
}

impl TestDatabase {
    /// A fresh database, or `None` (skipped; a failure when `CI` is set).
    pub async fn create(suite: &str) -> Option<TestDatabase> {
        let admin_url = require_service("SIXIN_TEST_PG_URL", suite)?;
        sweep_once(&admin_url);
        let name = fresh_name(DATABASE_PREFIX);
        let mut conn = connect(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let url = with_database(&admin_url, &name);
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        block_on_own_runtime(async move {
            if let Ok(mut c) = PgConnection::connect(&url).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                if let Err(e) = sqlx::query(&sql).execute(&mut c).await {
                    eprintln!("could not drop test database {name}: {e}");
                }
            }
        });
    }
}

/// `url` with its database (the last path segment) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_creation_time() {
        let name = name_at(SCHEMA_PREFIX, 1_700_000_000);
        assert_eq!(created_at(SCHEMA_PREFIX, &name), Some(1_700_000_000));
        assert_eq!(created_at(DATABASE_PREFIX, &name), None);
        let db = fresh_name(DATABASE_PREFIX);
        assert!(created_at(DATABASE_PREFIX, &db).is_some_and(|t| t >= 1_700_000_000));
        for other in [
            "public",
            "t_",
            "t_123",
            "t_123_xyz",
            "t_abc_0123456789abcdef",
        ] {
            assert_eq!(created_at(SCHEMA_PREFIX, other), None, "{other}");
        }
    }

    #[test]
    fn the_database_is_replaced_in_a_url() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
