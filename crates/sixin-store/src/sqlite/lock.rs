//! The serve lock: one `sixin serve` per SQLite file. Live events travel on the serving
//! process's in-process bus, so a second server on the same file would commit writes whose
//! events never reach the first one's clients. `serve` holds an advisory lock (`flock`) on
//! `PATH.lock` for its whole life; the OS releases it when the process ends, however it ends.
//! Administrative commands and `sixin backup` do not take it: SQLite's own locking keeps their
//! writes and reads safe, and they publish no events.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read as _, Seek as _, Write as _};
use std::path::PathBuf;

use super::path_of;
use crate::OpenError;

/// Why `sixin serve` may not use the database.
#[derive(Debug, thiserror::Error)]
pub enum ServeLockError {
    #[error(
        "another sixin serve{} is using {url} (lock file {}): stop it first, or run several \
         nodes on PostgreSQL with NATS",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        lock.display()
    )]
    Held {
        url: String,
        lock: PathBuf,
        pid: Option<u32>,
    },
    #[error("cannot lock {}: {source}", lock.display())]
    Io {
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Url(#[from] OpenError),
}

/// Held while a server runs on a SQLite file; dropping it (or the process ending) releases the
/// lock. The lock file stays: removing it would let two servers lock two different files.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

/// Takes the serve lock of the database named by `url`: `None` for PostgreSQL (several nodes
/// may share it, with NATS carrying events between them), or when the database's folder does
/// not exist (opening the database then reports that).
pub fn lock_for_serving(url: &str) -> Result<Option<ServeLock>, ServeLockError> {
    if !url.starts_with("sqlite:") {
        return Ok(None);
    }
    let lock = PathBuf::from(format!("{}.lock", path_of(url)?));
    let io = |source| ServeLockError::Io {
        lock: lock.clone(),
        source,
    };
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(ServeLockError::Held {
                url: crate::redact(url),
                pid: holder(&mut file),
                lock,
            })
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    // The pid is for the message above only; the lock itself is what counts.
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .map_err(io)?;
    Ok(Some(ServeLock { _file: file }))
}

/// The pid the holder wrote, if it has written it yet.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/x.db", dir.path().display());
        let first = lock_for_serving(&url).unwrap().expect("a SQLite lock");
        let err = lock_for_serving(&url).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("(pid {})", std::process::id())) && msg.contains(&url),
            "{msg}"
        );
        drop(first);
        assert!(lock_for_serving(&url).unwrap().is_some());
    }

    #[test]
    fn postgres_and_missing_folders_take_no_lock() {
        assert!(lock_for_serving("postgres://u@h/db").unwrap().is_none());
        assert!(lock_for_serving("sqlite:///nonexistent-dir/x.db")
            .unwrap()
            .is_none());
    }
}
