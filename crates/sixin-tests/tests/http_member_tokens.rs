//! App-signed member tokens over real HTTP: a JWT the app's backend signs (HS256 with the app
//! secret, `sub` = the member's external id) opens every door a session token opens — native
//! Bearer, the event stream, YesApi `token`, Discuz `token` — and every malformed, foreign,
//! expired, over-long or server-audience token is refused. The first use provisions the member
//! only when the app says so. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::{App, MemberTokens};
use sixin_core::Clock as _;
use sixin_tests::native::{start_with_app as start, NativeApi};
use sixin_tests::server_token::{mint, mint_by_hand};
use sixin_tests::Harness;

fn now_secs(t: &NativeApi) -> i64 {
    t.h().clock.now().unix_seconds()
}

/// Valid member-token claims for `sub` in `app`, living an hour.
fn member_claims(t: &NativeApi, app: &App, sub: &str) -> Value {
    json!({"iss": app.key.as_str(), "sub": sub, "iat": now_secs(t), "exp": now_secs(t) + 3600})
}

/// Provisions `external_id` as `username` through the core (as the server API would).
async fn provision(t: &NativeApi, external_id: &str, username: &str) -> String {
    let core = &t.h().core;
    let app = core.act_for_app(&t.app_key).await.unwrap();
    let (m, _) = core
        .upsert_member(&app, external_id, Some(username), None)
        .await
        .unwrap();
    m.uuid.to_string()
}

async fn me(t: &NativeApi, token: &str) -> (StatusCode, Value) {
    let r = t.call("GET", "/v1/me", Some(token), None).await;
    (r.status, r.body)
}

fn code(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
}

async fn a_signed_token_opens_every_door_a_session_opens(h: Harness) {
    let (t, app) = start(h).await;
    let uuid = provision(&t, "u-1", "ann").await;
    let bob = t.member("bob").await;
    let token = mint(&app.secret.0, &member_claims(&t, &app, "u-1"));
    let (status, body) = me(&t, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["uuid"], uuid.as_str());
    // Built by hand (base64url + HMAC-SHA256), as a backend without a JWT library would.
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let by_hand = mint_by_hand(&app.secret.0, &header, &member_claims(&t, &app, "u-1"));
    assert_eq!(me(&t, &by_hand).await.0, StatusCode::OK);
    // Native send, then YesApi and Discuz with the same token.
    let sent = t
        .call(
            "POST",
            "/v1/messages",
            Some(&token),
            Some(json!({"to": bob.uuid, "type": "text", "data": {"content": "hi"}})),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let conv = sent.body["conversation_id"].as_i64().unwrap();
    let yes = t
        .srv
        .client
        .get(t.srv.url("/api/App/Market_ChatMessage/GetAllUnreadNum"))
        .query(&[
            ("app_key", t.app_key.as_str()),
            ("uuid", &uuid),
            ("token", &token),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(yes["ret"], 200, "{yes}");
    let plids = conv.to_string();
    let discuz = t
        .srv
        .client
        .get(t.srv.url("/plugin.php"))
        .query(&[
            ("id", "xinxiu_network:pm"),
            ("action", "pm_get"),
            ("token", token.as_str()),
            ("plids", plids.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(discuz["code"], 200, "{discuz}");
    // The event stream takes it too.
    let events = t
        .srv
        .client
        .get(t.srv.url(&format!("/v1/events?access_token={token}")))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut events = events;
    let first = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("ready"),
        "{first:?}"
    );
}

async fn bad_signed_tokens_are_refused(h: Harness) {
    let (t, app) = start(h).await;
    provision(&t, "u-1", "ann").await;
    let other = t.h().app().await;
    let good = member_claims(&t, &app, "u-1");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let now = now_secs(&t);
    let max = 24 * 3600;
    let cases: Vec<(&str, String)> = vec![
        ("another app's secret", mint(&other.secret.0, &good)),
        (
            "expired",
            mint(&app.secret.0, &with(&|c| c["exp"] = json!(now - 1))),
        ),
        (
            "no exp",
            mint(
                &app.secret.0,
                &with(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
            ),
        ),
        (
            "too long",
            mint(&app.secret.0, &with(&|c| c["exp"] = json!(now + max + 60))),
        ),
        (
            "iat ahead",
            mint(&app.secret.0, &with(&|c| c["iat"] = json!(now + 600))),
        ),
        (
            "a server token",
            mint(&app.secret.0, &with(&|c| c["aud"] = json!("sixin-server"))),
        ),
        (
            "no sub",
            mint(
                &app.secret.0,
                &with(&|c| drop(c.as_object_mut().unwrap().remove("sub"))),
            ),
        ),
        (
            "unknown sub",
            mint(&app.secret.0, &with(&|c| c["sub"] = json!("u-404"))),
        ),
        (
            "unknown app",
            mint(&app.secret.0, &with(&|c| c["iss"] = json!("0".repeat(32)))),
        ),
        (
            "alg none",
            mint_by_hand("", &json!({"alg": "none"}), &good)
                .trim_end_matches('.')
                .to_owned()
                + ".",
        ),
        ("HS512", {
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512);
            let key = jsonwebtoken::EncodingKey::from_secret(app.secret.0.as_bytes());
            jsonwebtoken::encode(&header, &good, &key).unwrap()
        }),
    ];
    for (why, token) in cases {
        let (status, body) = me(&t, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        code(&body, "unauthenticated");
    }
    // Without `iat`, the lifetime counts from now.
    let no_iat = with(&|c| drop(c.as_object_mut().unwrap().remove("iat")));
    assert_eq!(
        me(&t, &mint(&app.secret.0, &no_iat)).await.0,
        StatusCode::OK
    );
    // Expiry is the server's clock.
    let token = mint(&app.secret.0, &good);
    t.h().clock.advance(Duration::from_secs(3601));
    assert_eq!(me(&t, &token).await.0, StatusCode::UNAUTHORIZED);
}

async fn the_first_use_provisions_only_when_the_app_says_so(h: Harness) {
    let (t, app) = start(h).await;
    let mut claims = member_claims(&t, &app, "new-7");
    claims["name"] = json!("neo");
    claims["ext_info"] = json!({"nick": "Neo"});
    let token = mint(&app.secret.0, &claims);
    assert_eq!(
        me(&t, &token).await.0,
        StatusCode::UNAUTHORIZED,
        "existing only"
    );
    let core = &t.h().core;
    let caller = core.act_for_app(&t.app_key).await.unwrap();
    core.set_member_tokens(&caller, MemberTokens::Provision)
        .await
        .unwrap();
    let (status, first) = me(&t, &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["username"], "neo");
    assert_eq!(first["ext_info"]["nick"], "Neo");
    let (_, again) = me(&t, &token).await;
    assert_eq!(again["uuid"], first["uuid"], "one member per sub");
    // Another sub asking for a username already taken creates nothing.
    let mut taken = member_claims(&t, &app, "new-8");
    taken["name"] = json!("neo");
    let (status, body) = me(&t, &mint(&app.secret.0, &taken)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let caller = core.act_for_app(&t.app_key).await.unwrap();
    let lookup = sixin_core::service::MemberLookup::ExternalId("new-8");
    assert!(
        core.find_member(&caller, lookup).await.is_err(),
        "nothing written"
    );
    // A banned member's token is refused like their sessions.
    let uuid = first["uuid"].as_str().unwrap();
    let app_now = core.app_by_key(&t.app_key).await.unwrap();
    core.set_banned(&app_now, uuid, Some(Default::default()))
        .await
        .unwrap();
    let (status, body) = me(&t, &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    code(&body, "banned");
}

/// The README's snippet between `<<'{tag}'` and `{tag}` after the member-token heading.
fn readme_snippet(tag: &str) -> &'static str {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("### App-signed member tokens").unwrap()..];
    let open = format!("<<'{tag}'\n");
    let from = section.find(&open).unwrap() + open.len();
    &section[from..from + section[from..].find(&format!("\n{tag}\n")).unwrap()]
}

/// Runs `interpreter -` on `script` with the app key and secret: the token it prints, or `None`
/// when the interpreter is not installed.
fn mint_with(interpreter: &str, script: &str, app: &App) -> Option<String> {
    let mut child = match std::process::Command::new(interpreter)
        .args(["-", app.key.as_str(), &app.secret.0])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: {interpreter} is not available ({e})");
            return None;
        }
    };
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{interpreter}: {out:?}");
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

/// The README's Python (standard library) and Node.js (`node:crypto`) snippets mint tokens
/// sixin accepts.
async fn the_readme_snippets_mint_accepted_member_tokens(h: Harness) {
    // The snippets sign with the wall clock: move the harness clock there.
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    h.clock.advance(Duration::from_millis(
        u64::try_from(wall - h.clock.now().0).unwrap(),
    ));
    let (t, app) = start(h).await;
    let uuid = provision(&t, "user-42", "ann").await;
    for (interpreter, tag) in [("python3", "PY"), ("node", "JS")] {
        let Some(token) = mint_with(interpreter, readme_snippet(tag), &app) else {
            continue;
        };
        let (status, body) = me(&t, &token).await;
        assert_eq!(status, StatusCode::OK, "{interpreter}: {body}");
        assert_eq!(body["uuid"], uuid.as_str());
    }
}

sixin_tests::both_backends!(
    the_readme_snippets_mint_accepted_member_tokens,
    a_signed_token_opens_every_door_a_session_opens,
    bad_signed_tokens_are_refused,
    the_first_use_provisions_only_when_the_app_says_so,
);
