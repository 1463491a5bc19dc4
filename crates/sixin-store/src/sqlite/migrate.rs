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
    fn compacting_events_keeps_every_event() {
        // A database as migration 0009 left it, with events in the rowid table.
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        c.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             applied_at BIGINT NOT NULL)",
        )
        .unwrap();
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v < 10) {
            c.execute_batch(sql).unwrap();
            c.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, 0)",
                rusqlite::params![version, name],
            )
            .unwrap();
        }
        c.execute_batch(
            "INSERT INTO apps (id, key, secret, name, created_at) VALUES (1, 'K', 'S', 'a', 0); \
             INSERT INTO members (id, app_id, uuid, username, password_hash, created_at) \
             VALUES (7, 1, 'U7', 'u7', 'x', 0), (9, 1, 'U9', 'u9', 'x', 0); \
             INSERT INTO events (member_id, position, app_id, kind, conversation_id, message_id, \
             data, unread_total, created_at) VALUES \
             (7, 1, 1, 'message', 3, 11, '{}', 1, 100), (7, 2, 1, 'read', 3, NULL, \
             '{\"reader\":7}', 0, 101), (9, 1, 1, 'message', 3, 11, '{}', 0, 100);",
        )
        .unwrap();
        type Event = (i64, i64, String, Option<i64>, String, i64, i64);
        let all = |c: &Connection| -> Vec<Event> {
            let mut stmt = c
                .prepare(
                    "SELECT member_id, position, kind, message_id, data, unread_total, \
                     created_at FROM events ORDER BY member_id, position",
                )
                .unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        let before = all(&c);
        assert_eq!(before.len(), 3);
        run(&mut c).unwrap();
        assert_eq!(all(&c), before);
        let sql: String = c
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        // The primary key still holds, and the next event appends after the kept ones.
        assert!(c
            .execute_batch(
                "INSERT INTO events (member_id, position, app_id, kind, conversation_id, \
                 unread_total, created_at) VALUES (7, 2, 1, 'message', 3, 0, 102)"
            )
            .is_err());
        c.execute_batch(
            "INSERT INTO events (member_id, position, app_id, kind, conversation_id, \
             unread_total, created_at) VALUES (7, 3, 1, 'message', 3, 0, 102)",
        )
        .unwrap();
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
