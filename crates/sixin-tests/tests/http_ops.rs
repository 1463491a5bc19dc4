//! `/healthz`, `/metrics`, request ids and the served OpenAPI document. Runs on SQLite and
//! PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sixin_http::openapi_json;
use sixin_tests::native::NativeApi;
use sixin_tests::Harness;

async fn ops_endpoints_report_health_metrics_and_request_ids(h: Harness) {
    let t = NativeApi::start(h).await;
    for path in ["/healthz", "/readyz"] {
        let r = t.call("GET", path, None, None).await;
        assert_eq!(
            (r.status, r.body.clone()),
            (StatusCode::OK, json!({"status": "ok"}))
        );
    }
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    t.send_text(&alice, &bob, "counted").await;
    let with_id = t
        .request(Method::GET, "/v1/me")
        .header(AUTHORIZATION, format!("Bearer {}", alice.token))
        .header("x-request-id", "trace-me-1");
    let r = t.send(with_id).await;
    assert_eq!(r.headers["x-request-id"], "trace-me-1");
    t.call("GET", "/v1/nowhere", None, None).await;

    let r = t.call("GET", "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.body.as_str().unwrap();
    assert!(
        text.contains(r#"sixin_http_requests_total{route="/v1/me",method="GET",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(
        r#"sixin_http_requests_total{route="/v1/messages",method="POST",status="201"} 1"#
    ));
    assert!(
        text.contains(
            r#"sixin_http_requests_total{route="unmatched",method="GET",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"sixin_http_request_duration_seconds_count{route="/v1/members"} 2"#));
    assert!(text.contains("sixin_messages_sent_total 1\n"));
}

async fn openapi_document_is_served_and_names_every_route(h: Harness) {
    let t = NativeApi::start(h).await;
    let r = t.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let expected: Value = serde_json::from_str(&openapi_json()).unwrap();
    assert_eq!(r.body, expected);
    let paths = expected["paths"].as_object().unwrap();
    for p in [
        "/v1/messages",
        "/v1/conversations/{id}/messages",
        "/v1/direct/{uuid}/messages",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    assert_eq!(
        expected["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

sixin_tests::both_backends!(
    ops_endpoints_report_health_metrics_and_request_ids,
    openapi_document_is_served_and_names_every_route,
);
