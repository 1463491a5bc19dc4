//! `sixin serve` with `nats.url`: it refuses to start when NATS cannot be reached (naming the
//! key, never the password), and uses NATS when it can (with the server named by
//! `SIXIN_TEST_NATS_URL`; ignored when it was unset at build time).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use sixin_tests::nats::shared_url;
use sixin_tests::process::{free_port, stderr, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

#[test]
fn serve_refuses_to_start_without_reachable_nats() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let url = format!("nats://sixin:hunter2@127.0.0.1:{}", free_port());
    let args = [
        "--database-url",
        &db,
        "--nats-url",
        &url,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    let out = SIXIN.run(dir.path(), &args);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("nats.url") && err.contains("cannot connect"),
        "{err}"
    );
    assert!(err.contains(&url.replace("hunter2", "***")), "{err}");
    assert!(!err.contains("hunter2"), "password leaked: {err}");
    assert!(!err.contains("listening on"), "{err}");
}

#[test]
fn a_url_that_is_not_nats_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = SIXIN.run(
        dir.path(),
        &["--nats-url", "http://127.0.0.1:4222", "migrate"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nats.url") && err.contains("nats://"), "{err}");
}

#[cfg_attr(not(sixin_test_nats), ignore = "needs NATS: set SIXIN_TEST_NATS_URL")]
#[test]
fn serve_uses_nats_when_configured() {
    let Some(url) = shared_url("sixin serve with NATS") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let mut child = SIXIN
        .command(dir.path())
        .env("SIXIN_NATS_URL", &url)
        .args(["--database-url", &db, "--log", "info", "serve"])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("listening on http://") => break true,
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(found, "sixin serve did not start: {seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("event bus: NATS")),
        "{seen:#?}"
    );
}
