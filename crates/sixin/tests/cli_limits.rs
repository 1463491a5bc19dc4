//! The rate limits from the real binary: `sixin app set-limits` checks, stores and clears an
//! app's override, and `sixin serve` counts registrations and logins per client IP (its
//! listener hands each request its peer address) with the override in force.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::time::Duration;

use serde_json::{json, Value};
use sixin_tests::process::{stderr, stdout, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

/// `sixin --database-url db app set-limits --app key ARGS`.
fn set_limits(dir: &std::path::Path, db: &str, key: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--database-url", db, "app", "set-limits", "--app", key];
    all.extend_from_slice(args);
    SIXIN.run(dir, &all)
}

#[test]
fn set_limits_checks_stores_and_clears_an_apps_override() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let over = r#"{"logins_per_ip": {"per": 60}, "failed_logins_free": 10}"#;
    let out = set_limits(dir.path(), &db, &key, &["--json", over]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["app_key"], key.as_str());
    assert_eq!(
        v["limits"],
        json!({"logins_per_ip": {"per": 60}, "failed_logins_free": 10})
    );
    let effective = &v["effective"];
    assert_eq!(
        effective["logins_per_ip"],
        json!({"per": 60, "secs": 60, "burst": 30})
    );
    assert_eq!(effective["failed_logins_free"], 10);
    assert_eq!(effective["registrations_per_ip"]["per"], 20);

    for (bad, says) in [
        (
            r#"{"logins_per_ip": {"secs": 0}}"#,
            "logins_per_ip.secs must be at least 1",
        ),
        (r#"{"nope": 1}"#, "unknown field `nope`"),
        ("not json", "--json is not valid JSON"),
    ] {
        let out = set_limits(dir.path(), &db, &key, &["--json", bad]);
        assert!(!out.status.success(), "{bad}");
        assert!(stderr(&out).contains(says), "{bad}: {}", stderr(&out));
    }
    let out = set_limits(dir.path(), &db, &key, &[]);
    assert!(!out.status.success(), "--json or --clear is required");

    let out = set_limits(dir.path(), &db, &key, &["--clear"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["limits"], Value::Null);
    assert_eq!(v["effective"]["failed_logins_free"], 5);
}

#[test]
fn serve_limits_registrations_per_client_ip_with_the_apps_override() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let over = r#"{"registrations_per_ip": {"per": 2, "secs": 3600, "burst": 2}}"#;
    assert!(set_limits(dir.path(), &db, &key, &["--json", over])
        .status
        .success());
    let server = SIXIN.serve(dir.path(), &db);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut statuses = Vec::new();
        let mut last = None;
        for name in ["a1", "a2", "a3"] {
            let body = json!({"app_key": key, "username": name, "password": "secret-pw"});
            let r = client
                .post(server.url("/v1/members"))
                .json(&body)
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
            last = Some(r);
        }
        assert_eq!(statuses, [201, 201, 429]);
        let r = last.unwrap();
        assert_eq!(r.headers()["retry-after"], "1800");
        assert_eq!(
            r.headers()["ratelimit-policy"],
            r#""registrations";q=2;w=3600"#
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    });
}

/// `sixin app before-send --app KEY --url … | --clear`: checked by the core, stored, shown with
/// its new secret, and removed.
#[test]
fn before_send_sets_checks_and_clears_an_apps_hook() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let run = |args: &[&str]| {
        let mut all = vec!["--database-url", &db, "app", "before-send", "--app", &key];
        all.extend_from_slice(args);
        SIXIN.run(dir.path(), &all)
    };
    let url = "https://hooks.example.com/before-send";
    let out = run(&[
        "--url",
        url,
        "--timeout-ms",
        "800",
        "--on-failure",
        "reject",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let hook = &v["before_send"];
    assert_eq!(
        (&hook["url"], &hook["timeout_ms"], &hook["on_failure"]),
        (&json!(url), &json!(800), &json!("reject"))
    );
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    for bad in [
        vec!["--url", url, "--timeout-ms", "9000"],
        vec!["--url", "http://127.0.0.1/hook"],
        vec!["--url", url, "--on-failure", "maybe"],
    ] {
        let out = run(&bad);
        assert!(!out.status.success(), "{bad:?}");
    }
    let out = run(&["--clear"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["before_send"], Value::Null);
}
