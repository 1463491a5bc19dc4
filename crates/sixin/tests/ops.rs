//! What an operator sees, from the real binary: the log (no colour codes in a pipe, one startup
//! line, routine requests only with access logging on), configuration mistakes stopped by name,
//! an unreachable database reported as what it is, and `config check`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;
use sixin_tests::pg::with_database;
use sixin_tests::process::{free_port, stderr, stdout, Server, Sixin};
use sixin_tests::require_service;

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

/// Registers a member through `server` (a routine request), then stops the server with SIGTERM
/// and returns its whole log.
fn register_then_stop(server: Server, app_key: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let creds = json!({"app_key": app_key, "username": "alice", "password": "secret-pw"});
        sixin_tests::native::post_created(&client, server.url("/v1/members"), None, creds).await;
    });
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    // The last line is `stopped`; wait for it (bounded) so every line before it has been read.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = server.log();
        if log.iter().any(|l| l.ends_with("stopped")) {
            return log;
        }
        assert!(Instant::now() < deadline, "no `stopped` line: {log:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_log_has_no_colour_codes_one_startup_line_and_no_routine_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let log = register_then_stop(SIXIN.serve(dir.path(), &db), &key);
    let all = log.join("\n");
    assert!(!all.contains('\x1b'), "colour codes in a pipe: {all:?}");
    let startup: Vec<&String> = log.iter().filter(|l| l.contains("listening on")).collect();
    assert_eq!(startup.len(), 1, "{all}");
    let line = startup[0];
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
    assert!(line.contains(&version), "{line}");
    assert!(line.contains(&format!("database={db}")), "{line}");
    assert!(line.contains("nats=none"), "{line}");
    // The routine request (201) left no line at `info`.
    assert!(!all.contains("/v1/members"), "{all}");
}

#[test]
fn access_logging_puts_each_request_on_an_info_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    std::fs::write(dir.path().join("sixin.toml"), "[log]\naccess = true\n").unwrap();
    let log = register_then_stop(SIXIN.serve(dir.path(), &db), &key);
    let access: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("POST /v1/members -> 201"))
        .collect();
    assert_eq!(access.len(), 1, "{log:#?}");
    assert!(access[0].contains(" INFO "), "{}", access[0]);
    assert!(access[0].contains("duration_ms="), "{}", access[0]);
}

/// `sixin ARGS` with extra environment variables, at most 60 s.
fn run_with_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = SIXIN.command(dir.path());
    cmd.envs(env.iter().copied()).args(args);
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "sixin {args:?} still running");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn an_unknown_sixin_variable_stops_the_server_by_name() {
    let out = run_with_env(&[("SIXIN_FOO", "1")], &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("SIXIN_FOO is not a setting"), "{err}");
    assert!(!err.contains("listening"), "{err}");
    let out = run_with_env(&[("SIXIN_LOG__ACESS", "true")], &["config", "check"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("did you mean SIXIN_LOG__ACCESS?"),
        "{}",
        stderr(&out)
    );
    // The test suite's own variables are not configuration.
    let out = run_with_env(
        &[("SIXIN_TEST_PG_URL", "postgres://x")],
        &["config", "check"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn config_check_prints_the_effective_configuration_as_toml_with_passwords_redacted() {
    let out = run_with_env(
        &[
            (
                "SIXIN_DATABASE_URL",
                "postgres://sixin:hunter2@db:5432/sixin",
            ),
            ("SIXIN_NATS_URL", "nats://n:s3cret@nats:4222"),
            ("SIXIN_LOG__ACCESS", "true"),
        ],
        &["config", "check"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
    let v: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(
        v["database"]["url"].as_str(),
        Some("postgres://sixin:***@db:5432/sixin")
    );
    assert_eq!(v["nats"]["url"].as_str(), Some("nats://n:***@nats:4222"));
    assert_eq!(v["log"]["access"].as_bool(), Some(true));
    // The documented keys, the way the example file writes them (limits from the test's env).
    assert_eq!(v["limits"]["argon2_iterations"].as_integer(), Some(1));
    assert_eq!(v["http"]["listen"].as_str(), Some("127.0.0.1:8080"));
}

/// `sixin --database-url URL migrate`: fails, with one line on stderr, which is returned.
fn refused(url: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = SIXIN.run(dir.path(), &["--database-url", url, "migrate"]);
    eprintln!("{url}: refused after {:?}", started.elapsed());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "the cause once: {err}");
    for internal in ["Io(", "Database(", "PgDatabaseError", "Custom {", "kind:"] {
        assert!(!err.contains(internal), "library internals: {err}");
    }
    err
}

#[test]
fn an_unreachable_database_is_reported_as_what_it_is() {
    let url = format!("postgres://sixin:hunter2@127.0.0.1:{}/db", free_port());
    let err = refused(&url);
    assert!(err.contains("connection refused by 127.0.0.1:"), "{err}");
    assert!(err.contains("sixin:***@127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    let err = refused("postgres://postgres@no-such-host.invalid:5432/db");
    assert!(err.contains("unknown host no-such-host.invalid"), "{err}");

    let err = refused("postgres://postgres@127.0.0.1:5432");
    assert!(err.contains("`database.url` names no database"), "{err}");
}

#[test]
#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
fn a_database_that_refuses_us_says_why() {
    let Some(admin) = require_service("SIXIN_TEST_PG_URL", "database refusals") else {
        return;
    };
    // The test server trusts every password, so the refusals are a missing database and role.
    let err = refused(&with_database(&admin, "sixin_no_such_database"));
    assert!(
        err.contains("database sixin_no_such_database does not exist"),
        "{err}"
    );
    let url = url_with_user(&with_database(&admin, "test"), "sixin_no_such_role");
    let err = refused(&url);
    assert!(
        err.contains("authentication failed for user sixin_no_such_role"),
        "{err}"
    );
}

/// `url` with its user replaced by `user` (and no password).
fn url_with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}
