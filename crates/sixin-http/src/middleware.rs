//! Per-request plumbing shared by every route: a request id (kept from a sane incoming
//! `x-request-id`, else generated, and echoed on the response), one trace span per request with
//! `http.method`, `http.route` (the matched template, never the raw URI), `dialect` and
//! `request_id` (`app.id` and `member.id` are recorded after authentication), the request
//! timeout, the request-target length limit, request metrics, an access line per request
//! (`debug`, or `info` with `HttpConfig::access_log`), a panic guard, and the client IP
//! (`client_ip`); refusals are answered
//! in the envelope of the dialect whose path was asked (`refusal`).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use tracing::field::Empty;
use tracing::Instrument;

use crate::refusal::{self, Refusal};
use crate::state::AppState;

/// The header that carries the request id, in and out.
const REQUEST_ID: &str = "x-request-id";

/// Wraps every request: span, timeout, metrics, request id, client IP.
pub(crate) async fn observe(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    crate::client_ip::attach(&mut req, &s.trusted_proxies);
    let route = route_label(&req);
    let method = method_label(req.method());
    let request_id = request_id(req.headers());
    let dialect = dialect(&route);
    let span = if dialect == "ops" {
        tracing::debug_span!("request", http.method = method, http.route = %route, dialect,
            request_id = %request_id, app.id = Empty, member.id = Empty)
    } else {
        tracing::info_span!("request", http.method = method, http.route = %route, dialect,
            request_id = %request_id, app.id = Empty, member.id = Empty)
    };
    let uri = req.uri().clone();
    let guarded = guard(&uri, s.max_uri_bytes, s.request_timeout, next.run(req));
    let mut response = guarded.instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    s.metrics.record(&route, method, status, elapsed);
    let duration_ms = elapsed.as_millis();
    // The access line: `info` only when access logging is on (`log.access`), and never for
    // the ops endpoints, which load balancers and scrapers poll.
    span.in_scope(|| {
        if s.access_log && dialect != "ops" {
            tracing::info!(
                http.status = status,
                duration_ms,
                "{method} {route} -> {status}"
            );
        } else {
            tracing::debug!(
                http.status = status,
                duration_ms,
                "{method} {route} -> {status}"
            );
        }
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// Logs a request that failed on the server's side, with its cause printed once: an
/// unavailable store was already logged with its cause by the core (`store unavailable`), so it
/// is `debug` here; any other failure is `error`, the cause as a field.
pub(crate) fn log_server_error(e: &sixin_core::Error, what: &str) {
    match std::error::Error::source(e) {
        _ if matches!(e, sixin_core::Error::Unavailable) => tracing::debug!(error = %e, "{what}"),
        Some(cause) => tracing::error!(error = %e, error.cause = %cause, "{what}"),
        None => tracing::error!(error = %e, "{what}"),
    }
}

/// Runs `handler`, the rest of the stack for a request to `uri`, unless the target is longer
/// than `max_uri_bytes`; answers a timeout after `timeout` and a panic as refusals in the
/// envelope of the dialect of `uri`'s path.
async fn guard(
    uri: &Uri,
    max_uri_bytes: usize,
    timeout: Duration,
    handler: impl Future<Output = Response>,
) -> Response {
    if uri_len(uri) > max_uri_bytes {
        tracing::debug!(max_uri_bytes, "request target too long");
        return refusal::respond(uri, Refusal::UriTooLong { max: max_uri_bytes });
    }
    match tokio::time::timeout(timeout, AssertUnwindSafe(handler).catch_unwind()).await {
        Ok(Ok(response)) => response,
        Ok(Err(panic)) => {
            log_panic(&panic);
            refusal::respond(uri, Refusal::Panic)
        }
        Err(_elapsed) => refusal::respond(uri, Refusal::Timeout),
    }
}

/// The length of the request target as sent: path plus `?query`.
fn uri_len(uri: &Uri) -> usize {
    uri.path_and_query().map_or(0, |pq| pq.as_str().len())
}

/// Logs a handler's panic once; the answer is `Refusal::Panic` in the dialect's envelope.
fn log_panic(panic: &Box<dyn Any + Send>) {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    tracing::error!(panic = %what, "handler panicked");
}

/// The matched route template, or `unmatched` (one label for every unknown path, so metrics
/// stay bounded whatever clients request).
fn route_label(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(p) if !p.as_str().contains("__private__") => p.as_str().to_owned(),
        _ => "unmatched".to_owned(),
    }
}

/// Standard methods by name; anything else is `OTHER`, again to keep labels bounded.
fn method_label(m: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|k| *k == m.as_str())
        .unwrap_or("OTHER")
}

/// Which API surface a route belongs to, for the span's `dialect` field.
fn dialect(route: &str) -> &'static str {
    if route == "/v1" || route.starts_with("/v1/") {
        "native"
    } else if matches!(route, "/healthz" | "/readyz" | "/metrics") {
        "ops"
    } else if route == "/plugin.php" {
        "discuz"
    } else if route == "/api/platform" {
        "phalapi"
    } else if route == "/" || route.starts_with("/api/") {
        "yesapi"
    } else {
        "other"
    }
}

/// The client's `x-request-id` when it is short and plain, else a fresh random one.
fn request_id(headers: &HeaderMap) -> String {
    let given = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
    match given {
        Some(id)
            if (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id.to_owned()
        }
        _ => format!("{:016x}", rand::random::<u64>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status and JSON body of `response`.
    async fn read(response: Response) -> (u16, serde_json::Value) {
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// One request to each dialect: the path, and how its refusals look — (HTTP status, the
    /// JSON pointer of the outcome code, the code) for too long, timeout, panic.
    type Expect = (u16, &'static str, serde_json::Value);
    fn dialects() -> Vec<(&'static str, [Expect; 3])> {
        use serde_json::json;
        vec![
            (
                "/v1/messages",
                [
                    (414, "/error/code", json!("uri_too_long")),
                    (503, "/error/code", json!("timeout")),
                    (500, "/error/code", json!("internal")),
                ],
            ),
            (
                "/",
                [
                    (200, "/ret", json!(400)),
                    (200, "/ret", json!(500)),
                    (200, "/ret", json!(500)),
                ],
            ),
            (
                "/api/App/User/Login",
                [
                    (200, "/ret", json!(400)),
                    (200, "/ret", json!(500)),
                    (200, "/ret", json!(500)),
                ],
            ),
            (
                "/api/platform",
                [
                    (200, "/ret", json!(400)),
                    (200, "/ret", json!(500)),
                    (200, "/ret", json!(500)),
                ],
            ),
            (
                "/plugin.php",
                [
                    (200, "/code", json!(414)),
                    (200, "/code", json!(503)),
                    (200, "/code", json!(500)),
                ],
            ),
        ]
    }

    async fn ok() -> Response {
        axum::response::IntoResponse::into_response("fine")
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_answer_in_the_envelope_of_the_dialect_asked() {
        let limit = Duration::from_secs(30);
        for (path, [too_long, timed_out, panicked]) in dialects() {
            let long: Uri = format!("{path}?s={}", "x".repeat(300)).parse().unwrap();
            let (status, body) = read(guard(&long, 256, limit, ok()).await).await;
            assert_eq!(
                (
                    status,
                    body.pointer(too_long.1).unwrap_or(&serde_json::Value::Null)
                ),
                (too_long.0, &too_long.2),
                "{path}: {body}"
            );

            let uri: Uri = path.parse().unwrap();
            let slow = async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                ok().await
            };
            let (status, body) = read(guard(&uri, 256, limit, slow).await).await;
            assert_eq!(
                (
                    status,
                    body.pointer(timed_out.1)
                        .unwrap_or(&serde_json::Value::Null)
                ),
                (timed_out.0, &timed_out.2),
                "{path}: {body}"
            );

            let boom = async {
                if path.len() < 1000 {
                    panic!("handler bug");
                }
                ok().await
            };
            let (status, body) = read(guard(&uri, 256, limit, boom).await).await;
            assert_eq!(
                (
                    status,
                    body.pointer(panicked.1).unwrap_or(&serde_json::Value::Null)
                ),
                (panicked.0, &panicked.2),
                "{path}: {body}"
            );
            assert!(!body.to_string().contains("handler bug"), "{path}: {body}");
        }
    }

    #[tokio::test]
    async fn requests_within_the_limits_pass_through() {
        let uri: Uri = "/v1/me?x=1".parse().unwrap();
        let response = guard(&uri, 256, Duration::from_secs(1), ok()).await;
        assert_eq!(response.status().as_u16(), 200);
    }

    #[tokio::test]
    async fn discuz_refusals_keep_the_format_asked_for() {
        let uri: Uri = "/plugin.php?output=xml&id=x".parse().unwrap();
        let boom = async {
            if uri.path().len() < 1000 {
                panic!("handler bug");
            }
            ok().await
        };
        let response = guard(&uri, 256, Duration::from_secs(1), boom).await;
        let ct = response.headers()[axum::http::header::CONTENT_TYPE].clone();
        assert!(
            ct.to_str().unwrap().starts_with("application/xml"),
            "{ct:?}"
        );
    }

    #[test]
    fn spans_and_metrics_name_the_dialect_by_route() {
        let cases = [
            ("/v1/messages", "native"),
            ("/readyz", "ops"),
            ("/plugin.php", "discuz"),
            ("/api/platform", "phalapi"),
            ("/api/App/{class}/{method}", "yesapi"),
            ("/", "yesapi"),
            ("unmatched", "other"),
        ];
        for (route, expected) in cases {
            assert_eq!(dialect(route), expected, "{route}");
        }
    }

    #[test]
    fn request_ids_are_kept_only_when_plain() {
        let mut h = HeaderMap::new();
        h.insert(REQUEST_ID, HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&h), "abc-123");
        h.insert(REQUEST_ID, HeaderValue::from_static("has space"));
        let generated = request_id(&h);
        assert_eq!(generated.len(), 16);
        assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
