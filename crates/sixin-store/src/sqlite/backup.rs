//! Online backup and verification of a SQLite database, safe while `sixin serve` runs.
//!
//! [`backup`] runs `VACUUM INTO` on its own connection: one read transaction, so the copy is
//! the database as of the moment the backup began (every write acknowledged before then is in
//! it; WAL readers never block the server's writer). The copy is written under a temporary
//! name next to the destination, synced, [`verify`]d, and only then renamed into place.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::migrate::MIGRATIONS;
use super::path_of;
use crate::OpenError;

/// Why a backup or a verification failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "`sixin backup` copies SQLite databases; for PostgreSQL use its own tools: \
         `pg_dump --format=custom --file=sixin.dump URL` to back up (safe while sixin runs) \
         and `pg_restore --dbname=URL sixin.dump` to restore"
    )]
    Postgres,
    #[error(transparent)]
    Url(#[from] OpenError),
    /// A precondition, e.g. the destination exists.
    #[error("{0}")]
    Refused(String),
    /// SQLite or the file system failed.
    #[error("{0}")]
    Failed(String),
    /// The copy is not a sound sixin database.
    #[error("{} is not a valid sixin database: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// What [`verify`] found in a sound copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The newest migration applied to the copy.
    pub schema_version: i64,
    /// The newest migration this build knows; a copy behind it is migrated on start.
    pub latest_version: i64,
    pub apps: i64,
    pub members: i64,
    pub messages: i64,
}

/// Copies the SQLite database named by `url` to `dest` while it may be in use, then verifies
/// the copy. Refuses to replace an existing `dest` unless `force`. Blocking: run it off the
/// async runtime.
pub fn backup(url: &str, dest: &Path, force: bool) -> Result<Verified, BackupError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(BackupError::Postgres);
    }
    let source = PathBuf::from(path_of(url)?);
    if !source.is_file() {
        return Err(BackupError::Refused(format!(
            "no SQLite database at {}",
            source.display()
        )));
    }
    check_destination(&source, dest, force)?;
    let name = dest
        .file_name()
        .ok_or_else(|| BackupError::Refused(format!("{} names no file", dest.display())))?;
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let temp = dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&temp);
    let done = copy_into(&source, &temp).and_then(|()| verify(&temp));
    let verified = match done {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    let failed = |what: &str, e: std::io::Error| BackupError::Failed(format!("{what}: {e}"));
    std::fs::rename(&temp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        failed(&format!("cannot move the copy to {}", dest.display()), e)
    })?;
    // Make the rename itself durable.
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| failed(&format!("cannot sync {}", dir.display()), e))?;
    Ok(verified)
}

fn check_destination(source: &Path, dest: &Path, force: bool) -> Result<(), BackupError> {
    let refuse = |msg: String| Err(BackupError::Refused(msg));
    if let (Ok(a), Ok(b)) = (source.canonicalize(), dest.canonicalize()) {
        if a == b {
            return refuse(format!(
                "{} is the database itself: choose another destination",
                dest.display()
            ));
        }
    }
    let wal = PathBuf::from(format!("{}-wal", dest.display()));
    if wal.exists() {
        // Its frames would be replayed onto the copy the next time it is opened.
        return refuse(format!(
            "{} exists: is a server using {}? Stop it and remove the -wal file first",
            wal.display(),
            dest.display()
        ));
    }
    if dest.exists() && !force {
        return refuse(format!(
            "{} already exists: pass --force to replace it",
            dest.display()
        ));
    }
    Ok(())
}

fn sqlite_failed(what: &str) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{what}: {e}"))
}

/// `VACUUM INTO temp` from a connection of its own, then fsync the copy.
fn copy_into(source: &Path, temp: &Path) -> Result<(), BackupError> {
    // Read-write without create: a WAL reader needs the shared-memory file.
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_failed(&format!("cannot open {}", source.display())))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(sqlite_failed("cannot set the busy timeout"))?;
    let target = temp
        .to_str()
        .ok_or_else(|| BackupError::Refused(format!("{} is not UTF-8", temp.display())))?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(sqlite_failed(&format!("cannot copy {}", source.display())))?;
    conn.close()
        .map_err(|(_, e)| sqlite_failed("cannot close the database")(e))?;
    File::open(temp)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackupError::Failed(format!("cannot sync {}: {e}", temp.display())))
}

/// Opens the copy at `path` read-only and checks it: `PRAGMA integrity_check` passes, and its
/// migrations are ones this build knows. Returns its schema version and what it holds.
pub fn verify(path: &Path) -> Result<Verified, BackupError> {
    let invalid = |reason: String| BackupError::Invalid {
        path: path.to_owned(),
        reason,
    };
    if !path.is_file() {
        return Err(BackupError::Refused(format!(
            "no file at {}",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| invalid(format!("cannot open it: {e}")))?;
    let sql = |e: rusqlite::Error| invalid(e.to_string());
    let problems: Vec<String> = {
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(sql)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    if problems != ["ok"] {
        let shown: Vec<_> = problems.iter().take(5).map(String::as_str).collect();
        return Err(invalid(format!(
            "integrity check failed: {}",
            shown.join("; ")
        )));
    }
    let has_migrations: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    if has_migrations.is_none() {
        return Err(invalid("it has no schema_migrations table".into()));
    }
    let applied: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .map_err(sql)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    let latest_version = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.0 == **v))
    {
        return Err(invalid(format!(
            "it has migration {unknown}, which this build does not know (made by a newer sixin?)"
        )));
    }
    let Some(&schema_version) = applied.last() else {
        return Err(invalid("no migration was ever applied to it".into()));
    };
    let count = |table: &str| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(sql)
    };
    Ok(Verified {
        schema_version,
        latest_version,
        apps: count("apps")?,
        members: count("members")?,
        messages: count("messages")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(dir: &Path) -> String {
        let path = dir.join("src.db");
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        super::super::migrate::run(&mut c).unwrap();
        c.execute_batch(
            "INSERT INTO apps (key, secret, name, require_sign, created_at) \
             VALUES ('K', 'S', 'n', FALSE, 0)",
        )
        .unwrap();
        format!("sqlite://{}", path.display())
    }

    #[test]
    fn a_copy_is_verified_and_never_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh(dir.path());
        let dest = dir.path().join("copy.db");
        let v = backup(&url, &dest, false).unwrap();
        assert_eq!(v.schema_version, v.latest_version);
        assert_eq!((v.apps, v.members, v.messages), (1, 0, 0));
        assert_eq!(verify(&dest).unwrap(), v);
        let again = backup(&url, &dest, false).unwrap_err().to_string();
        assert!(again.contains("--force"), "{again}");
        backup(&url, &dest, true).unwrap();
        let src = dir.path().join("src.db");
        let same = backup(&url, &src, true).unwrap_err().to_string();
        assert!(same.contains("the database itself"), "{same}");
        // No partial copy is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
    }

    #[test]
    fn damaged_or_foreign_files_fail_verification() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh(dir.path());
        let dest = dir.path().join("copy.db");
        backup(&url, &dest, false).unwrap();
        // Overwrite a page in the middle of the file.
        let mut bytes = std::fs::read(&dest).unwrap();
        let page = 4096;
        assert!(bytes.len() > 3 * page);
        bytes[2 * page..3 * page].fill(0x5a);
        std::fs::write(&dest, &bytes).unwrap();
        assert!(matches!(verify(&dest), Err(BackupError::Invalid { .. })));

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = verify(&other).unwrap_err().to_string();
        assert!(err.contains("schema_migrations"), "{err}");
        assert!(matches!(
            backup("postgres://u@h/db", &dest, true),
            Err(BackupError::Postgres)
        ));
    }
}
