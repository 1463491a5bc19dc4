//! The before-send hook over real HTTP, on SQLite and PostgreSQL: a hook receiver on loopback
//! that allows, rejects, replaces (validly and not) or hangs, checked from the native API
//! (single send, group send, multi-send with one recipient rejected), YesApi `Send` and PhalApi
//! `Platform.ChatMessage.Send`; timeouts failing open and closed; the app backend's own sends
//! never asked.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_core::testing::fast_config;
use sixin_core::webhook::WebhookPolicy;
use sixin_core::CoreConfig;
use sixin_tests::native::{as_backend, assert_error, ok, start_with_app, NativeApi};
use sixin_tests::webhooks::{verify, Received};
use sixin_tests::Harness;
use tokio::net::TcpListener;

/// A hook on loopback: answers by the text of the message it is asked about.
/// `spam…` rejects, `swap…` replaces with "swapped", `empty…` replaces with an empty text
/// (invalid), `slow…` answers after 2 s, anything else allows (empty 200).
struct Hook {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Hook {
    async fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/before-send", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let record = got.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let record = record.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| answer(req, record.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Hook { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn answer(
    req: Request<Incoming>,
    record: Arc<Mutex<Vec<Received>>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let got: Value = serde_json::from_str(&body).unwrap();
    record.lock().unwrap().push(Received { headers, body });
    let text = got["message"]["data"]["content"].as_str().unwrap_or("");
    let to = got["recipient"].as_str().unwrap_or("");
    let reply = if text.starts_with("spam") || text.ends_with(&format!("no-{to}")) {
        json!({"action": "reject", "code": "spam_detected", "message": "no spam here"}).to_string()
    } else if text.starts_with("swap") {
        json!({"action": "replace", "data": {"content": "swapped"}}).to_string()
    } else if text.starts_with("empty") {
        json!({"action": "replace", "data": {"content": ""}}).to_string()
    } else if text.starts_with("slow") {
        tokio::time::sleep(Duration::from_secs(2)).await;
        String::new()
    } else {
        String::new()
    };
    Ok(Response::new(Full::new(Bytes::from(reply))))
}

fn config() -> CoreConfig {
    CoreConfig {
        webhooks: WebhookPolicy {
            allow_private_targets: true,
            ..WebhookPolicy::default()
        },
        ..fast_config()
    }
}

/// A server whose core calls hooks over HTTP, as `sixin serve` wires it, on a live clock (the
/// receiver checks the signature's timestamp against its own).
async fn start(h: Harness) -> (NativeApi, App) {
    let Harness { db, .. } = h;
    let h = Harness::live(db, config()).await;
    let caller = sixin_webhooks::HookClient::new(&h.core);
    h.core.set_hook_caller(Arc::new(caller));
    start_with_app(h).await
}

/// Sets the app's hook; returns its secret.
async fn set_hook(t: &NativeApi, app: &App, body: Value) -> String {
    let r = as_backend(t, app, "PUT", "/v1/server/app/before-send", Some(body)).await;
    let v = ok(&r, StatusCode::OK);
    v["secret"].as_str().unwrap().to_owned()
}

async fn send(t: &NativeApi, token: &str, body: Value) -> sixin_tests::native::Reply {
    t.call("POST", "/v1/messages", Some(token), Some(body))
        .await
}

fn text(to: &str, content: &str) -> Value {
    json!({"to": to, "type": "text", "data": {"content": content}})
}

async fn configured_through_the_server_api(h: Harness) {
    let (t, app) = start(h).await;
    let hook = Hook::start().await;
    for (body, field) in [
        (json!({"url": "ftp://example.com/"}), "url"),
        (json!({"url": hook.url, "timeout_ms": 5001}), "timeout_ms"),
        (json!({"url": hook.url, "timeout_ms": 0}), "timeout_ms"),
    ] {
        let r = as_backend(&t, &app, "PUT", "/v1/server/app/before-send", Some(body)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(r.body["error"]["message"].as_str().unwrap().contains(field));
    }
    let r = as_backend(&t, &app, "GET", "/v1/server/app/before-send", None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let secret = set_hook(&t, &app, json!({"url": hook.url})).await;
    assert!(secret.starts_with("whsec_"));
    let r = as_backend(&t, &app, "GET", "/v1/server/app/before-send", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK),
        &json!({"url": hook.url, "timeout_ms": 1500, "on_failure": "allow"}),
        "the secret is shown when set only"
    );
    let r = as_backend(&t, &app, "DELETE", "/v1/server/app/before-send", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let (a, b) = (t.member("ann").await, t.member("bob").await);
    let r = send(&t, &a.token, text(&b.uuid, "spam after removal")).await;
    ok(&r, StatusCode::CREATED);
    assert!(hook.received().is_empty(), "a removed hook is not called");
}

async fn allows_rejects_and_replaces_native_sends(h: Harness) {
    let (t, app) = start(h).await;
    let hook = Hook::start().await;
    let secret = set_hook(&t, &app, json!({"url": hook.url})).await;
    let (a, b) = (t.member("ann").await, t.member("bob").await);
    let r = send(&t, &a.token, text(&b.uuid, "hello")).await;
    assert_eq!(ok(&r, StatusCode::CREATED)["data"]["content"], "hello");
    let asked = hook.received();
    assert_eq!(asked.len(), 1);
    verify(&secret, &asked[0]).unwrap();
    let body = asked[0].json();
    assert_eq!(body["type"], "message.before_send");
    assert_eq!(body["sender"], a.uuid.as_str());
    assert_eq!(body["recipient"], b.uuid.as_str());
    assert_eq!(body["message"]["type"], "text");
    assert_eq!(body["message"]["data"], json!({"content": "hello"}));

    let r = send(&t, &a.token, text(&b.uuid, "spam!")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "rejected_by_app");
    assert_eq!(
        r.body["error"]["message"],
        "rejected by the app (spam_detected): no spam here"
    );
    let r = send(&t, &a.token, text(&b.uuid, "swap me")).await;
    assert_eq!(ok(&r, StatusCode::CREATED)["data"]["content"], "swapped");
    let r = send(&t, &a.token, text(&b.uuid, "empty me")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    let path = format!("/v1/direct/{}/messages?limit=50", a.uuid);
    let r = t.call("GET", &path, Some(&b.token), None).await;
    let texts: Vec<&str> = ok(&r, StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello", "swapped"], "refusals commit nothing");

    // A group send is asked about with its conversation.
    let r = t
        .call(
            "POST",
            "/v1/groups",
            Some(&a.token),
            Some(json!({"subject": "g", "members": [b.uuid]})),
        )
        .await;
    let group = ok(&r, StatusCode::CREATED)["id"].as_i64().unwrap();
    let body = json!({"conversation_id": group, "type": "text", "data": {"content": "spam g"}});
    let r = send(&t, &a.token, body).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "rejected_by_app");
    assert_eq!(
        hook.received().last().unwrap().json()["conversation"],
        group
    );

    // The app's backend sending as a member is not asked.
    let before = hook.received().len();
    let body = json!({
        "from": {"uuid": a.uuid},
        "to": {"uuid": b.uuid},
        "type": "text",
        "data": {"content": "spam ok"},
    });
    let r = as_backend(&t, &app, "POST", "/v1/server/messages", Some(body)).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(hook.received().len(), before);
}

async fn multi_send_is_asked_per_recipient(h: Harness) {
    let (t, app) = start(h).await;
    let hook = Hook::start().await;
    set_hook(&t, &app, json!({"url": hook.url})).await;
    let a = t.member("ann").await;
    let (b, c, d) = (
        t.member("bob").await,
        t.member("cat").await,
        t.member("dan").await,
    );
    // The hook rejects the text ending in no-<recipient> for that recipient only.
    let body = json!({
        "to": [b.uuid, c.uuid, d.uuid],
        "type": "text",
        "data": {"content": format!("hi no-{}", c.uuid)},
    });
    let r = t
        .call("POST", "/v1/messages/multi", Some(&a.token), Some(body))
        .await;
    let v = ok(&r, StatusCode::OK);
    let items = v["results"].as_array().or(v["items"].as_array()).unwrap();
    assert_eq!(items.len(), 3, "{v}");
    assert_eq!(items[1]["error"]["code"], "rejected_by_app", "{v}");
    assert!(
        items[0]["error"].is_null() && items[2]["error"].is_null(),
        "{v}"
    );
    assert_eq!(hook.received().len(), 3, "one call per recipient");
    for (who, n) in [(&b, 1), (&c, 0), (&d, 1)] {
        let r = t.call("GET", "/v1/unread", Some(&who.token), None).await;
        assert_eq!(ok(&r, StatusCode::OK)["total"], n, "{}", who.uuid);
    }
    // Replacements are sent as replaced.
    let body = json!({"to": [b.uuid, d.uuid], "type": "text", "data": {"content": "swap"}});
    let r = t
        .call("POST", "/v1/messages/multi", Some(&a.token), Some(body))
        .await;
    ok(&r, StatusCode::OK);
    let path = format!("/v1/direct/{}/messages?limit=50", a.uuid);
    let r = t.call("GET", &path, Some(&d.token), None).await;
    let last = ok(&r, StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .last()
        .cloned();
    assert_eq!(last.unwrap()["data"]["content"], "swapped");
}

async fn timeouts_fail_open_or_closed_as_the_app_chose(h: Harness) {
    let (t, app) = start(h).await;
    let hook = Hook::start().await;
    set_hook(&t, &app, json!({"url": hook.url, "timeout_ms": 200})).await;
    let (a, b) = (t.member("ann").await, t.member("bob").await);
    let started = Instant::now();
    let r = send(&t, &a.token, text(&b.uuid, "slow but open")).await;
    ok(&r, StatusCode::CREATED);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the timeout cut the wait"
    );
    let body = json!({"url": hook.url, "timeout_ms": 200, "on_failure": "reject"});
    set_hook(&t, &app, body).await;
    let r = send(&t, &a.token, text(&b.uuid, "slow and closed")).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "hook_unavailable");
    // A hook that is down counts the same.
    let body = json!({"url": "http://127.0.0.1:9/none", "on_failure": "reject"});
    set_hook(&t, &app, body).await;
    let r = send(&t, &a.token, text(&b.uuid, "down")).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "hook_unavailable");
    let body = json!({"url": "http://127.0.0.1:9/none"});
    set_hook(&t, &app, body).await;
    let r = send(&t, &a.token, text(&b.uuid, "down but open")).await;
    ok(&r, StatusCode::CREATED);
}

/// YesApi `Send` and PhalApi `Platform.ChatMessage.Send` show the rejection as `ret` 407 with
/// the app's code and text in `msg`, `data` `{}`.
async fn yesapi_and_phalapi_show_the_rejection(h: Harness) {
    let (t, app) = start(h).await;
    let hook = Hook::start().await;
    set_hook(&t, &app, json!({"url": hook.url})).await;
    let (a, b) = (t.member("ann").await, t.member("bob").await);
    let msg = "rejected by the app (spam_detected): no spam here";
    let base = [
        ("app_key", app.key.to_string()),
        ("uuid", a.uuid.clone()),
        ("token", a.token.clone()),
    ];
    let mut yes = base.to_vec();
    yes.extend([
        ("other_uuid", b.uuid.clone()),
        ("chat_message_data", r#"{"content":"spam y"}"#.to_owned()),
    ]);
    let url = t.srv.url("/api/App/Market_ChatMessage/Send");
    let r: Value = t
        .srv
        .client
        .post(url)
        .form(&yes)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["ret"].clone(), r["data"].clone(), r["msg"].clone()),
        (json!(407), json!({}), json!(msg)),
        "{r}"
    );
    let mut multi = base.to_vec();
    let (c_uuid, c_token) = {
        let c = t.member("cat").await;
        (c.uuid, c.token)
    };
    multi.extend([
        ("other_uuid", format!("{},{c_uuid}", b.uuid)),
        (
            "chat_message_data",
            json!({"content": format!("hi no-{}", b.uuid)}).to_string(),
        ),
    ]);
    let url = t.srv.url("/api/App/Market_ChatMessage/MultiSend");
    let r: Value = t
        .srv
        .client
        .post(url)
        .form(&multi)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ret"], 200, "{r}");
    let detail = &r["data"]["detail"];
    assert_eq!(detail[0]["err_code"], 2, "{r}");
    assert_eq!(detail[0]["err_msg"], msg, "{r}");
    assert_eq!(detail[1]["err_code"], 0, "{r}");
    let r = t.call("GET", "/v1/unread", Some(&c_token), None).await;
    assert_eq!(ok(&r, StatusCode::OK)["total"], 1);
    let mut phal = base.to_vec();
    phal.extend([
        ("s", "Platform.ChatMessage.Send".to_owned()),
        ("chat_message_to_uuid", b.uuid.clone()),
        ("chat_message_data", "spam p".to_owned()),
        ("chat_message_type", "text".to_owned()),
    ]);
    let url = t.srv.url("/api/platform");
    let r: Value = t
        .srv
        .client
        .post(url)
        .form(&phal)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"ret": 407, "data": {}, "msg": msg}));
    let r = t.call("GET", "/v1/unread", Some(&b.token), None).await;
    assert_eq!(ok(&r, StatusCode::OK)["total"], 0);
}

sixin_tests::both_backends!(
    configured_through_the_server_api,
    allows_rejects_and_replaces_native_sends,
    multi_send_is_asked_per_recipient,
    timeouts_fail_open_or_closed_as_the_app_chose,
    yesapi_and_phalapi_show_the_rejection,
);
