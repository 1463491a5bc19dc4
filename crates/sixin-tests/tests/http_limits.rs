//! Rate limits and logins over real HTTP, exactly as each dialect shows the refusal: native
//! `429 rate_limited` with `Retry-After` and the IETF `RateLimit-Policy`/`RateLimit` headers,
//! YesApi `ret 429` with the limit in `msg`; common passwords refused; PhalApi and Discuz have
//! no login or registration to get around them. The client IP is the peer, or what
//! `X-Forwarded-For` says behind a trusted proxy only. Runs on SQLite and PostgreSQL; the clock
//! is the harness's, so every `retry in` is exact.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use md5::{Digest, Md5};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_http::HttpConfig;
use sixin_tests::native::{NativeApi, Reply};
use sixin_tests::{Harness, TestServer};

/// Tight limits on the harness's app: 2 registrations an hour and 3 logins a minute per IP;
/// after 2 wrong passwords in a row, 30 s (at most 60 s).
async fn tighten(h: &Harness, app_key: &str) -> App {
    let caller = h.core.act_for_app(app_key).await.unwrap();
    let over = json!({
        "registrations_per_ip": {"per": 2, "secs": 3600, "burst": 2},
        "logins_per_ip": {"per": 3, "secs": 60, "burst": 3},
        "failed_logins_free": 2, "failed_login_delay_secs": 30, "failed_login_max_delay_secs": 60,
    });
    h.core.set_limits(&caller, Some(over)).await.unwrap()
}

/// A native `429 rate_limited` exactly: body and the three headers.
fn assert_throttled(r: &Reply, policy: &str, quota: u32, window: u32, retry: u32) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    let message =
        format!("too many requests ({policy}: {quota} per {window} s); retry in {retry} s");
    let body = json!({"error": {"code": "rate_limited", "message": message}});
    assert_eq!(r.body, body);
    let h = |name: &str| r.headers[name].to_str().unwrap().to_owned();
    assert_eq!(h("retry-after"), retry.to_string());
    assert_eq!(
        h("ratelimit-policy"),
        format!(r#""{policy}";q={quota};w={window}"#)
    );
    assert_eq!(h("ratelimit"), format!(r#""{policy}";r=0;t={retry}"#));
}

async fn native_refusals_carry_retry_after_and_the_ratelimit_headers(h: Harness) {
    let t = NativeApi::start(h).await;
    tighten(t.h(), &t.app_key).await;
    let creds =
        |name: &str, pw: &str| json!({"app_key": t.app_key, "username": name, "password": pw});
    let register = |body| t.call("POST", "/v1/members", None, Some(body));
    assert_eq!(register(creds("alice", "pass-phrase-1")).await.status, 201);
    let weak = register(creds("bob", "123456")).await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let why = "invalid password: is one of the most common passwords: choose one that is \
               harder to guess";
    assert_eq!(
        weak.body,
        json!({"error": {"code": "invalid_request", "message": why}})
    );
    // Both registrations from 127.0.0.1 spent its two: one more is refused for 1800 s.
    let third = register(creds("carol", "pass-phrase-1")).await;
    assert_throttled(&third, "registrations", 2, 3600, 1800);

    let login = |pw: &str| t.call("POST", "/v1/sessions", None, Some(creds("alice", pw)));
    for _ in 0..2 {
        let r = login("guess-guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    }
    // Locked: the right password is refused unchecked until the 30 s are over.
    assert_throttled(&login("pass-phrase-1").await, "failed_logins", 2, 30, 30);
    // Three logins a minute from one IP, refused or not: the fourth waits 20 s.
    assert_throttled(&login("pass-phrase-1").await, "logins", 3, 60, 20);
}

/// A YesApi answer, checked as the SDK checks it: `_auth` recomputed over `data` and `_t`.
async fn yesapi(t: &TestServer, app: &App, method: &str, params: &[(&str, &str)]) -> Value {
    let mut form = vec![("app_key", app.key.to_string())];
    form.extend(params.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let url = t.url(&format!("/api/App/User/{method}"));
    let r = t.client.post(url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200, "every YesApi answer is HTTP 200");
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let stamp = body["_t"].as_i64().unwrap();
    let data = &text[text.find(r#""data":"#).unwrap() + 7..text.rfind(r#","msg":"#).unwrap()];
    let tag = hex::encode(Md5::digest(format!("{data}{stamp}{}", app.secret.0)));
    assert_eq!(body["_auth"], tag.as_str(), "{text}");
    body
}

/// `{"ret": ret, "data": {}, "msg": msg}` plus `_t` and `_auth`, and nothing else.
fn assert_envelope(body: &Value, ret: u16, msg: &str) {
    let mut expected = json!({"ret": ret, "data": {}, "msg": msg});
    expected["_t"] = body["_t"].clone();
    expected["_auth"] = body["_auth"].clone();
    assert_eq!(*body, expected);
}

async fn yesapi_refusals_are_ret_429_with_the_limit_in_msg(h: Harness) {
    let app = h.app().await;
    let app = tighten(&h, app.key.as_str()).await;
    let t = TestServer::start(h, HttpConfig::default()).await;
    let alice = [("username", "alice"), ("password", "pass-phrase-1")];
    let ok = yesapi(&t, &app, "Register", &alice).await;
    assert_eq!(
        (ok["ret"].as_i64(), ok["data"]["err_code"].as_i64()),
        (Some(200), Some(0))
    );
    let weak = [("username", "bob"), ("password", "      ")];
    let refused = yesapi(&t, &app, "RegisterExt", &weak).await;
    assert_envelope(
        &refused,
        400,
        "invalid password: must not be only whitespace",
    );
    let carol = [("username", "carol"), ("password", "pass-phrase-1")];
    let limited = yesapi(&t, &app, "Register", &carol).await;
    let msg = "too many requests (registrations: 2 per 3600 s); retry in 1800 s";
    assert_envelope(&limited, 429, msg);

    let guess = [("username", "alice"), ("password", "guess-guess")];
    for _ in 0..2 {
        let wrong = yesapi(&t, &app, "Login", &guess).await;
        assert_eq!(wrong["data"]["err_code"], 1, "{wrong}");
    }
    let locked = yesapi(&t, &app, "LoginExt", &alice).await;
    let msg = "too many requests (failed_logins: 2 per 30 s); retry in 30 s";
    assert_envelope(&locked, 429, msg);
    let limited = yesapi(&t, &app, "Login", &alice).await;
    let msg = "too many requests (logins: 3 per 60 s); retry in 20 s";
    assert_envelope(&limited, 429, msg);
}

async fn phalapi_and_discuz_have_no_login_to_get_around_the_limits(h: Harness) {
    let app = h.app().await;
    let t = TestServer::start(h, HttpConfig::default()).await;
    let key = app.key.to_string();
    for service in ["App.User.Login", "App.User.Register"] {
        let query = [
            ("s", service),
            ("app_key", &key),
            ("username", "alice"),
            ("password", "guess-guess"),
        ];
        let r = t
            .client
            .get(t.url("/api/platform"))
            .query(&query)
            .send()
            .await;
        let body: Value = r.unwrap().json().await.unwrap();
        let msg = format!("unknown service: {service}");
        assert_eq!(body, json!({"ret": 404, "data": {}, "msg": msg}));
    }
    // Discuz answers one action, pm_get, which reads with a session token.
    let query = [
        ("id", "xinxiu_network:pm"),
        ("action", "login"),
        ("token", "x"),
    ];
    let r = t
        .client
        .get(t.url("/plugin.php"))
        .query(&query)
        .send()
        .await;
    let body: Value = r.unwrap().json().await.unwrap();
    assert_eq!(body["code"], 404, "{body}");
    assert_eq!(body["result"], "unknown action", "{body}");
}

/// Registers `name` on `base` with `X-Forwarded-For: xff` (if given): the status.
async fn register_via(t: &TestServer, base: &str, key: &str, name: &str, xff: Option<&str>) -> u16 {
    let body = json!({"app_key": key, "username": name, "password": "pass-phrase-1"});
    let mut req = t.client.post(format!("{base}/v1/members")).json(&body);
    if let Some(xff) = xff {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn x_forwarded_for_counts_only_behind_a_trusted_proxy(h: Harness) {
    let app = h.app().await;
    tighten(&h, app.key.as_str()).await;
    let core = h.core.clone();
    let trusting = HttpConfig {
        trusted_proxies: vec![sixin_http::parse_trusted_proxy("127.0.0.0/8").unwrap()],
        ..HttpConfig::default()
    };
    let t = TestServer::start(h, trusting).await;
    let (key, base) = (app.key.as_str(), t.base.clone());
    let reg = |name: &'static str, xff: &'static str| register_via(&t, &base, key, name, Some(xff));
    assert_eq!(reg("a1", "198.51.100.1").await, 201);
    assert_eq!(reg("a2", "198.51.100.1").await, 201);
    assert_eq!(reg("a3", "198.51.100.1").await, 429);
    // Another client behind the proxy has its own bucket; what a client writes left of the
    // proxy's entry is never read.
    assert_eq!(reg("b1", "198.51.100.2").await, 201);
    assert_eq!(reg("b2", "198.51.100.2, 198.51.100.1").await, 429);

    // The same core behind a router that trusts no proxy: the header is ignored and every
    // request is 127.0.0.1's.
    let plain = sixin_http::router(core, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    let served = plain.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    let via =
        |name: &'static str, xff: &'static str| register_via(&t, &other, key, name, Some(xff));
    assert_eq!(via("c1", "198.51.100.3").await, 201);
    assert_eq!(via("c2", "198.51.100.4").await, 201);
    assert_eq!(via("c3", "198.51.100.5").await, 429);
    task.abort();
}

sixin_tests::both_backends!(
    native_refusals_carry_retry_after_and_the_ratelimit_headers,
    yesapi_refusals_are_ret_429_with_the_limit_in_msg,
    phalapi_and_discuz_have_no_login_to_get_around_the_limits,
    x_forwarded_for_counts_only_behind_a_trusted_proxy,
);
