//! Operating the embedded database with the real binary: a clean stop leaves everything in
//! `sixin.db` alone, a second `sixin serve` on the same file is refused, and `sixin backup`
//! makes a consistent copy under a live send load.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use reqwest::Client;
use rusqlite::Connection;
use serde_json::json;
use sixin_tests::native::{post_created as post, register_and_log_in as member};
use sixin_tests::process::{stderr, stdout, Server, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));
const IN_FLIGHT: usize = 16;

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends one text from the holder of `token` to `to`: the message id.
async fn send(client: &Client, server_url: &str, token: &str, to: &str, i: usize) -> i64 {
    let body = json!({"to": to, "type": "text", "data": {"content": format!("m {i}")}});
    let m = post(client, server_url.to_owned(), Some(token), body).await;
    m["id"].as_i64().unwrap()
}

/// SIGTERM, then wait (at most 30 s) for a successful exit.
fn terminate(mut server: Server) {
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
}

/// Lifts the sends limit of the app with `key` in the SQLite file `path` (its own `limits`
/// override): these tests send hundreds of messages from one member as fast as they can, and
/// are about durability, not rate limits.
fn unlimited_sends(path: &Path, key: &str) {
    let sends = r#"{"sends": {"per": 1000000, "secs": 1, "burst": 1000000}}"#;
    let conn = Connection::open(path).unwrap();
    let n = conn
        .execute("UPDATE apps SET limits = ?1 WHERE key = ?2", [sends, key])
        .unwrap();
    assert_eq!(n, 1);
}

/// Opens a SQLite file directly: `PRAGMA integrity_check` must say ok; the message ids.
fn message_ids(path: &Path) -> BTreeSet<i64> {
    let conn = Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{}", path.display());
    let mut stmt = conn.prepare("SELECT id FROM messages").unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigterm_the_database_file_alone_holds_every_message() {
    const MESSAGES: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sixin.db");
    let db = format!("sqlite://{}", file.display());
    let app_key = SIXIN.create_app(dir.path(), &db);
    unlimited_sends(&file, &app_key);
    let server = SIXIN.serve(dir.path(), &db);
    let client = client();
    let (_, token) = member(&client, &server, &app_key, "alice").await;
    let (bob, _) = member(&client, &server, &app_key, "bob").await;
    let url = server.url("/v1/messages");
    let acked: BTreeSet<i64> = futures::stream::iter(0..MESSAGES)
        .map(|i| send(&client, &url, &token, &bob, i))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    assert_eq!(acked.len(), MESSAGES);
    terminate(server);

    // Only the database file: no -wal, no -shm.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("sixin.db");
    std::fs::copy(&file, &copy).unwrap();
    let found = message_ids(&copy);
    let missing: Vec<_> = acked.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages are missing from a copy of sixin.db alone: {missing:?}",
        missing.len()
    );
    let wal = dir.path().join("sixin.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL was not checkpointed at shutdown");
}

#[test]
fn a_second_serve_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/one.db", dir.path().display());
    let first = SIXIN.serve(dir.path(), &db);
    let pid = first.child.id();

    let out = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "serve", "--listen", "127.0.0.1:0"],
    );
    assert!(!out.status.success(), "a second serve started");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("another sixin serve (pid {pid}) is using {db}"))
            && err.contains("PostgreSQL"),
        "{err}"
    );
    assert!(!err.contains("listening on"), "{err}");

    // Administrative commands and backups still work beside the server.
    let app = SIXIN.create_app(dir.path(), &db);
    let list = SIXIN.run(dir.path(), &["--database-url", &db, "app", "list"]);
    assert!(stdout(&list).contains(&app), "{}", stderr(&list));
    let backup = SIXIN.run(dir.path(), &["--database-url", &db, "backup", "copy.db"]);
    assert!(backup.status.success(), "{}", stderr(&backup));

    // The lock ends with its process, however it ends.
    first.kill();
    let again = SIXIN.serve(dir.path(), &db);
    terminate(again);
}

/// Sends until `stop` (at most `max` messages): each acknowledged id with when its answer came.
async fn load(
    client: Client,
    url: String,
    token: String,
    to: String,
    stop: Arc<AtomicBool>,
    max: usize,
) -> Vec<(i64, Instant)> {
    futures::stream::iter(0..max)
        .take_while(|_| std::future::ready(!stop.load(Ordering::Relaxed)))
        .map(|i| {
            let (client, url, token, to) = (&client, &url, &token, &to);
            async move { (send(client, url, token, to, i).await, Instant::now()) }
        })
        .buffer_unordered(IN_FLIGHT / 2)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_live_sends_holds_every_message_acknowledged_before_it_began() {
    const MAX: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/live.db", dir.path().display());
    let app_key = SIXIN.create_app(dir.path(), &db);
    unlimited_sends(&dir.path().join("live.db"), &app_key);
    let server = SIXIN.serve(dir.path(), &db);
    let client = client();
    let (_, token) = member(&client, &server, &app_key, "alice").await;
    let (bob, _) = member(&client, &server, &app_key, "bob").await;

    let stop = Arc::new(AtomicBool::new(false));
    let sending = tokio::spawn(load(
        client.clone(),
        server.url("/v1/messages"),
        token.clone(),
        bob.clone(),
        stop.clone(),
        MAX,
    ));
    // Some acknowledged traffic first (bounded: the server answers or the send panics).
    let url = server.url("/v1/messages");
    for i in 0..50 {
        send(&client, &url, &token, &bob, i).await;
    }

    let began = Instant::now();
    let copy = dir.path().join("copy.db");
    let path = copy.display().to_string();
    let (d, database) = (dir.path().to_owned(), db.clone());
    let out = tokio::task::spawn_blocking(move || {
        SIXIN.run(&d, &["--database-url", &database, "backup", &path])
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(out.status.success(), "backup failed: {}", stderr(&out));
    assert!(stdout(&out).contains("verified"), "{}", stdout(&out));
    let acked = sending.await.unwrap();
    terminate(server);

    let verified = SIXIN.run(
        dir.path(),
        &["backup", "--verify", &copy.display().to_string()],
    );
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(stdout(&verified).contains("integrity: ok"));

    let found = message_ids(&copy);
    let before: BTreeSet<i64> = acked
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| *id)
        .collect();
    let missing: Vec<_> = before.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup began but missing from it: {missing:?}"
    );
    eprintln!(
        "backup under load: {} sent in all, {} acknowledged before it began, {} in the copy",
        acked.len() + 50,
        before.len(),
        found.len()
    );
}

#[test]
fn backup_refuses_to_overwrite_and_verify_rejects_a_damaged_copy() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    SIXIN.create_app(dir.path(), &db);
    let ok = SIXIN.run(dir.path(), &["--database-url", &db, "backup", "b.db"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let again = SIXIN.run(dir.path(), &["--database-url", &db, "backup", "b.db"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "backup", "b.db", "--force"],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));

    let copy = dir.path().join("b.db");
    let mut bytes = std::fs::read(&copy).unwrap();
    let half = bytes.len() / 2;
    bytes[half..half + 4096].fill(0x5a);
    std::fs::write(&copy, &bytes).unwrap();
    let bad = SIXIN.run(dir.path(), &["backup", "--verify", "b.db"]);
    assert!(!bad.status.success(), "{}", stdout(&bad));
    assert!(
        stderr(&bad).contains("not a valid sixin database"),
        "{}",
        stderr(&bad)
    );

    let pg = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            "postgres://u@127.0.0.1:1/db",
            "backup",
            "p.db",
        ],
    );
    assert!(!pg.status.success());
    assert!(stderr(&pg).contains("pg_dump"), "{}", stderr(&pg));
}
