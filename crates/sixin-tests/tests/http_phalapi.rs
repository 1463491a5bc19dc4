//! The APIUSB/PhalApi dialect over real HTTP (seeds/001): `Platform.ChatMessage.Send` with its
//! `{ret, data: {id}, msg}` envelope (`data.id` a string), the error table 400/404/406/407/408,
//! access tokens from `App.Auth.ApplyToken`, the `debug` block, and isolation between members
//! and apps. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use md5::{Digest, Md5};
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_core::store::HistoryWindow;
use sixin_http::HttpConfig;
use sixin_tests::{Harness, Person, TestServer};

const PLATFORM: &str = "/api/platform";

type Params = Vec<(&'static str, String)>;

async fn get(srv: &TestServer, params: &Params) -> Value {
    let r = srv
        .client
        .get(srv.url(PLATFORM))
        .query(params)
        .send()
        .await
        .unwrap();
    read(r).await
}

async fn post(srv: &TestServer, params: &Params) -> Value {
    let r = srv
        .client
        .post(srv.url(PLATFORM))
        .form(params)
        .send()
        .await
        .unwrap();
    read(r).await
}

async fn read(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 200, "every PhalApi answer is HTTP 200");
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn member(app: &App, p: &Person) -> Params {
    vec![
        ("app_key", app.key.to_string()),
        ("uuid", p.member.uuid.to_string()),
        ("token", p.token.clone()),
    ]
}

fn with(mut base: Params, more: &[(&'static str, &str)]) -> Params {
    base.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    base
}

/// The seed's example send to `to`.
fn send(base: Params, to: &str) -> Params {
    with(
        base,
        &[
            ("s", "Platform.ChatMessage.Send"),
            ("chat_message_to_uuid", to),
            ("chat_message_data", "hello word"),
            ("chat_message_type", "text"),
        ],
    )
}

/// `{"ret": ret, "data": {}, "msg": "<non-empty>"}` and nothing else.
fn error(v: &Value, ret: i64) {
    assert_eq!(v["ret"].as_i64(), Some(ret), "{v}");
    assert_eq!(v["data"], json!({}), "{v}");
    assert!(v["msg"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 3, "{v}");
}

/// A successful send: `data.id` is a string holding the new message id.
fn sent_id(v: &Value) -> i64 {
    assert_eq!(v["ret"].as_i64(), Some(200), "{v}");
    assert_eq!(v["msg"].as_str(), Some(""), "{v}");
    let id = v["data"]["id"].as_str().expect("data.id is a string");
    id.parse().expect("data.id holds an integer")
}

/// YesApi's client SDK signature (see http_yesapi.rs), used to apply for access tokens.
fn sdk_sign(params: &Params, secret: &str) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().filter(|(k, _)| *k != "sign").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text: String = sorted.iter().map(|(_, v)| v.as_str()).collect();
    text.push_str(secret);
    hex::encode_upper(Md5::digest(text.as_bytes()))
}

async fn send_golden_envelope(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let b_uuid = b.member.uuid.to_string();

    let v = get(&srv, &send(member(&app, &a), &b_uuid)).await;
    let first = sent_id(&v);
    assert_eq!(
        v.as_object().unwrap().len(),
        3,
        "no debug block unless enabled: {v}"
    );
    let mut p = send(member(&app, &a), &b_uuid);
    p[3] = ("service", "Platform.ChatMessage.Send".into());
    p.push(("ext_data", "order-17".into()));
    let second = sent_id(&post(&srv, &p).await);
    assert!(second > first);
    // JSON object data and the other types.
    let p = with(
        member(&app, &a),
        &[
            ("s", "Platform.ChatMessage.Send"),
            ("chat_message_to_uuid", &b_uuid),
            ("chat_message_type", "image"),
            (
                "chat_message_data",
                r#"{"url":"https://example.com/a.png","width":10}"#,
            ),
        ],
    );
    sent_id(&post(&srv, &p).await);

    let page = srv
        .h
        .core
        .history_with(&b.caller, a.member.uuid.as_str(), HistoryWindow::Latest, 10)
        .await
        .unwrap();
    let items = &page.items;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].message.id.0, first);
    assert_eq!(items[0].message.data, json!({"content": "hello word"}));
    assert_eq!(items[1].message.ext_data.as_deref(), Some("order-17"));
    assert_eq!(items[2].message.data["width"], 10);
}

async fn errors_follow_the_phalapi_table(h: Harness) {
    let app = h.app().await;
    let other = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let banned = h.person(&app, "mallory").await;
    let stranger = h.person(&other, "stranger").await;
    h.core
        .set_banned(
            &app,
            banned.member.uuid.as_str(),
            Some(sixin_core::store::Ban::default()),
        )
        .await
        .unwrap();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let b_uuid = b.member.uuid.to_string();

    // 404: unknown service (the seed's own Python example misspells it as ...Sendx), or none.
    let mut p = send(member(&app, &a), &b_uuid);
    p[3].1 = "Platform.ChatMessage.Sendx".into();
    error(&get(&srv, &p).await, 404);
    error(&post(&srv, &member(&app, &a)).await, 404);
    // 400: missing or bad parameters, invalid data, yourself, unknown recipients.
    let base = member(&app, &a);
    for drop in [
        "chat_message_to_uuid",
        "chat_message_data",
        "chat_message_type",
    ] {
        let p: Params = send(base.clone(), &b_uuid)
            .into_iter()
            .filter(|(k, _)| *k != drop)
            .collect();
        error(&get(&srv, &p).await, 400);
    }
    let mut bad_type = send(base.clone(), &b_uuid);
    bad_type[6].1 = "video".into();
    error(&get(&srv, &bad_type).await, 400);
    let mut bad_data = send(base.clone(), &b_uuid);
    bad_data[6].1 = "link".into();
    error(&get(&srv, &bad_data).await, 400);
    error(
        &get(&srv, &send(base.clone(), a.member.uuid.as_str())).await,
        400,
    );
    error(
        &get(
            &srv,
            &send(base.clone(), "12345678123456781234567812345678"),
        )
        .await,
        400,
    );
    error(
        &get(&srv, &send(base.clone(), stranger.member.uuid.as_str())).await,
        400,
    );
    // 400 missing app_key; 407 unknown app_key.
    let no_app: Params = send(base.clone(), &b_uuid)
        .into_iter()
        .filter(|(k, _)| *k != "app_key")
        .collect();
    error(&get(&srv, &no_app).await, 400);
    let mut unknown_app = send(base.clone(), &b_uuid);
    unknown_app[0].1 = "0123456789ABCDEF0123456789ABCDEF".into();
    error(&get(&srv, &unknown_app).await, 407);
    // 408: not logged in, or banned; 406: a token that is not this member's in this app.
    let anon = send(vec![("app_key", app.key.to_string())], &b_uuid);
    error(&get(&srv, &anon).await, 408);
    let mut wrong = send(base.clone(), &b_uuid);
    wrong[2].1 = b.token.clone();
    error(&get(&srv, &wrong).await, 406);
    let mut cross = send(member(&other, &stranger), &b_uuid);
    cross[0].1 = app.key.to_string();
    error(&get(&srv, &cross).await, 406);
    let v = get(&srv, &send(member(&app, &banned), &b_uuid)).await;
    let ret = v["ret"].as_i64().unwrap();
    assert!(ret == 406 || ret == 408, "{v}");

    // None of it wrote anything.
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 0);
}

async fn access_tokens_are_required_when_the_app_requires_signatures(h: Harness) {
    let app = h.core.create_app("signed", true).await.unwrap();
    let other = h.core.create_app("other", true).await.unwrap();
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let b_uuid = b.member.uuid.to_string();

    error(&get(&srv, &send(member(&app, &a), &b_uuid)).await, 406);

    // ApplyToken needs a valid YesApi-style sign; the secret itself never travels.
    let mut apply: Params = vec![
        ("s", "App.Auth.ApplyToken".into()),
        ("app_key", app.key.to_string()),
    ];
    error(&get(&srv, &apply).await, 406);
    apply.push(("sign", "0".repeat(32)));
    error(&get(&srv, &apply).await, 406);
    apply.pop();
    let sign = sdk_sign(&apply, &secret);
    apply.push(("sign", sign));
    let v = post(&srv, &apply).await;
    assert_eq!(v["ret"].as_i64(), Some(200), "{v}");
    let token = v["data"]["access_token"]
        .as_str()
        .expect("access_token is a string")
        .to_owned();
    assert_eq!(v["data"]["expires_in"].as_i64(), Some(7200));
    assert!(!token.contains(&secret));

    let with_token = |t: &str| with(send(member(&app, &a), &b_uuid), &[("access_token", t)]);
    sent_id(&get(&srv, &with_token(&token)).await);
    let mut tampered = token.clone();
    tampered.push('0');
    error(&get(&srv, &with_token(&tampered)).await, 406);
    let (expiry, tag) = token.split_once('.').unwrap();
    let later = format!("{}.{tag}", expiry.parse::<i64>().unwrap() + 3600);
    error(&get(&srv, &with_token(&later)).await, 406);
    // A token of another app does not work here.
    let mut apply_other: Params = vec![
        ("s", "App.Auth.ApplyToken".into()),
        ("app_key", other.key.to_string()),
    ];
    let sign = sdk_sign(&apply_other, &other.secret.0);
    apply_other.push(("sign", sign));
    let other_token = get(&srv, &apply_other).await["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    error(&get(&srv, &with_token(&other_token)).await, 406);
    // Tokens expire after two hours.
    srv.h.clock.advance(Duration::from_secs(7201));
    error(&get(&srv, &with_token(&token)).await, 406);
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 1);
}

async fn debug_block_needs_the_server_setting(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let v = get(
        &srv,
        &with(
            send(member(&app, &a), b.member.uuid.as_str()),
            &[("__debug__", "1")],
        ),
    )
    .await;
    sent_id(&v);
    assert!(v.get("debug").is_none(), "{v}");
}

async fn debug_block_when_enabled_and_asked(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let cfg = HttpConfig {
        phalapi_debug: true,
        ..HttpConfig::default()
    };
    let srv = TestServer::start(h, cfg).await;
    let p = send(member(&app, &a), b.member.uuid.as_str());
    assert!(get(&srv, &p).await.get("debug").is_none(), "not asked");
    let v = get(&srv, &with(p, &[("__debug__", "1")])).await;
    sent_id(&v);
    let debug = &v["debug"];
    let stack = debug["stack"].as_array().expect("stack is an array");
    assert_eq!(stack.len(), 3);
    assert!(
        stack[0]
            .as_str()
            .unwrap()
            .starts_with("[#1 - 0ms - PHALAPI_INIT]"),
        "{debug}"
    );
    assert!(
        stack[2].as_str().unwrap().contains("PHALAPI_FINISH"),
        "{debug}"
    );
    assert_eq!(debug["sqls"], json!([]));
    assert!(debug["version"].as_str().is_some_and(|s| !s.is_empty()));
    // Errors carry it too.
    let v = get(
        &srv,
        &vec![("s", "Nope.Nope".into()), ("__debug__", "1".into())],
    )
    .await;
    assert_eq!(v["ret"].as_i64(), Some(404));
    assert!(v["debug"]["stack"].is_array());
}

async fn members_cannot_reach_other_members_or_apps_conversations(h: Harness) {
    let app = h.app().await;
    let other = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let c = h.person(&app, "carol").await;
    let x = h.person(&other, "xavier").await;
    h.text(&a, &b, "private to bob").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;

    // Carol cannot post as Alice into Alice–Bob with her own token.
    let mut pose = send(member(&app, &a), b.member.uuid.as_str());
    pose[2].1 = c.token.clone();
    error(&get(&srv, &pose).await, 406);
    // Carol's send to Bob goes into Carol–Bob, never into Alice–Bob.
    sent_id(&get(&srv, &send(member(&app, &c), b.member.uuid.as_str())).await);
    let ab = srv
        .h
        .core
        .history_with(&a.caller, b.member.uuid.as_str(), HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(ab.items.len(), 1);
    // Another app's member cannot reach this app's members, nor use its app_key.
    error(
        &get(&srv, &send(member(&other, &x), a.member.uuid.as_str())).await,
        400,
    );
    let mut cross = send(member(&other, &x), a.member.uuid.as_str());
    cross[0].1 = app.key.to_string();
    error(&get(&srv, &cross).await, 406);
    assert_eq!(srv.h.core.unread_total(&a.caller).await.unwrap(), 0);
    assert_eq!(
        srv.h
            .core
            .conversation_count(&x.caller, None)
            .await
            .unwrap(),
        0
    );
}

/// A muted member's Send: `ret` 407 with the reason in `msg`.
async fn muted_members_get_ret_407(h: Harness) {
    let app = h.app().await;
    let m = h.provisioned(&app, "ext-1", "mute").await;
    let b = h.person(&app, "bob").await;
    h.mute(&app, "ext-1").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let v = get(&srv, &send(member(&app, &m), &b.member.uuid.to_string())).await;
    error(&v, 407);
    assert!(v["msg"].as_str().unwrap().contains("muted"), "{v}");
}

sixin_tests::both_backends!(
    muted_members_get_ret_407,
    send_golden_envelope,
    errors_follow_the_phalapi_table,
    access_tokens_are_required_when_the_app_requires_signatures,
    debug_block_needs_the_server_setting,
    debug_block_when_enabled_and_asked,
    members_cannot_reach_other_members_or_apps_conversations,
);

/// The access-token lifetime is the core's `access_token_ttl` (configuration key
/// `dialects.phalapi_access_token_ttl_secs`), not a constant of the adapter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_lifetime_follows_the_configuration() {
    let cfg = sixin_core::CoreConfig {
        access_token_ttl: Duration::from_secs(60),
        ..sixin_core::testing::fast_config()
    };
    let h = Harness::with_config(sixin_tests::TestDb::sqlite(), cfg).await;
    let app = h.core.create_app("signed", true).await.unwrap();
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let mut apply: Params = vec![
        ("s", "App.Auth.ApplyToken".into()),
        ("app_key", app.key.to_string()),
    ];
    let sign = sdk_sign(&apply, &app.secret.0);
    apply.push(("sign", sign));
    let v = get(&srv, &apply).await;
    assert_eq!(v["data"]["expires_in"].as_i64(), Some(60), "{v}");
    let token = v["data"]["access_token"].as_str().unwrap().to_owned();
    let b_uuid = b.member.uuid.to_string();
    let sending = with(send(member(&app, &a), &b_uuid), &[("access_token", &token)]);
    srv.h.clock.advance(Duration::from_secs(59));
    sent_id(&get(&srv, &sending).await);
    srv.h.clock.advance(Duration::from_secs(1));
    error(&get(&srv, &sending).await, 406);
}
