//! Operations endpoints: `GET /healthz`, `GET /readyz` and `GET /metrics`, and the request metrics the
//! middleware records.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Whether this node can serve.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `unavailable` when the store does not answer.
    pub status: &'static str,
}

/// `GET /healthz` — liveness: the process serves HTTP.
///
/// - Always 200 `{"status":"ok"}`; touches nothing else, so it is the cheapest request the
///   server answers (`sixin-bench` uses it as the HTTP floor).
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `GET /readyz` — readiness: the store answers.
///
/// - 200 `{"status":"ok"}` when the store answers a cheap lookup.
/// - 503 `{"status":"unavailable"}` otherwise (the cause is logged).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub(crate) async fn readyz(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    match s.core.health().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok" })),
        Err(e) => {
            crate::middleware::log_server_error(&e, "health check failed");
            let body = Health {
                status: "unavailable",
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}

/// `GET /metrics` — Prometheus text exposition.
///
/// - `sixin_http_requests_total{route,method,status}`: requests by matched route template.
/// - `sixin_http_request_duration_seconds{route}`: latency histogram.
/// - `sixin_messages_sent_total`: messages committed by this process.
/// - `sixin_event_streams_open`: event streams (WebSocket and SSE) open on this node.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
        content_type = "text/plain")))]
pub(crate) async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let body = s
        .metrics
        .render(s.core.messages_sent(), s.core.open_streams());
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], body)
}

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Request counts and latencies. A std mutex is right here: the critical sections are a few
/// map operations, never held across an await, and the label sets are bounded by the route
/// table (unmatched paths share one label).
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum_seconds: f64,
    count: u64,
}

impl Metrics {
    /// Records one finished request.
    pub(crate) fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut m = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *m.requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let h = m.latency.entry(route.to_owned()).or_default();
        for (bucket, le) in h.buckets.iter_mut().zip(BUCKETS) {
            if secs <= le {
                *bucket += 1;
            }
        }
        h.sum_seconds += secs;
        h.count += 1;
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self, messages_sent: u64, open_streams: usize) -> String {
        let m = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP sixin_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE sixin_http_requests_total counter\n");
        for ((route, method, status), n) in &m.requests {
            let (route, method) = (escape(route), escape(method));
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            let _ = writeln!(out, "sixin_http_requests_total{{{labels}}} {n}");
        }
        out.push_str("# HELP sixin_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE sixin_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let route = escape(route);
            let name = "sixin_http_request_duration_seconds";
            for (n, le) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{le}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {}", h.sum_seconds);
            let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", h.count);
        }
        out.push_str("# HELP sixin_messages_sent_total Messages committed by this process.\n");
        out.push_str("# TYPE sixin_messages_sent_total counter\n");
        let _ = writeln!(out, "sixin_messages_sent_total {messages_sent}");
        out.push_str("# HELP sixin_event_streams_open Event streams open on this node.\n");
        out.push_str("# TYPE sixin_event_streams_open gauge\n");
        let _ = writeln!(out, "sixin_event_streams_open {open_streams}");
        out
    }
}

/// Escapes a Prometheus label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.record("/a", "GET", 200, Duration::from_millis(3));
        m.record("/a", "GET", 200, Duration::from_millis(300));
        m.record("/\"b\"", "POST", 400, Duration::from_secs(20));
        let text = m.render(7, 3);
        assert!(text
            .contains("sixin_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("route=\"/\\\"b\\\"\""));
        assert!(text
            .contains("sixin_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1"));
        assert!(
            text.contains("sixin_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.5\"} 2")
        );
        assert!(text.contains(
            "sixin_http_request_duration_seconds_bucket{route=\"/\\\"b\\\"\",le=\"10\"} 0"
        ));
        assert!(text.contains("sixin_http_request_duration_seconds_count{route=\"/a\"} 2"));
        assert!(text.contains("sixin_messages_sent_total 7"));
        assert!(text.contains("sixin_event_streams_open 3"));
    }
}
