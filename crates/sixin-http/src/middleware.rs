//! Per-request plumbing shared by every route: a request id (kept from a sane incoming
//! `x-request-id`, else generated, and echoed on the response), one trace span per request with
//! `http.method`, `http.route` (the matched template, never the raw URI), `dialect` and
//! `request_id` (`app.id` and `member.id` are recorded after authentication), the request
//! timeout, request metrics, an access line per request (`debug`, or `info` with
//! `HttpConfig::access_log`), and a panic guard that answers in the error envelope.

use std::any::Any;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::field::Empty;
use tracing::Instrument;

use crate::native::error::ApiError;
use crate::state::AppState;

/// The header that carries the request id, in and out.
const REQUEST_ID: &str = "x-request-id";

/// Wraps every request: span, timeout, metrics, request id.
pub(crate) async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
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
    let outcome = tokio::time::timeout(s.request_timeout, next.run(req))
        .instrument(span.clone())
        .await;
    let mut response = outcome.unwrap_or_else(|_elapsed| ApiError::timeout().into_response());
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

/// Turns a panic in a handler into a `500 internal` envelope (logged once, here).
pub(crate) fn catch_panic() -> CatchPanicLayer<fn(Box<dyn Any + Send>) -> Response> {
    CatchPanicLayer::custom(panic_response as fn(Box<dyn Any + Send>) -> Response)
}

fn panic_response(panic: Box<dyn Any + Send>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    tracing::error!(panic = %what, "handler panicked");
    ApiError::internal().into_response()
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
