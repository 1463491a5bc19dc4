//! Reports over real HTTP: a member files one with `POST /v1/reports` (201, or 200 with their
//! open report on the same target), the app's backend lists them with both members and the
//! message as it was, resolves them, and sees none of another app's. Runs on SQLite and
//! PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::json;
use serde_json::Value;
use sixin_core::model::App;
use sixin_tests::native::{as_backend, assert_error, ok, start_with_app, Member, NativeApi};
use sixin_tests::Harness;

async fn members_report_and_the_backend_resolves(h: Harness) {
    let (t, app) = start_with_app(h).await;
    let (ann, bob) = (t.member("ann").await, t.member("bob").await);
    let m = t.send_text(&ann, &bob, "you are awful").await;
    let report = json!({"message_id": m["id"], "category": "harassment", "reason": "insults"});
    let r = t
        .call(
            "POST",
            "/v1/reports",
            Some(&bob.token),
            Some(report.clone()),
        )
        .await;
    let filed = ok(&r, StatusCode::CREATED).clone();
    assert_eq!(filed["status"], "open");
    assert_eq!(filed["category"], "harassment");
    assert_eq!(filed["member"]["uuid"], ann.uuid.as_str());
    assert_eq!(filed["message_id"], m["id"]);
    let r = t
        .call("POST", "/v1/reports", Some(&bob.token), Some(report))
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["id"], filed["id"]);
    // A member, with the default category.
    let on_bob = json!({"member": bob.uuid, "reason": "spam account"});
    let r = t
        .call("POST", "/v1/reports", Some(&ann.token), Some(on_bob))
        .await;
    assert_eq!(ok(&r, StatusCode::CREATED)["category"], "other");
    // Refusals.
    let own = json!({"message_id": m["id"], "reason": "x"});
    let r = t
        .call("POST", "/v1/reports", Some(&ann.token), Some(own))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let none = json!({"message_id": 999_999_999, "reason": "x"});
    let r = t
        .call("POST", "/v1/reports", Some(&bob.token), Some(none))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let bad = json!({"member": ann.uuid, "reason": "x", "category": "boring"});
    let r = t
        .call("POST", "/v1/reports", Some(&bob.token), Some(bad))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = t
        .call(
            "POST",
            "/v1/reports",
            None,
            Some(json!({"member": ann.uuid, "reason": "x"})),
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");

    the_backend_reviews(&t, &app, &filed, &m, &ann).await;
}

/// The backend lists and resolves what `members_report_and_the_backend_resolves` filed.
async fn the_backend_reviews(t: &NativeApi, app: &App, filed: &Value, m: &Value, ann: &Member) {
    // The sender recalls it; the backend still reviews what was said.
    let recall = format!("/v1/messages/{}/recall", m["id"]);
    ok(
        &t.call("POST", &recall, Some(&ann.token), None).await,
        StatusCode::OK,
    );
    let r = as_backend(t, app, "GET", "/v1/server/reports?limit=1", None).await;
    let page = ok(&r, StatusCode::OK).clone();
    let first = &page["reports"][0];
    assert_eq!(first["id"], filed["id"]);
    assert_eq!(first["reporter"]["username"], "bob");
    assert_eq!(first["member"]["uuid"], ann.uuid.as_str());
    assert_eq!(first["message"]["type"], "text");
    assert_eq!(
        first["message"]["data"],
        json!({"content": "you are awful"})
    );
    assert_eq!(first["message"]["conversation_id"], m["conversation_id"]);
    let next = page["next_after"].as_i64().unwrap();
    let uri = format!("/v1/server/reports?after={next}");
    let r = as_backend(t, app, "GET", &uri, None).await;
    let rest = ok(&r, StatusCode::OK).clone();
    assert_eq!(rest["reports"][0]["message"], json!(null));
    assert_eq!(rest["next_after"], json!(null));

    let uri = format!("/v1/server/reports/{}/resolve", filed["id"]);
    let body = json!({"resolution": "ann muted for a day"});
    let r = as_backend(t, app, "POST", &uri, Some(body)).await;
    let done = ok(&r, StatusCode::OK).clone();
    assert_eq!(done["status"], "resolved");
    assert_eq!(done["resolution"], "ann muted for a day");
    assert!(done["resolved_at"].is_i64());
    let r = as_backend(t, app, "GET", "/v1/server/reports?status=resolved", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["reports"].as_array().unwrap().len(),
        1
    );
    let r = as_backend(t, app, "GET", "/v1/server/reports?status=all", None).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["reports"].as_array().unwrap().len(),
        2
    );
    let r = as_backend(t, app, "GET", "/v1/server/reports?status=closed", None).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    // Another app's backend: nothing to list, and the report is not found.
    let other = t.h().app().await;
    let r = as_backend(t, &other, "GET", "/v1/server/reports?status=all", None).await;
    assert_eq!(ok(&r, StatusCode::OK)["reports"], json!([]));
    let r = as_backend(t, &other, "POST", &uri, Some(json!({"resolution": "x"}))).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

sixin_tests::both_backends!(members_report_and_the_backend_resolves);
