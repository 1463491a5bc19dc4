//! Rotating an app secret over real HTTP (`POST /v1/server/app/secret`): during the grace
//! period the old secret still proves the app everywhere — server API tokens (the one that
//! asked for the rotation included), app-signed member tokens, YesApi `sign` (answered with an `_auth` made with the
//! secret the request was signed with), PhalApi `App.Auth.ApplyToken` and access tokens issued
//! before — and once the deadline passes only the new one does. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use md5::{Digest, Md5};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_http::HttpConfig;
use sixin_tests::server_token::{claims, mint};
use sixin_tests::{Harness, Person, TestServer};

type Params = Vec<(&'static str, String)>;

/// A server API call with a fresh token of `app` signed with `secret`.
async fn server(
    srv: &TestServer,
    app: &App,
    secret: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let now = srv.h.core.now().unix_seconds();
    let jti = format!("t-{}", rand::random::<u64>());
    let token = mint(secret, &claims(app, now, &jti));
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = srv.client.request(method, srv.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET /v1/server/app` with a token signed with `secret`: its status.
async fn server_status(srv: &TestServer, app: &App, secret: &str) -> StatusCode {
    server(srv, app, secret, "GET", "/v1/server/app", None)
        .await
        .0
}

/// Rotates `app`'s secret through the server API, authenticated with `secret`: the answer.
async fn rotate(srv: &TestServer, app: &App, secret: &str, body: Option<Value>) -> Value {
    let (status, v) = server(srv, app, secret, "POST", "/v1/server/app/secret", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["app_key"], app.key.as_str(), "{v}");
    v
}

/// `GET /v1/me` with an app-signed member token for `sub` signed with `secret`: its status.
async fn member_token_status(srv: &TestServer, app: &App, secret: &str, sub: &str) -> StatusCode {
    let now = srv.h.core.now().unix_seconds();
    let claims = json!({"iss": app.key.as_str(), "sub": sub, "iat": now, "exp": now + 3600});
    let token = mint(secret, &claims);
    let r = srv.client.get(srv.url("/v1/me")).bearer_auth(token).send();
    r.await.unwrap().status()
}

/// The YesApi SDK's `sign` (written independently of the server's code).
fn sdk_sign(params: &Params, secret: &str) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().filter(|(k, _)| *k != "sign").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text: String = sorted.iter().map(|(_, v)| v.as_str()).collect();
    text.push_str(secret);
    hex::encode_upper(Md5::digest(text.as_bytes()))
}

fn signed(mut params: Params, secret: &str) -> Params {
    let sign = sdk_sign(&params, secret);
    params.push(("sign", sign));
    params
}

/// A YesApi send from `from` to `to` signed with `secret`: `ret`, after checking that `_auth`
/// was made with `auth_secret`.
async fn yesapi_send(
    srv: &TestServer,
    app: &App,
    from: &Person,
    to: &Person,
    secret: &str,
    auth_secret: &str,
) -> i64 {
    let params = signed(
        vec![
            ("app_key", app.key.to_string()),
            ("uuid", from.member.uuid.to_string()),
            ("token", from.token.clone()),
            ("other_uuid", to.member.uuid.to_string()),
            ("chat_message_data", "hi".into()),
        ],
        secret,
    );
    let url = srv.url("/api/App/Market_ChatMessage/Send");
    let r = srv.client.post(url).form(&params).send().await.unwrap();
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let start = text.find(r#""data":"#).unwrap() + 7;
    let end = text.rfind(r#","msg":"#).unwrap();
    let t = v["_t"].as_i64().unwrap();
    let auth = hex::encode(Md5::digest(format!(
        "{}{t}{auth_secret}",
        &text[start..end]
    )));
    assert_eq!(v["_auth"].as_str(), Some(auth.as_str()), "{text}");
    v["ret"].as_i64().unwrap()
}

async fn phalapi(srv: &TestServer, params: &Params) -> Value {
    let url = srv.url("/api/platform");
    let r = srv.client.post(url).form(params).send().await.unwrap();
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// `App.Auth.ApplyToken` signed with `secret`: the access token, or the `ret` refusing it.
async fn apply_token(srv: &TestServer, app: &App, secret: &str) -> Result<String, i64> {
    let params = signed(
        vec![
            ("s", "App.Auth.ApplyToken".into()),
            ("app_key", app.key.to_string()),
        ],
        secret,
    );
    let v = phalapi(srv, &params).await;
    match v["data"]["access_token"].as_str() {
        Some(t) => Ok(t.to_owned()),
        None => Err(v["ret"].as_i64().unwrap()),
    }
}

/// A PhalApi send from `from` to `to` with `access_token`: `ret`.
async fn phalapi_send(srv: &TestServer, app: &App, from: &Person, to: &Person, token: &str) -> i64 {
    let params: Params = vec![
        ("s", "Platform.ChatMessage.Send".into()),
        ("app_key", app.key.to_string()),
        ("uuid", from.member.uuid.to_string()),
        ("token", from.token.clone()),
        ("chat_message_to_uuid", to.member.uuid.to_string()),
        ("chat_message_data", "hello".into()),
        ("chat_message_type", "text".into()),
        ("access_token", token.to_owned()),
    ];
    phalapi(srv, &params).await["ret"].as_i64().unwrap()
}

async fn the_old_secret_works_everywhere_until_the_grace_ends(h: Harness) {
    let app = h.core.create_app("signed", true).await.unwrap();
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let old = app.secret.0.clone();
    let minted_before = apply_token(&srv, &app, &old).await.unwrap();
    let backend = srv.h.backend(&app).await;
    let core = &srv.h.core;
    core.upsert_member(&backend, "u-1", Some("ursula"), None)
        .await
        .unwrap();

    // The token that asks for the rotation is signed with the old secret.
    let started = srv.h.core.now();
    let v = rotate(&srv, &app, &old, Some(json!({"grace_secs": 600}))).await;
    let new = v["app_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(new.len(), 32);
    let until = started.plus(Duration::from_secs(600)).0;
    assert_eq!(v["previous_secret_until"], until, "{v}");
    // The new secret is never shown again.
    let (_, shown) = server(&srv, &app, &new, "GET", "/v1/server/app", None).await;
    assert!(!shown.to_string().contains(&new), "{shown}");

    // During the grace period: both secrets, everywhere.
    for secret in [&old, &new] {
        assert_eq!(server_status(&srv, &app, secret).await, StatusCode::OK);
        let member_token = member_token_status(&srv, &app, secret, "u-1").await;
        assert_eq!(member_token, StatusCode::OK);
        assert_eq!(yesapi_send(&srv, &app, &a, &b, secret, secret).await, 200);
        let token = apply_token(&srv, &app, secret).await.unwrap();
        assert_eq!(phalapi_send(&srv, &app, &a, &b, &token).await, 200);
    }
    let minted_during = apply_token(&srv, &app, &old).await.unwrap();
    assert_eq!(
        phalapi_send(&srv, &app, &a, &b, &minted_before).await,
        200,
        "an access token issued before the rotation"
    );

    // The last millisecond of grace, then the deadline.
    srv.h.clock.advance(Duration::from_millis(599_999));
    assert_eq!(server_status(&srv, &app, &old).await, StatusCode::OK);
    srv.h.clock.advance(Duration::from_millis(1));
    let (status, v) = server(&srv, &app, &old, "GET", "/v1/server/app", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["error"]["code"], "bad_server_token", "{v}");
    let member_token = member_token_status(&srv, &app, &old, "u-1").await;
    assert_eq!(member_token, StatusCode::UNAUTHORIZED);
    let member_token = member_token_status(&srv, &app, &new, "u-1").await;
    assert_eq!(member_token, StatusCode::OK);
    // A refused YesApi request is answered with an `_auth` of the current secret.
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &old, &new).await, 406);
    assert_eq!(apply_token(&srv, &app, &old).await, Err(406));
    assert_eq!(phalapi_send(&srv, &app, &a, &b, &minted_before).await, 406);
    // ApplyToken always issues under the current secret, however it was signed.
    assert_eq!(phalapi_send(&srv, &app, &a, &b, &minted_during).await, 200);
    // The new secret goes on working.
    assert_eq!(server_status(&srv, &app, &new).await, StatusCode::OK);
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &new, &new).await, 200);
    let token = apply_token(&srv, &app, &new).await.unwrap();
    assert_eq!(phalapi_send(&srv, &app, &a, &b, &token).await, 200);
    // Sent during grace: 2 YesApi + 3 PhalApi; after: 1 + 2.
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 8);
}

async fn a_zero_grace_stops_the_old_secret_at_once_and_rotating_again_forgets_it(h: Harness) {
    let app = h.core.create_app("signed", true).await.unwrap();
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let old = app.secret.0.clone();
    let v = rotate(&srv, &app, &old, Some(json!({"grace_secs": 0}))).await;
    let new = v["app_secret"].as_str().unwrap().to_owned();
    assert_eq!(v["previous_secret_until"], srv.h.core.now().0);
    assert_eq!(
        server_status(&srv, &app, &old).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &old, &new).await, 406);
    assert_eq!(apply_token(&srv, &app, &old).await, Err(406));
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &new, &new).await, 200);

    // Without a body the grace is server_api.secret_grace_secs (24 h by default); a further
    // rotation keeps only the secret it replaces.
    let v = rotate(&srv, &app, &new, None).await;
    let third = v["app_secret"].as_str().unwrap().to_owned();
    let day = srv.h.core.now().plus(Duration::from_secs(86_400)).0;
    assert_eq!(v["previous_secret_until"], day, "{v}");
    let v = rotate(&srv, &app, &third, Some(json!({}))).await;
    let fourth = v["app_secret"].as_str().unwrap().to_owned();
    for (secret, status) in [
        (&old, StatusCode::UNAUTHORIZED),
        (&new, StatusCode::UNAUTHORIZED),
        (&third, StatusCode::OK),
        (&fourth, StatusCode::OK),
    ] {
        assert_eq!(server_status(&srv, &app, secret).await, status);
    }
}

async fn bad_rotations_are_refused_and_change_nothing(h: Harness) {
    let app = h.core.create_app("one", false).await.unwrap();
    let other = h.core.create_app("two", false).await.unwrap();
    let a = h.person(&app, "alice").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let secret = app.secret.0.clone();
    for body in [
        json!({"grace_secs": 2_592_001}),
        json!({"grace_secs": -1}),
        json!({"grace_secs": "60"}),
        json!({"grace": 60}),
    ] {
        let (status, v) = server(
            &srv,
            &app,
            &secret,
            "POST",
            "/v1/server/app/secret",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    // A member's session token and another app's secret do not open it.
    let url = srv.url("/v1/server/app/secret");
    let r = srv.client.post(&url).bearer_auth(&a.token).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::UNAUTHORIZED);
    let (status, _) = server(
        &srv,
        &app,
        &other.secret.0,
        "POST",
        "/v1/server/app/secret",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nothing changed: the app keeps its one secret, the other app is untouched.
    let now = srv.h.core.app_by_key(app.key.as_str()).await.unwrap();
    assert_eq!(
        (now.secret.0.as_str(), now.previous_secret),
        (secret.as_str(), None)
    );
    let two = srv.h.core.app_by_key(other.key.as_str()).await.unwrap();
    assert_eq!(two, other);
    // One app's rotation leaves the other's secret alone.
    rotate(&srv, &app, &secret, Some(json!({"grace_secs": 0}))).await;
    assert_eq!(
        server_status(&srv, &other, &other.secret.0).await,
        StatusCode::OK
    );
}

async fn auth_follows_the_secret_a_request_was_signed_with_even_when_signing_is_optional(
    h: Harness,
) {
    let app = h.core.create_app("open", false).await.unwrap();
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let old = app.secret.0.clone();
    let v = rotate(&srv, &app, &old, Some(json!({"grace_secs": 60}))).await;
    let new = v["app_secret"].as_str().unwrap().to_owned();
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &old, &old).await, 200);
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &new, &new).await, 200);
    // A sign made with no accepted secret is ignored here (signing is optional): the current
    // secret tags the answer, as it does once the old secret's grace is over.
    assert_eq!(yesapi_send(&srv, &app, &a, &b, "WRONG", &new).await, 200);
    srv.h.clock.advance(Duration::from_secs(60));
    assert_eq!(yesapi_send(&srv, &app, &a, &b, &old, &new).await, 200);
}

sixin_tests::both_backends!(
    auth_follows_the_secret_a_request_was_signed_with_even_when_signing_is_optional,
    the_old_secret_works_everywhere_until_the_grace_ends,
    a_zero_grace_stops_the_old_secret_at_once_and_rotating_again_forgets_it,
    bad_rotations_are_refused_and_change_nothing,
);
