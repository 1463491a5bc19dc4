//! The sensitive-word filter over real HTTP: the server API's word list (folded, paged,
//! versioned, per app), the refusal as each dialect shows it (native 422, YesApi and PhalApi
//! `ret` 400 with the message), a masked text as Discuz `pm_get` shows it, the app's backend
//! writing past the list, and a word added through one node taking effect on the next send
//! through another node over the same PostgreSQL, without a restart.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_http::HttpConfig;
use sixin_tests::native::{as_backend, assert_error, ok, start_with_app, NativeApi};
use sixin_tests::{Harness, Person, TestServer};

/// `坏蛋` masked, `法轮功` rejected, through the server API.
async fn put_list(t: &NativeApi, app: &App) {
    let list = json!([{"word": "坏蛋", "action": "mask"}, {"word": "法轮功"}]);
    let r = as_backend(t, app, "PUT", "/v1/server/words", Some(list)).await;
    assert_eq!(ok(&r, StatusCode::OK)["changed"], 2);
}

fn text(to: &str, content: &str) -> Value {
    json!({"to": to, "type": "text", "data": {"content": content}})
}

async fn the_server_api_keeps_the_word_list(h: Harness) {
    let (t, app) = start_with_app(h).await;
    let list = json!([
        {"word": "ＢＡＤ", "action": "mask"},
        {"word": "s.p.a.m"},
        {"word": "坏蛋", "action": "mask"}
    ]);
    let r = as_backend(&t, &app, "PUT", "/v1/server/words", Some(list)).await;
    assert_eq!(ok(&r, StatusCode::OK), &json!({"changed": 3, "version": 1}));
    let r = as_backend(&t, &app, "GET", "/v1/server/words?limit=2", None).await;
    let page = ok(&r, StatusCode::OK).clone();
    assert_eq!(page["version"], 1);
    assert_eq!(page["words"].as_array().unwrap().len(), 2);
    let after = page["next_after"].as_str().unwrap();
    assert_eq!(page["words"][1]["word"], after);
    let uri = format!("/v1/server/words?limit=2&after={}", urlencode(after));
    let r = as_backend(&t, &app, "GET", &uri, None).await;
    let rest = ok(&r, StatusCode::OK).clone();
    assert_eq!(rest["next_after"], Value::Null);
    let mut all: Vec<(Value, Value)> = [&page, &rest]
        .iter()
        .flat_map(|p| p["words"].as_array().unwrap().clone())
        .map(|w| (w["word"].clone(), w["action"].clone()))
        .collect();
    all.sort_by_key(|(w, _)| w.to_string());
    let want = [("bad", "mask"), ("spam", "reject"), ("坏蛋", "mask")];
    let want: Vec<(Value, Value)> = want.iter().map(|(w, a)| (json!(w), json!(a))).collect();
    assert_eq!(all, want);

    let gone = json!(["SPAM", "nothing"]);
    let r = as_backend(&t, &app, "DELETE", "/v1/server/words", Some(gone)).await;
    assert_eq!(ok(&r, StatusCode::OK), &json!({"changed": 1, "version": 2}));
    for bad in [
        json!([]),
        json!([{"word": "!!!"}]),
        json!([{"word": "x", "action": "ban"}]),
    ] {
        let r = as_backend(&t, &app, "PUT", "/v1/server/words", Some(bad)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // Another app's backend sees its own (empty) list.
    let other = t.h().app().await;
    let r = as_backend(&t, &other, "GET", "/v1/server/words", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK),
        &json!({"words": [], "next_after": null, "version": 0})
    );
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn the_native_refusal_is_422_content_rejected(h: Harness) {
    let (t, app) = start_with_app(h).await;
    let (ann, bob) = (t.member("ann").await, t.member("bob").await);
    put_list(&t, &app).await;
    let r = t
        .call(
            "POST",
            "/v1/messages",
            Some(&ann.token),
            Some(text(&bob.uuid, "法 轮 功")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({"error": {"code": "content_rejected",
            "message": "data.content contains a word this app does not allow"}})
    );
    let multi = json!({"to": [bob.uuid], "type": "text", "data": {"content": "法轮功"}});
    let r = t
        .call("POST", "/v1/messages/multi", Some(&ann.token), Some(multi))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "content_rejected");
    let body = json!({"app_key": t.app_key, "username": "坏蛋", "password": "secret-pass-1"});
    let r = t.call("POST", "/v1/members", None, Some(body)).await;
    assert_eq!(
        r.body["error"]["message"],
        "username contains a word this app does not allow"
    );
    let r = t
        .call(
            "POST",
            "/v1/messages",
            Some(&ann.token),
            Some(text(&bob.uuid, "你坏蛋")),
        )
        .await;
    assert_eq!(ok(&r, StatusCode::CREATED)["data"]["content"], "你**");
    // The app's backend writes its own words: not filtered.
    let as_app = json!({"from": "system", "to": {"uuid": bob.uuid}, "type": "text",
        "data": {"content": "法轮功 坏蛋"}});
    let r = as_backend(&t, &app, "POST", "/v1/server/messages", Some(as_app)).await;
    assert_eq!(
        ok(&r, StatusCode::CREATED)["data"]["content"],
        "法轮功 坏蛋"
    );
}

type Params = Vec<(&'static str, String)>;

/// A YesApi or PhalApi Send of `content` from `from` to `to` (form POST to `path`).
async fn dialect_send(
    srv: &TestServer,
    path: &str,
    app: &App,
    from: &Person,
    to: &Person,
    content: &str,
) -> Value {
    let params: Params = vec![
        ("app_key", app.key.to_string()),
        ("uuid", from.member.uuid.to_string()),
        ("token", from.token.clone()),
        // YesApi names the recipient `other_uuid`, PhalApi `chat_message_to_uuid`.
        ("other_uuid", to.member.uuid.to_string()),
        ("chat_message_to_uuid", to.member.uuid.to_string()),
        ("chat_message_type", "text".into()),
        ("chat_message_data", content.into()),
    ];
    let r = srv
        .client
        .post(srv.url(path))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "YesApi and PhalApi answer HTTP 200");
    r.json().await.unwrap()
}

async fn yesapi_and_phalapi_refuse_with_ret_400_and_discuz_shows_the_mask(h: Harness) {
    let app = h.app().await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let first = h.text(&ann, &bob, "before the list: 坏蛋").await;
    let t = TestServer::start(h, HttpConfig::default()).await;
    let list = vec![
        ("坏蛋".to_owned(), sixin_core::model::WordAction::Mask),
        ("法轮功".to_owned(), sixin_core::model::WordAction::Reject),
    ];
    t.h.core
        .put_words(&t.h.backend(&app).await, list)
        .await
        .unwrap();
    let msg = "data.content contains a word this app does not allow";
    for path in [
        "/api/App/Market_ChatMessage/Send",
        "/api/platform?s=Platform.ChatMessage.Send",
    ] {
        let v = dialect_send(&t, path, &app, &ann, &bob, "法轮功").await;
        assert_eq!(
            (&v["ret"], &v["msg"]),
            (&json!(400), &json!(msg)),
            "{path}: {v}"
        );
        assert_eq!(v["data"], json!({}), "{path}: {v}");
        let v = dialect_send(&t, path, &app, &ann, &bob, "你好坏蛋").await;
        assert_eq!(v["ret"], 200, "{path}: {v}");
    }
    // Discuz pm_get (read-only) shows what was stored: the masked text, and the texts from
    // before the list as they were.
    let q = format!(
        "/plugin.php?id=xinxiu_network:pm&action=pm_get&token={}&plids={}",
        bob.token, first.conversation.id.0
    );
    let raw = t
        .client
        .get(t.url(&q))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["code"], 200, "{raw}");
    let shown: Vec<&str> = ["0", "1", "2"]
        .iter()
        .map(|k| v["data"]["min_max"][*k]["message"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["你好**", "你好**", "before the list: 坏蛋"]);
    assert!(raw.contains(r#""message":"\u4f60\u597d**""#), "{raw}");
}

/// Two nodes over one PostgreSQL database: a word added through node A's server API applies to
/// the very next send through node B, whose matcher was already built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
async fn a_word_added_on_one_node_applies_on_the_next_send_through_another() {
    let Some(h) = Harness::postgres().await else {
        return;
    };
    let second = Harness::new(h.db.same_database()).await;
    let (a, app) = start_with_app(h).await;
    let b = NativeApi {
        srv: TestServer::start(second, HttpConfig::default()).await,
        app_key: a.app_key.clone(),
    };
    let (ann, bob) = (b.member("ann").await, b.member("bob").await);
    let send = |content: &'static str| {
        b.call(
            "POST",
            "/v1/messages",
            Some(&ann.token),
            Some(text(&bob.uuid, content)),
        )
    };
    let r = send("坏蛋 法轮功").await;
    assert_eq!(
        ok(&r, StatusCode::CREATED)["data"]["content"],
        "坏蛋 法轮功"
    );
    put_list(&a, &app).await;
    let r = send("坏蛋!").await;
    assert_eq!(ok(&r, StatusCode::CREATED)["data"]["content"], "**!");
    assert_error(
        &send("法轮功").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "content_rejected",
    );
    let gone = json!(["法轮功"]);
    ok(
        &as_backend(&a, &app, "DELETE", "/v1/server/words", Some(gone)).await,
        StatusCode::OK,
    );
    ok(&send("法轮功").await, StatusCode::CREATED);
}

sixin_tests::both_backends!(
    the_server_api_keeps_the_word_list,
    the_native_refusal_is_422_content_rejected,
    yesapi_and_phalapi_refuse_with_ret_400_and_discuz_shows_the_mask,
);
