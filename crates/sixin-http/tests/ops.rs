//! `/healthz`, `/metrics`, request ids and the served OpenAPI document.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sixin_http::openapi_json;

use support::test_app;

#[tokio::test]
async fn ops_endpoints_report_health_metrics_and_request_ids() {
    let t = test_app().await;
    for path in ["/healthz", "/readyz"] {
        let r = t.call("GET", path, None, None).await;
        assert_eq!(
            (r.status, r.body.clone()),
            (StatusCode::OK, json!({"status": "ok"}))
        );
    }
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    t.send_text(&alice, &bob, "counted").await;
    let with_id = Request::get("/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {}", alice.token))
        .header("x-request-id", "trace-me-1")
        .body(Body::empty())
        .unwrap();
    let r = t.raw(with_id).await;
    assert_eq!(r.headers["x-request-id"], "trace-me-1");
    t.call("GET", "/v1/nowhere", None, None).await;

    let r = t.call("GET", "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
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

#[tokio::test]
async fn openapi_document_is_served_and_names_every_route() {
    let t = test_app().await;
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
