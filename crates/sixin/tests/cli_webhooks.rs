//! `sixin app webhooks …`, run as the real binary: add (the secret printed once), list, pause,
//! resume, remove; refused URLs and unknown apps say why.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::path::Path;

use serde_json::Value;
use sixin_tests::process::{stderr, stdout, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

fn webhooks(dir: &Path, db: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--database-url", db, "app", "webhooks"];
    all.extend_from_slice(args);
    SIXIN.run(dir, &all)
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(stdout(out).trim()).unwrap()
}

#[test]
fn webhook_endpoints_are_added_listed_paused_resumed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let url = "https://hooks.example.com/sixin";
    let events = "--events=message.created,member.banned";
    let added = json(&webhooks(
        dir.path(),
        &db,
        &["add", &key, url, events, "--json"],
    ));
    assert!(
        added["secret"].as_str().unwrap().starts_with("whsec_"),
        "{added}"
    );
    assert_eq!(
        added["events"],
        serde_json::json!(["message.created", "member.banned"])
    );
    let id = added["id"].as_i64().unwrap().to_string();
    let listed = json(&webhooks(dir.path(), &db, &["list", &key, "--json"]));
    assert_eq!(listed[0]["url"], url);
    assert!(listed[0].get("secret").is_none(), "{listed}");
    let out = webhooks(dir.path(), &db, &["pause", &key, &id]);
    assert!(stdout(&out).contains("paused"), "{}", stderr(&out));
    let listed = json(&webhooks(dir.path(), &db, &["list", &key, "--json"]));
    assert_eq!(listed[0]["enabled"], false);
    let out = webhooks(dir.path(), &db, &["resume", &key, &id]);
    assert!(stdout(&out).contains("enabled"), "{}", stderr(&out));
    let out = webhooks(dir.path(), &db, &["list", &key]);
    assert!(stdout(&out).contains(url), "{}", stdout(&out));
    let out = webhooks(dir.path(), &db, &["remove", &key, &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&webhooks(dir.path(), &db, &["list", &key, "--json"])),
        serde_json::json!([])
    );
    let out = webhooks(dir.path(), &db, &["remove", &key, &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such webhook"), "{}", stderr(&out));
}

#[test]
fn private_targets_and_unknown_apps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let out = webhooks(dir.path(), &db, &["add", &key, "http://10.0.0.8/hook"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("webhooks.allow_private_targets"),
        "{}",
        stderr(&out)
    );
    let other = "0123456789ABCDEF0123456789ABCDEF";
    let out = webhooks(dir.path(), &db, &["list", other]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(other), "{}", stderr(&out));
}
