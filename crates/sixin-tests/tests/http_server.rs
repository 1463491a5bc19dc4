//! The server API (`/v1/server/...`) over real HTTP: its JWT authentication and every way a
//! token is refused, members provisioned by the app's own ids, sessions, bans, mutes and the
//! registration policy, isolation between apps, and bad input that writes nothing. Runs on
//! SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_tests::native::{
    as_backend as server, assert_error, ok, start_with_app as start, NativeApi,
};
use sixin_tests::server_token::{claims, mint, mint_by_hand};
use sixin_tests::Harness;

async fn members_are_provisioned_found_listed_and_given_sessions(h: Harness) {
    let (t, app) = start(h).await;
    let put = json!({"username": "ann", "ext_info": {"nick": "Ann"}});
    let r = server(&t, &app, "PUT", "/v1/server/members/u-1", Some(put)).await;
    let ann = ok(&r, StatusCode::CREATED).clone();
    assert_eq!(ann["external_id"], "u-1");
    assert_eq!(
        (ann["banned"].is_null(), ann["muted"].is_null()),
        (true, true)
    );
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/u-1",
        Some(json!({"username": "anne"})),
    )
    .await;
    let anne = ok(&r, StatusCode::OK);
    assert_eq!(
        (anne["uuid"].clone(), anne["username"].clone()),
        (ann["uuid"].clone(), json!("anne"))
    );
    assert_eq!(
        anne["ext_info"],
        json!({"nick": "Ann"}),
        "fields not given are kept"
    );

    let uuid = ann["uuid"].as_str().unwrap();
    for q in ["external_id=u-1", "username=anne", &format!("uuid={uuid}")] {
        let r = server(&t, &app, "GET", &format!("/v1/server/members?{q}"), None).await;
        assert_eq!(ok(&r, StatusCode::OK)["uuid"], uuid, "{q}");
    }
    let r = server(
        &t,
        &app,
        "GET",
        "/v1/server/members?external_id=nobody",
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    for i in 2..=4 {
        let body = json!({"username": format!("user{i}")});
        let r = server(
            &t,
            &app,
            "PUT",
            &format!("/v1/server/members/u-{i}"),
            Some(body),
        )
        .await;
        ok(&r, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut uri = "/v1/server/members?limit=3".to_owned();
    for _ in 0..3 {
        let r = server(&t, &app, "GET", &uri, None).await;
        let page = ok(&r, StatusCode::OK);
        seen.extend(
            page["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["external_id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/server/members?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [json!("u-1"), json!("u-2"), json!("u-3"), json!("u-4")]
    );

    sessions_are_normal_capped_and_revoked_together(&t, &app).await;
}

/// An issued token is a normal session (the native API takes it), its lifetime is capped by the
/// server's, and revoking ends every session of the member.
async fn sessions_are_normal_capped_and_revoked_together(t: &NativeApi, app: &App) {
    let r = server(
        t,
        app,
        "POST",
        "/v1/server/members/u-1/sessions",
        Some(json!({"ttl_secs": 60})),
    )
    .await;
    let session = ok(&r, StatusCode::CREATED).clone();
    let now = t.h().core.now().0;
    assert_eq!(session["expires_at"].as_i64().unwrap(), now + 60_000);
    let token = session["token"].as_str().unwrap();
    let me = t.call("GET", "/v1/me", Some(token), None).await;
    assert_eq!(ok(&me, StatusCode::OK)["username"], "anne");
    // The default and the cap: the server's session lifetime.
    let r = server(
        t,
        app,
        "POST",
        "/v1/server/members/u-1/sessions",
        Some(json!({"ttl_secs": 10_u64.pow(12)})),
    )
    .await;
    let ttl = t.h().core.config().session_ttl.as_millis() as i64;
    assert_eq!(
        ok(&r, StatusCode::CREATED)["expires_at"].as_i64().unwrap(),
        now + ttl
    );
    let r = server(t, app, "POST", "/v1/server/members/u-1/sessions", None).await;
    ok(&r, StatusCode::CREATED);
    let r = server(t, app, "DELETE", "/v1/server/members/u-1/sessions", None).await;
    assert_eq!(ok(&r, StatusCode::OK)["revoked"], 3);
    let me = t.call("GET", "/v1/me", Some(token), None).await;
    assert_error(&me, StatusCode::UNAUTHORIZED, "unauthenticated");
    // No password: the provisioned member cannot log in with one.
    let login = json!({"app_key": t.app_key, "username": "anne", "password": ""});
    let r = t.call("POST", "/v1/sessions", None, Some(login)).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
}

async fn bans_end_sessions_and_lapse_by_themselves(h: Harness) {
    let (t, app) = start(h).await;
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/7",
        Some(json!({"username": "bo"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let r = server(&t, &app, "POST", "/v1/server/members/7/sessions", None).await;
    let token = ok(&r, StatusCode::CREATED)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let until = t.h().core.now().0 + 60_000;
    let ban = json!({"until": until, "reason": "spam"});
    let r = server(&t, &app, "POST", "/v1/server/members/7/ban", Some(ban)).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["banned"],
        json!({"until": until, "reason": "spam"})
    );
    let me = t.call("GET", "/v1/me", Some(&token), None).await;
    assert_error(&me, StatusCode::UNAUTHORIZED, "unauthenticated");
    let r = server(&t, &app, "POST", "/v1/server/members/7/sessions", None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "banned");

    t.h().clock.advance(Duration::from_secs(60));
    let r = server(&t, &app, "GET", "/v1/server/members?external_id=7", None).await;
    assert!(ok(&r, StatusCode::OK)["banned"].is_null(), "lapsed");
    let r = server(&t, &app, "POST", "/v1/server/members/7/sessions", None).await;
    ok(&r, StatusCode::CREATED);

    // For good, until lifted.
    let r = server(&t, &app, "POST", "/v1/server/members/7/ban", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["banned"],
        json!({"until": null, "reason": null})
    );
    t.h().clock.advance(Duration::from_secs(365 * 24 * 3600));
    let r = server(&t, &app, "POST", "/v1/server/members/7/sessions", None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "banned");
    let r = server(&t, &app, "DELETE", "/v1/server/members/7/ban", None).await;
    assert!(ok(&r, StatusCode::OK)["banned"].is_null());
    let r = server(&t, &app, "POST", "/v1/server/members/7/sessions", None).await;
    ok(&r, StatusCode::CREATED);
}

async fn muted_members_read_but_every_native_send_is_refused(h: Harness) {
    let (t, app) = start(h).await;
    let peer = t.member("peer").await;
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/m",
        Some(json!({"username": "mo"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let r = server(&t, &app, "POST", "/v1/server/members/m/sessions", None).await;
    let mo = ok(&r, StatusCode::CREATED)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mo_uuid = r.body["member"]["uuid"].as_str().unwrap().to_owned();
    let group = json!({"subject": "g", "members": [peer.uuid]});
    let g = t.call("POST", "/v1/groups", Some(&mo), Some(group)).await;
    let group_id = ok(&g, StatusCode::CREATED)["id"].as_i64().unwrap();
    let until = t.h().core.now().0 + 30_000;
    let r = server(
        &t,
        &app,
        "POST",
        "/v1/server/members/m/mute",
        Some(json!({"until": until})),
    )
    .await;
    assert_eq!(ok(&r, StatusCode::OK)["muted"], json!({"until": until}));

    let text = json!({"type": "text", "data": {"content": "hi"}});
    let mut direct = text.clone();
    direct["to"] = json!(peer.uuid);
    let mut multi = text.clone();
    multi["to"] = json!([peer.uuid]);
    let mut in_group = text.clone();
    in_group["conversation_id"] = json!(group_id);
    for (uri, body) in [
        ("/v1/messages", &direct),
        ("/v1/messages/multi", &multi),
        ("/v1/messages", &in_group),
    ] {
        let r = t.call("POST", uri, Some(&mo), Some(body.clone())).await;
        assert_error(&r, StatusCode::FORBIDDEN, "muted");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&until.to_string()), "{msg}");
    }
    // Reading still works.
    let to_mo = json!({"to": mo_uuid, "type": "text", "data": {"content": "hello"}});
    let r = t
        .call("POST", "/v1/messages", Some(&peer.token), Some(to_mo))
        .await;
    ok(&r, StatusCode::CREATED);
    let unread = t.call("GET", "/v1/unread", Some(&mo), None).await;
    assert_eq!(ok(&unread, StatusCode::OK)["total"], 1);
    let history = t
        .call(
            "GET",
            &format!("/v1/direct/{}/messages", peer.uuid),
            Some(&mo),
            None,
        )
        .await;
    assert_eq!(
        ok(&history, StatusCode::OK)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.h().clock.advance(Duration::from_secs(30));
    let r = t
        .call("POST", "/v1/messages", Some(&mo), Some(direct.clone()))
        .await;
    ok(&r, StatusCode::CREATED);
    // For good, until lifted.
    server(&t, &app, "POST", "/v1/server/members/m/mute", None).await;
    let r = t
        .call("POST", "/v1/messages", Some(&mo), Some(direct.clone()))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "muted");
    let r = server(&t, &app, "DELETE", "/v1/server/members/m/mute", None).await;
    assert!(ok(&r, StatusCode::OK)["muted"].is_null());
    let r = t
        .call("POST", "/v1/messages", Some(&mo), Some(direct))
        .await;
    ok(&r, StatusCode::CREATED);
}

async fn closed_registration_refuses_self_registration_only(h: Harness) {
    let (t, app) = start(h).await;
    let r = server(&t, &app, "GET", "/v1/server/app", None).await;
    assert_eq!(ok(&r, StatusCode::OK)["registration"], "open");
    assert!(r.body.get("secret").is_none());
    let body = json!({"policy": "closed"});
    let r = server(&t, &app, "PUT", "/v1/server/app/registration", Some(body)).await;
    assert_eq!(ok(&r, StatusCode::OK)["registration"], "closed");
    let reg = json!({"app_key": t.app_key, "username": "walk-in", "password": "pass-phrase-1"});
    let r = t.call("POST", "/v1/members", None, Some(reg.clone())).await;
    assert_error(&r, StatusCode::FORBIDDEN, "registration_closed");
    let r = server(&t, &app, "GET", "/v1/server/members?username=walk-in", None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/w",
        Some(json!({"username": "w"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let body = json!({"policy": "open"});
    server(&t, &app, "PUT", "/v1/server/app/registration", Some(body)).await;
    let r = t.call("POST", "/v1/members", None, Some(reg)).await;
    ok(&r, StatusCode::CREATED);
}

/// Each refused token: `401 bad_server_token` naming the reason, and nothing written.
async fn refused(t: &NativeApi, token: &str, reason: &str) {
    let body = json!({"username": "intruder"});
    let r = t
        .call("PUT", "/v1/server/members/x", Some(token), Some(body))
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_server_token");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains(reason), "{reason}: {msg}");
}

async fn server_tokens_must_be_fresh_signed_for_the_server_and_single_use(h: Harness) {
    let (t, app) = start(h).await;
    let other = t.h().app().await;
    let now = t.h().core.now().unix_seconds();
    let secret = app.secret.0.as_str();
    let good = |jti: &str| claims(&app, now, jti);
    let with = |jti: &str, key: &str, v: Value| {
        let mut c = good(jti);
        c[key] = v;
        c
    };
    let without = |jti: &str, key: &str| {
        let mut c = good(jti);
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let member = t.member("alice").await;
    let r = t.call("GET", "/v1/server/app", None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_server_token");
    refused(&t, &member.token, "malformed").await;
    refused(&t, "a.b.c", "malformed").await;
    refused(&t, &mint(&other.secret.0, &good("1")), "bad signature").await;
    refused(
        &t,
        &mint(secret, &with("2", "iss", json!("0".repeat(32)))),
        "unknown app",
    )
    .await;
    refused(&t, &mint(secret, &without("3", "iss")), "claim iss").await;
    refused(&t, &mint(secret, &without("4", "aud")), "claim aud").await;
    refused(
        &t,
        &mint(secret, &with("5", "aud", json!("sixin-member"))),
        "audience",
    )
    .await;
    refused(&t, &mint(secret, &without("6", "exp")), "claim exp").await;
    refused(&t, &mint(secret, &without("7", "iat")), "claim iat").await;
    refused(&t, &mint(secret, &without("8", "jti")), "claim jti").await;
    let expired = json!({"iss": app.key.as_str(), "aud": "sixin-server", "iat": now - 100, "exp": now, "jti": "9"});
    refused(&t, &mint(secret, &expired), "expired").await;
    let ahead = json!({"iss": app.key.as_str(), "aud": "sixin-server", "iat": now + 31, "exp": now + 60, "jti": "10"});
    refused(&t, &mint(secret, &ahead), "issued in the future").await;
    let long = json!({"iss": app.key.as_str(), "aud": "sixin-server", "iat": now, "exp": now + 301, "jti": "11"});
    refused(&t, &mint(secret, &long), "lifetime too long").await;
    let none = mint_by_hand(secret, &json!({"alg": "none", "typ": "JWT"}), &good("12"));
    let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
    refused(&t, &unsigned, "unsupported algorithm").await;
    refused(
        &t,
        &mint_by_hand(secret, &json!({"alg": "RS256"}), &good("13")),
        "unsupported algorithm",
    )
    .await;
    let token = mint(secret, &good("14"));
    let (head, sig) = token.rsplit_once('.').unwrap();
    let forged_claims = with("14", "iss", json!(other.key.as_str()));
    let tampered = format!(
        "{}.{}.{sig}",
        head.split('.').next().unwrap(),
        b64(&forged_claims)
    );
    refused(&t, &tampered, "bad signature").await;
    let flipped = format!("{head}.{}", flip_first(sig));
    refused(&t, &flipped, "bad signature").await;
    let r = server(
        &t,
        &app,
        "GET",
        "/v1/server/members?username=intruder",
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    single_use_and_confined_to_the_app(&t, &app, &other, &member.uuid).await;
}

/// A token built by hand (base64url + HMAC-SHA256) works once, then is a replay; another app's
/// token sees none of this app's members; a server token is no member session.
async fn single_use_and_confined_to_the_app(t: &NativeApi, app: &App, other: &App, member: &str) {
    let now = t.h().core.now().unix_seconds();
    let secret = app.secret.0.as_str();
    let by_hand = mint_by_hand(
        secret,
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(app, now, "15"),
    );
    let r = t.call("GET", "/v1/server/app", Some(&by_hand), None).await;
    assert_eq!(ok(&r, StatusCode::OK)["app_key"], app.key.as_str());
    let r = t.call("GET", "/v1/server/app", Some(&by_hand), None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_server_token");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("replayed"));
    // `aud` may be a list naming the server; NumericDates may carry a fraction (RFC 7519).
    let mut list = claims(app, now, "16");
    list["aud"] = json!(["some-other-service", "sixin-server"]);
    list["iat"] = json!(now as f64 + 0.5);
    let r = t
        .call("GET", "/v1/server/app", Some(&mint(secret, &list)), None)
        .await;
    ok(&r, StatusCode::OK);
    // A token of another app sees only that app's members.
    let r = server(
        t,
        app,
        "PUT",
        "/v1/server/members/e",
        Some(json!({"username": "mine"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let r = server(t, other, "GET", "/v1/server/members?external_id=e", None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(
        t,
        other,
        "GET",
        &format!("/v1/server/members?uuid={}", member),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(t, other, "POST", "/v1/server/members/e/ban", None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // A server token is not a member session.
    let r = t
        .call("GET", "/v1/me", Some(&t.h().server_token(app)), None)
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
}

fn b64(v: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The signature with its first character changed (every bit of it is signature data).
fn flip_first(sig: &str) -> String {
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &sig[1..])
}

/// Requests the server API must refuse as `400 invalid_request`, with what the message names;
/// `past` is now, for `until`s that are not in the future.
fn bad_requests(past: i64) -> Vec<(&'static str, String, Option<Value>, &'static str)> {
    let long_id = "x".repeat(129);
    vec![
        (
            "PUT",
            "/v1/server/members/new".into(),
            Some(json!({})),
            "username",
        ),
        (
            "PUT",
            "/v1/server/members/new".into(),
            Some(json!({"username": ""})),
            "username",
        ),
        (
            "PUT",
            "/v1/server/members/new".into(),
            Some(json!({"username": "n", "ext_info": [1]})),
            "ext_info",
        ),
        (
            "PUT",
            "/v1/server/members/new".into(),
            Some(json!({"username": "n", "password": "x"})),
            "unknown field",
        ),
        (
            "PUT",
            format!("/v1/server/members/{long_id}"),
            Some(json!({"username": "n"})),
            "external_id",
        ),
        (
            "PUT",
            "/v1/server/members/k".into(),
            Some(json!({"ext_info": "no"})),
            "ext_info",
        ),
        (
            "POST",
            "/v1/server/members/k/ban".into(),
            Some(json!({"until": past})),
            "until",
        ),
        (
            "POST",
            "/v1/server/members/k/ban".into(),
            Some(json!({"reason": "a\u{0}b"})),
            "reason",
        ),
        (
            "POST",
            "/v1/server/members/k/mute".into(),
            Some(json!({"until": past - 1})),
            "until",
        ),
        (
            "POST",
            "/v1/server/members/k/sessions".into(),
            Some(json!({"ttl_secs": 0})),
            "ttl_secs",
        ),
        (
            "GET",
            "/v1/server/members?external_id=k&username=kim".into(),
            None,
            "exactly one",
        ),
        ("GET", "/v1/server/members?limit=0".into(), None, "limit"),
        (
            "GET",
            "/v1/server/members?cursor=%21%21".into(),
            None,
            "cursor",
        ),
        (
            "PUT",
            "/v1/server/app/registration".into(),
            Some(json!({"policy": "ajar"})),
            "policy",
        ),
    ]
}

async fn bad_input_is_refused_clearly_and_writes_nothing(h: Harness) {
    let (t, app) = start(h).await;
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/k",
        Some(json!({"username": "kim"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let cases = bad_requests(t.h().core.now().0);
    for (method, uri, body, says) in cases {
        let r = server(&t, &app, method, &uri, body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{method} {uri} {body:?}: {msg}");
    }
    let r = server(&t, &app, "GET", "/v1/server/members", None).await;
    let members = ok(&r, StatusCode::OK)["members"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(members.len(), 1, "{members:?}");
    let kim = &members[0];
    assert_eq!(
        (kim["username"].clone(), kim["ext_info"].clone()),
        (json!("kim"), json!({}))
    );
    assert!(kim["banned"].is_null() && kim["muted"].is_null());
    let r = server(&t, &app, "GET", "/v1/server/app", None).await;
    assert_eq!(ok(&r, StatusCode::OK)["registration"], "open");
    // A username another member has: 409, nothing renamed.
    t.member("taken").await;
    let r = server(
        &t,
        &app,
        "PUT",
        "/v1/server/members/k",
        Some(json!({"username": "taken"})),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    let r = server(&t, &app, "GET", "/v1/server/members?external_id=k", None).await;
    assert_eq!(ok(&r, StatusCode::OK)["username"], "kim");
}

/// The README's python3 snippet (standard library only) mints a token the server accepts. Skipped
/// where there is no python3.
async fn the_readme_python_snippet_mints_an_accepted_token(h: Harness) {
    let readme = include_str!("../../../README.md");
    let start = "<<'PY'\n";
    let from = readme.find(start).expect("the snippet in README.md") + start.len();
    let script = &readme[from..from + readme[from..].find("\nPY\n").unwrap()];
    let (t, app) = start_at_wall_clock(h).await;
    let mut child = match std::process::Command::new("python3")
        .args(["-", app.key.as_str(), &app.secret.0])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return eprintln!("SKIPPED: python3 is not available ({e})"),
    };
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap();
    let r = t
        .call("GET", "/v1/server/app", Some(token.trim()), None)
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["app_key"], app.key.as_str());
}

/// [`start`], with the harness clock moved to the wall clock (the snippet uses real time).
async fn start_at_wall_clock(h: Harness) -> (NativeApi, App) {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ahead = u64::try_from(wall - h.core.now().0).unwrap();
    h.clock.advance(Duration::from_millis(ahead));
    start(h).await
}

sixin_tests::both_backends!(
    the_readme_python_snippet_mints_an_accepted_token,
    members_are_provisioned_found_listed_and_given_sessions,
    bans_end_sessions_and_lapse_by_themselves,
    muted_members_read_but_every_native_send_is_refused,
    closed_registration_refuses_self_registration_only,
    server_tokens_must_be_fresh_signed_for_the_server_and_single_use,
    bad_input_is_refused_clearly_and_writes_nothing,
);
