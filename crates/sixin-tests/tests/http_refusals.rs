//! Refusals made by the framework — a request target over `max_uri_bytes`, a body over
//! `body_limit_bytes` — answer in the envelope of the dialect whose path was asked; and CORS
//! (`cors_allowed_origins`) covers `/v1` and `/v1/events` only, answering preflights for allowed
//! origins and nothing for others. (Timeouts and panics per dialect: the unit tests of
//! `sixin-http`'s middleware.) No store rule is involved, so these run on SQLite only.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use reqwest::header::{HeaderMap, CONTENT_TYPE, ORIGIN};
use reqwest::Method;
use serde_json::Value;
use sixin_http::HttpConfig;
use sixin_tests::server::TestServer;
use sixin_tests::Harness;

const ALLOWED: &str = "https://app.example.com";

async fn server(cfg: HttpConfig) -> TestServer {
    TestServer::start(Harness::sqlite().await.unwrap(), cfg).await
}

/// Status, headers and JSON body of a request.
async fn ask(t: &TestServer, req: reqwest::RequestBuilder) -> (u16, HeaderMap, Value) {
    let _ = t;
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// Each dialect's path, and where its outcome code is: (path, JSON pointer, HTTP status of a
/// refusal or `None` when the dialect always answers 200, code for target too long, code for
/// body too large).
type Dialect = (&'static str, &'static str, Option<(u16, u16)>, Value, Value);

fn dialects() -> [Dialect; 5] {
    use serde_json::json;
    [
        (
            "/v1/members",
            "/error/code",
            Some((414, 413)),
            json!("uri_too_long"),
            json!("payload_too_large"),
        ),
        ("/", "/ret", None, json!(400), json!(400)),
        (
            "/api/App/User/Register",
            "/ret",
            None,
            json!(400),
            json!(400),
        ),
        ("/api/platform", "/ret", None, json!(400), json!(400)),
        ("/plugin.php", "/code", None, json!(414), json!(413)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_targets_and_big_bodies_are_refused_in_each_dialects_envelope() {
    let t = server(HttpConfig {
        body_limit_bytes: 64,
        max_uri_bytes: 256,
        ..HttpConfig::default()
    })
    .await;
    for (path, pointer, statuses, too_long, too_large) in dialects() {
        let (long_status, large_status) = statuses.unwrap_or((200, 200));
        let url = t.url(&format!("{path}?s=App.User.Register&x={}", "y".repeat(300)));
        let (status, _, body) = ask(&t, t.client.get(url)).await;
        assert_eq!(status, long_status, "{path}: {body}");
        assert_eq!(body.pointer(pointer), Some(&too_long), "{path}: {body}");

        let (content_type, big) = if path.starts_with("/v1") {
            (
                "application/json",
                format!(r#"{{"username":"{}"}}"#, "x".repeat(200)),
            )
        } else {
            (
                "application/x-www-form-urlencoded",
                format!("username={}", "x".repeat(200)),
            )
        };
        let req = t
            .client
            .post(t.url(&format!("{path}?s=App.User.Register&id=xinxiu_network:pm")))
            .header(CONTENT_TYPE, content_type)
            .body(big);
        let (status, _, body) = ask(&t, req).await;
        assert_eq!(status, large_status, "{path}: {body}");
        assert_eq!(body.pointer(pointer), Some(&too_large), "{path}: {body}");
    }
    // Within the limit, the request goes through to the handler.
    let (status, _, _) = ask(&t, t.client.get(t.url("/healthz?x=1"))).await;
    assert_eq!(status, 200);
}

fn preflight(t: &TestServer, path: &str, origin: &str) -> reqwest::RequestBuilder {
    t.client
        .request(Method::OPTIONS, t.url(path))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_answer_allowed_origins_only() {
    let t = server(HttpConfig {
        cors_allowed_origins: vec![ALLOWED.to_owned()],
        ..HttpConfig::default()
    })
    .await;
    let (status, headers, _) = ask(&t, preflight(&t, "/v1/messages", ALLOWED)).await;
    assert!((200..300).contains(&status), "preflight answered {status}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    let methods = header(&headers, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&headers, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(header(&headers, "access-control-allow-credentials").is_none());

    // The event stream: an EventSource GET gets the header on its answer (here a 401).
    let events = t.client.get(t.url("/v1/events")).header(ORIGIN, ALLOWED);
    let (status, headers, _) = ask(&t, events).await;
    assert_eq!(status, 401);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    let (_, headers, _) = ask(&t, preflight(&t, "/v1/events", ALLOWED)).await;
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(ALLOWED)
    );

    // Refusals made before any handler runs carry the header too, so a page can read them.
    let long = format!(
        "/v1/me?pad={}",
        "x".repeat(HttpConfig::default().max_uri_bytes)
    );
    let (status, headers, body) = ask(&t, t.client.get(t.url(&long)).header(ORIGIN, ALLOWED)).await;
    assert_eq!(status, 414, "{body}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(ALLOWED)
    );

    // Another origin: no CORS header, so the browser refuses.
    let (_, headers, _) = ask(&t, preflight(&t, "/v1/messages", "https://evil.example")).await;
    assert!(header(&headers, "access-control-allow-origin").is_none());

    // Dialect and ops paths never answer CORS.
    for path in ["/", "/api/platform", "/plugin.php", "/healthz"] {
        let (_, headers, _) = ask(&t, t.client.get(t.url(path)).header(ORIGIN, ALLOWED)).await;
        assert!(
            header(&headers, "access-control-allow-origin").is_none(),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allowed_origins_there_are_no_cors_headers() {
    let t = server(HttpConfig::default()).await;
    let (status, headers, _) = ask(&t, preflight(&t, "/v1/messages", ALLOWED)).await;
    assert!(header(&headers, "access-control-allow-origin").is_none());
    assert_eq!(status, 405, "no preflight answer");
    let (_, headers, _) = ask(&t, t.client.get(t.url("/v1/me")).header(ORIGIN, ALLOWED)).await;
    assert!(header(&headers, "access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_when_configured_as_star() {
    let t = server(HttpConfig {
        cors_allowed_origins: vec!["*".to_owned()],
        ..HttpConfig::default()
    })
    .await;
    let (_, headers, _) = ask(&t, preflight(&t, "/v1/messages", "https://anyone.example")).await;
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
}
