//! The administrative commands, run as the real binary.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use serde_json::Value;
use sixin_tests::process::{stderr, stdout, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

fn is_upper_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

#[test]
fn app_create_json_prints_exactly_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let out = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "app", "create", "demo", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "stdout: {text}");
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 3, "{v}");
    assert!(is_upper_hex32(v["app_key"].as_str().unwrap()), "{v}");
    assert!(!v["app_secret"].as_str().unwrap().is_empty(), "{v}");
    assert_eq!(v["name"], "demo");
}

#[test]
fn member_create_json_and_app_list_use_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);

    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "create",
            "--app",
            &key,
            "--username",
            "alice",
            "--password",
            "secret-pw",
            "--ext-info",
            r#"{"nickname":"Al"}"#,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "stdout: {text}");
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert!(is_upper_hex32(v["uuid"].as_str().unwrap()), "{v}");
    assert!(v["uid"].as_i64().unwrap() > 0, "{v}");
    assert_eq!(v["username"], "alice");

    // The same username again is a conflict, reported on stderr with a failing status.
    let again = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "create",
            "--app",
            &key,
            "--username",
            "alice",
            "--password",
            "secret-pw",
        ],
    );
    assert!(!again.status.success());
    assert!(stdout(&again).is_empty());

    // `app list` shows the app but never its secret.
    let list = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "app", "list", "--json"],
    );
    assert!(list.status.success(), "{}", stderr(&list));
    let apps: Value = serde_json::from_str(stdout(&list).trim()).unwrap();
    assert_eq!(apps[0]["app_key"], key.as_str());
    assert!(!stdout(&list).contains("secret"), "{}", stdout(&list));

    let toggled = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "app",
            "set-require-sign",
            &key,
            "true",
        ],
    );
    assert!(toggled.status.success(), "{}", stderr(&toggled));
    assert!(stdout(&toggled).contains("require_sign = true"));
}

#[test]
fn unknown_app_key_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "create",
            "--app",
            "00000000000000000000000000000000",
            "--username",
            "bob",
            "--password",
            "secret-pw",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("00000000000000000000000000000000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_url_scheme_fails_with_a_helpful_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = SIXIN.run(
        dir.path(),
        &["--database-url", "mysql://u:hunter2@h/db", "migrate"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sqlite://") && err.contains("postgres://"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "password leaked: {err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn env_database_url_is_honoured_and_migrate_creates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.db");
    let out = SIXIN
        .command(dir.path())
        .env("SIXIN_DATABASE_URL", format!("sqlite://{}", path.display()))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(path.exists());
}

#[test]
fn bad_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sixin.toml"),
        "[http]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let out = SIXIN.run(dir.path(), &["migrate"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("http.listen"), "{}", stderr(&out));

    std::fs::write(dir.path().join("sixin.toml"), "[http]\nlisten_on = 1\n").unwrap();
    let out = SIXIN.run(dir.path(), &["migrate"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("listen_on"), "{}", stderr(&out));
}

#[test]
fn config_example_is_printed_even_with_a_broken_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sixin.toml"), "not toml [").unwrap();
    let out = SIXIN.run(dir.path(), &["config", "example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let example: toml::Value = toml::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        example["database"]["url"].as_str(),
        Some("sqlite://sixin.db")
    );
}

/// `sixin …` with `--database-url db`; its stdout as JSON (the command must succeed).
fn run_json(dir: &std::path::Path, db: &str, args: &[&str]) -> Value {
    let mut all = vec!["--database-url", db];
    all.extend_from_slice(args);
    let out = SIXIN.run(dir, &all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

/// `sixin member create --json` of `username` in app `key`: the new member's uuid.
fn create_member(dir: &std::path::Path, db: &str, key: &str, username: &str) -> String {
    let m = run_json(
        dir,
        db,
        &[
            "member",
            "create",
            "--app",
            key,
            "--username",
            username,
            "--password",
            "secret-pw",
            "--json",
        ],
    );
    m["uuid"].as_str().unwrap().to_owned()
}

#[test]
fn members_are_banned_muted_and_released_by_uuid_with_the_state_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let uuid = &create_member(dir.path(), &db, &key, "carol");
    let who = ["--app", &key, "--uuid", uuid, "--json"];
    let ban = [
        &["member", "ban"][..],
        &who,
        &["--reason", "spam", "--until", "99999999999999"],
    ]
    .concat();
    let v = run_json(dir.path(), &db, &ban);
    assert_eq!(v["banned"]["reason"], "spam", "{v}");
    assert_eq!(v["banned"]["until"], 99_999_999_999_999_i64, "{v}");
    assert_eq!(v["muted"], Value::Null, "{v}");
    let v = run_json(dir.path(), &db, &[&["member", "mute"][..], &who].concat());
    assert_eq!(v["muted"]["until"], Value::Null, "muted for good: {v}");
    assert!(v["banned"].is_object(), "the ban stays: {v}");
    let v = run_json(dir.path(), &db, &[&["member", "unban"][..], &who].concat());
    assert_eq!(v["banned"], Value::Null, "{v}");
    let v = run_json(dir.path(), &db, &[&["member", "unmute"][..], &who].concat());
    assert_eq!(v["muted"], Value::Null, "{v}");
    // A ban that would already have lapsed is refused, naming the field; nothing changes.
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "ban",
            "--app",
            &key,
            "--uuid",
            uuid,
            "--until",
            "1",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("until"), "{}", stderr(&out));
    let v = run_json(dir.path(), &db, &[&["member", "unmute"][..], &who].concat());
    assert_eq!(v["banned"], Value::Null, "{v}");
    // An unknown member or app is an error that says so.
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "mute",
            "--app",
            &key,
            "--external-id",
            "nobody",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such member"), "{}", stderr(&out));
}

#[test]
fn app_set_registration_closes_and_reopens_self_registration() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let v = run_json(
        dir.path(),
        &db,
        &["app", "set-registration", &key, "closed", "--json"],
    );
    assert_eq!(v["registration"], "closed", "{v}");
    assert_eq!(v["app_key"], key.as_str());
    let v = run_json(
        dir.path(),
        &db,
        &["app", "set-registration", &key, "open", "--json"],
    );
    assert_eq!(v["registration"], "open", "{v}");
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "app",
            "set-registration",
            &key,
            "ajar",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("open or closed"), "{}", stderr(&out));
}

#[test]
fn app_set_dm_policy_sets_who_may_message_members_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let set = ["app", "set-dm-policy", &key];
    let v = run_json(
        dir.path(),
        &db,
        &[&set[..], &["contacts", "--json"]].concat(),
    );
    assert_eq!(
        v,
        serde_json::json!({"app_key": key, "dm_policy": "contacts"})
    );
    let conn = rusqlite::Connection::open(dir.path().join("x.db")).unwrap();
    let stored: String = conn
        .query_row("SELECT dm_policy FROM apps WHERE key = ?1", [&key], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, "contacts");
    let out = SIXIN.run(
        dir.path(),
        &[&["--database-url", &db][..], &set, &["friends"]].concat(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("everyone, contacts or nobody"),
        "{}",
        stderr(&out)
    );
}

/// `(secret, previous_secret, previous_secret_until)` of the app with `key`, read from the file.
fn secrets_in(dir: &std::path::Path, key: &str) -> (String, Option<String>, Option<i64>) {
    let conn = rusqlite::Connection::open(dir.join("x.db")).unwrap();
    conn.query_row(
        "SELECT secret, previous_secret, previous_secret_until FROM apps WHERE key = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.unwrap().as_millis()).unwrap()
}

#[test]
fn app_rotate_secret_prints_the_new_secret_once_and_keeps_the_old_for_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let created = run_json(dir.path(), &db, &["app", "create", "demo", "--json"]);
    let key = created["app_key"].as_str().unwrap().to_owned();
    let first = created["app_secret"].as_str().unwrap().to_owned();

    let before = now_ms();
    let v = run_json(
        dir.path(),
        &db,
        &["app", "rotate-secret", &key, "--grace-secs", "60", "--json"],
    );
    let after = now_ms();
    assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
    assert_eq!(v["app_key"], key.as_str());
    let second = v["app_secret"].as_str().unwrap().to_owned();
    assert!(is_upper_hex32(&second), "{v}");
    assert_ne!(second, first);
    let until = v["previous_secret_until"].as_i64().unwrap();
    assert!((before + 60_000..=after + 60_000).contains(&until), "{v}");
    let stored = secrets_in(dir.path(), &key);
    assert_eq!(stored, (second.clone(), Some(first), Some(until)));

    // The default grace is server_api.secret_grace_secs (24 h); the older secret is forgotten.
    let before = now_ms();
    let v = run_json(dir.path(), &db, &["app", "rotate-secret", &key, "--json"]);
    let until = v["previous_secret_until"].as_i64().unwrap();
    assert!(
        (before + 86_400_000..=now_ms() + 86_400_000).contains(&until),
        "{v}"
    );
    let third = v["app_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        secrets_in(dir.path(), &key),
        (third, Some(second), Some(until))
    );

    // Text output shows the secret; a grace over 30 days and an unknown app are refused and
    // change nothing.
    let out = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "app", "rotate-secret", &key],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (fourth, _, _) = secrets_in(dir.path(), &key);
    assert!(stdout(&out).contains(&fourth), "{}", stdout(&out));
    for (args, says) in [
        (
            vec!["rotate-secret", key.as_str(), "--grace-secs", "2592001"],
            "grace_secs",
        ),
        (
            vec!["rotate-secret", "0123456789ABCDEF0123456789ABCDEF"],
            "app",
        ),
    ] {
        let mut all = vec!["--database-url", db.as_str(), "app"];
        all.extend(args);
        let out = SIXIN.run(dir.path(), &all);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert_eq!(secrets_in(dir.path(), &key).0, fourth);
    }
}

#[test]
fn member_export_prints_ndjson_led_by_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let uuid = &create_member(dir.path(), &db, &key, "dora");
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "export",
            "--app",
            &key,
            "--uuid",
            uuid,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "no conversations yet: {text}");
    assert_eq!(lines[0]["record"], "member");
    assert_eq!(lines[0]["username"], "dora");
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "export",
            "--app",
            &key,
            "--external-id",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such member"), "{}", stderr(&out));
}

#[test]
fn member_erase_leaves_a_banned_tombstone_under_the_same_uuid() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let uuid = &create_member(dir.path(), &db, &key, "eve");
    let v = run_json(
        dir.path(),
        &db,
        &["member", "erase", "--app", &key, "--uuid", uuid, "--json"],
    );
    assert_eq!(v, serde_json::json!({"erased": uuid, "groups_left": 0}));
    // The tombstone remains under the same uuid, renamed and banned.
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "member",
            "export",
            "--app",
            &key,
            "--uuid",
            uuid,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["username"], format!("sixin:deleted:{uuid}"));
    assert!(first["banned"].is_object(), "{first}");
}

#[test]
fn app_words_add_import_list_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let key = SIXIN.create_app(dir.path(), &db);
    let v = run_json(
        dir.path(),
        &db,
        &[
            "app",
            "words",
            "add",
            &key,
            "ＢＡＤ",
            "坏蛋",
            "--action",
            "mask",
            "--json",
        ],
    );
    assert_eq!(v, serde_json::json!({"changed": 2, "version": 1}));
    let file = dir.path().join("words.txt");
    std::fs::write(&file, "# list\n法轮功 reject\nbad reject\nspam\n").unwrap();
    let file = file.display().to_string();
    let v = run_json(
        dir.path(),
        &db,
        &["app", "words", "import", &key, &file, "--json"],
    );
    assert_eq!(v, serde_json::json!({"changed": 3, "version": 2}));
    let listed = SIXIN.run(
        dir.path(),
        &["--database-url", &db, "app", "words", "list", &key],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let mut lines: Vec<String> = stdout(&listed).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "bad\treject",
            "spam\treject",
            "坏蛋\tmask",
            "法轮功\treject"
        ]
    );
    let v = run_json(
        dir.path(),
        &db,
        &["app", "words", "remove", &key, "S.P.A.M", "--json"],
    );
    assert_eq!(v, serde_json::json!({"changed": 1, "version": 3}));
    let v = run_json(dir.path(), &db, &["app", "words", "list", &key, "--json"]);
    assert_eq!(v.as_array().unwrap().len(), 3);
    let out = SIXIN.run(
        dir.path(),
        &[
            "--database-url",
            &db,
            "app",
            "words",
            "add",
            &key,
            "x",
            "--action",
            "ban",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("reject or mask"), "{}", stderr(&out));
}
