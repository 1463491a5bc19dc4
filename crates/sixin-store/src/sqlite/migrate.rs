//! SQLite migrations without sqlx: `migrations/sqlite/NNNN_name.sql`, embedded at build time,
//! applied in one `BEGIN IMMEDIATE` transaction and recorded in `schema_migrations`.
//! Databases migrated by earlier builds (sqlx's `_sqlx_migrations`) are adopted as they are.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

include!(concat!(env!("OUT_DIR"), "/sqlite_migrations.rs"));

/// Applies every migration the database has not seen yet.
pub(crate) fn run(conn: &mut Connection) -> Result<(), String> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version    INTEGER PRIMARY KEY, \
             name       TEXT    NOT NULL, \
             applied_at BIGINT  NOT NULL)",
    )
    .map_err(|e| e.to_string())?;
    let legacy: Option<String> = tx
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    if legacy.is_some() {
        tx.execute(
            "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) \
             SELECT version, description, 0 FROM _sqlx_migrations WHERE success",
            [],
        )
        .map_err(|e| e.to_string())?;
    }
    let applied: BTreeSet<i64> = {
        let mut stmt = tx
            .prepare("SELECT version FROM schema_migrations")
            .map_err(|e| e.to_string())?;
        let versions = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        versions
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    };
    let known: BTreeSet<i64> = MIGRATIONS.iter().map(|(v, _, _)| *v).collect();
    if let Some(unknown) = applied.difference(&known).next() {
        return Err(format!(
            "the database has migration {unknown}, which this build does not know \
             (was it migrated by a newer sixin?)"
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|e| format!("migration {version} ({name}): {e}"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, now],
        )
        .map_err(|e| e.to_string())?;
        tracing::info!(version, name, "applied SQLite migration");
    }
    tx.commit().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let mut c = Connection::open_in_memory().unwrap();
        run(&mut c).unwrap();
        run(&mut c).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, MIGRATIONS.len());
        c.execute_batch("SELECT id FROM apps").unwrap();
    }

    #[test]
    fn databases_migrated_by_sqlx_are_adopted() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0].2).unwrap();
        c.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL); \
             INSERT INTO _sqlx_migrations VALUES (1, 'init', CURRENT_TIMESTAMP, TRUE, x'00', 1);",
        )
        .unwrap();
        run(&mut c).unwrap();
    }
}
