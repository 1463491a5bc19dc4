//! The server API's webhook endpoints over real HTTP, on SQLite and PostgreSQL: what may be
//! saved (http(s) only, no private targets by default, known event types, at most 20), the
//! secret shown on creation and rotation only, changes, deletion, bad queries, and other apps'
//! endpoints answering 404. No worker runs here.

#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::json;
use sixin_tests::native::{as_backend as server, assert_error, ok, start_with_app as start};
use sixin_tests::Harness;

const URL: &str = "https://hooks.example.com/sixin";

async fn endpoints_are_saved_only_with_a_url_sixin_may_call(h: Harness) {
    let (t, app) = start(h).await;
    for (body, why) in [
        (json!({"url": "ftp://hooks.example.com/"}), "http"),
        (json!({"url": "not a url"}), "absolute"),
        (
            json!({"url": "http://127.0.0.1:9000/hook"}),
            "webhooks.allow_private_targets",
        ),
        (json!({"url": "http://localhost/hook"}), "private"),
        (json!({"url": "http://169.254.169.254/latest"}), "private"),
        (
            json!({"url": URL, "events": ["message.sent"]}),
            "unknown event type",
        ),
        (json!({"url": URL, "events": []}), "at least one"),
    ] {
        let r = server(&t, &app, "POST", "/v1/server/webhooks", Some(body.clone())).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{body}: {message}");
    }
    let r = t
        .call(
            "POST",
            "/v1/server/webhooks",
            None,
            Some(json!({"url": URL})),
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_server_token");
    let r = server(&t, &app, "GET", "/v1/server/webhooks", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["webhooks"],
        json!([]),
        "nothing was saved"
    );
    for i in 0..20 {
        let body = json!({"url": format!("{URL}/{i}")});
        let r = server(&t, &app, "POST", "/v1/server/webhooks", Some(body)).await;
        ok(&r, StatusCode::CREATED);
    }
    let r = server(
        &t,
        &app,
        "POST",
        "/v1/server/webhooks",
        Some(json!({"url": URL})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn the_secret_is_shown_on_creation_and_rotation_only(h: Harness) {
    let (t, app) = start(h).await;
    let body = json!({"url": URL, "events": ["message.created"], "description": "inbox sync"});
    let r = server(&t, &app, "POST", "/v1/server/webhooks", Some(body)).await;
    let created = ok(&r, StatusCode::CREATED).clone();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        (
            &created["events"],
            &created["enabled"],
            &created["description"]
        ),
        (
            &json!(["message.created"]),
            &json!(true),
            &json!("inbox sync")
        )
    );
    let uri = format!("/v1/server/webhooks/{}", created["id"]);
    let r = server(&t, &app, "GET", &uri, None).await;
    assert!(ok(&r, StatusCode::OK).get("secret").is_none());
    let r = server(&t, &app, "GET", "/v1/server/webhooks", None).await;
    let listed = &ok(&r, StatusCode::OK)["webhooks"];
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("secret").is_none());
    let change = json!({"events": ["*"], "description": "", "enabled": false});
    let r = server(&t, &app, "PATCH", &uri, Some(change)).await;
    let changed = ok(&r, StatusCode::OK).clone();
    assert_eq!(
        (
            &changed["events"],
            &changed["enabled"],
            &changed["description"]
        ),
        (&json!(["*"]), &json!(false), &json!(null))
    );
    assert!(changed.get("secret").is_none());
    let r = server(
        &t,
        &app,
        "PATCH",
        &uri,
        Some(json!({"rotate_secret": true})),
    )
    .await;
    let rotated = ok(&r, StatusCode::OK)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    let r = server(&t, &app, "PATCH", &uri, Some(json!({"url": "gopher://x"}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = server(&t, &app, "DELETE", &uri, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = server(&t, &app, "GET", &uri, None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

async fn bad_queries_and_other_apps_endpoints_are_refused(h: Harness) {
    let (t, app) = start(h).await;
    let other = t.h().app().await;
    let r = server(
        &t,
        &app,
        "POST",
        "/v1/server/webhooks",
        Some(json!({"url": URL})),
    )
    .await;
    let id = ok(&r, StatusCode::CREATED)["id"].as_i64().unwrap();
    let base = format!("/v1/server/webhooks/{id}");
    for q in ["status=lost", "limit=0", "limit=101", "after=x"] {
        let r = server(&t, &app, "GET", &format!("{base}/deliveries?{q}"), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let r = server(
        &t,
        &app,
        "POST",
        &format!("{base}/replay"),
        Some(json!({"from": -1})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = server(&t, &app, "GET", "/v1/server/webhooks/abc", None).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let pause = json!({"enabled": false});
    for (method, path, body) in [
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(pause)),
        ("DELETE", base.clone(), None),
        ("GET", format!("{base}/deliveries"), None),
        ("POST", format!("{base}/replay"), Some(json!({"from": 0}))),
        ("POST", format!("{base}/test"), None),
    ] {
        let r = server(&t, &other, method, &path, body).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    let r = server(&t, &app, "POST", &format!("{base}/test"), None).await;
    let queued = ok(&r, StatusCode::ACCEPTED).clone();
    let r = server(&t, &app, "GET", &format!("{base}/deliveries"), None).await;
    let d = &ok(&r, StatusCode::OK)["deliveries"][0];
    assert_eq!(
        (&d["webhook_id"], &d["type"], &d["status"], &d["attempts"]),
        (
            &queued["webhook_id"],
            &json!("webhook.test"),
            &json!("pending"),
            &json!(0)
        )
    );
}

sixin_tests::both_backends!(
    endpoints_are_saved_only_with_a_url_sixin_may_call,
    the_secret_is_shown_on_creation_and_rotation_only,
    bad_queries_and_other_apps_endpoints_are_refused,
);
