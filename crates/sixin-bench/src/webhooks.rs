//! `--scenario webhooks`: what webhooks cost and how fast they arrive (issue 13). Send
//! throughput with one subscribed endpoint answering 200 against none, in one run; then the
//! delivery lag from commit to the receiver, at a steady trickle and under that load.
//!
//! The receiver is this process: an HTTP server on 127.0.0.1 that answers 200 at once and notes,
//! for each `message.created`, its arrival minus the message's `created_at` (the server's
//! clock when it committed the send, in milliseconds: the lag is accurate to about 1 ms). The
//! server must allow loopback targets (`SIXIN_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true`). The
//! endpoint is created paused through the server API (`--app-secret`), subscribed to
//! `message.created` only; the "no endpoint" phases run with it paused, which costs a send what
//! having none does (one indexed read, nothing written).
//!
//! Throughput phases run A B B A … (A: paused, B: enabled; `--rounds` pairs) after a warm-up,
//! as in the words scenario. After each B phase the bench waits until the receiver has every
//! event of it (the endpoint's queue is delivered one event at a time, so a burst queues up),
//! and reports that drain time; the next phase starts on an empty queue. Then `--messages`
//! messages are sent one at a time, `--lag-interval-ms` apart, and their lag is reported.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context as _};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
use serde_json::{json, Value};

use crate::client::{self, Bench, ServerApi};
use crate::report::{self, Table, Text, PHASE_COLUMNS};
use crate::send::{self, Phase, Route};
use crate::stats::{self, Latency, PhaseStats};

/// How long the bench waits for a queue to drain before giving up.
const DRAIN_WITHIN: Duration = Duration::from_secs(600);

pub struct Plan {
    pub senders: usize,
    pub rounds: usize,
    pub app_key: String,
    pub app_secret: String,
    pub duration: Duration,
    pub requests_per_phase: u64,
    pub lag_messages: u64,
    pub lag_interval: Duration,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    duration_secs: u64,
    concurrency: usize,
    phases: Vec<Named>,
    /// Requests per second with the endpoint over without it (all phases of each).
    with_endpoint_to_without_ratio: f64,
    /// Commit to receiver, messages sent one at a time.
    lag_trickle: Latency,
    lag_interval_ms: u64,
    /// Commit to receiver, for the events of the B phases (queueing included).
    lag_under_load: Latency,
}

#[derive(Debug, Serialize)]
struct Named {
    warmup: bool,
    endpoint: bool,
    #[serde(flatten)]
    stats: PhaseStats,
    /// B phases: seconds from the phase's end until the receiver had all its events.
    drain_secs: Option<f64>,
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    events: AtomicU64,
    lags_us: Mutex<Vec<i64>>,
}

impl Seen {
    fn take_lags(&self) -> Vec<i64> {
        std::mem::take(&mut *self.lags_us.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn receive(State(seen): State<Arc<Seen>>, body: String) -> StatusCode {
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, stats::micros);
    if let Ok(v) = serde_json::from_str::<Value>(&body) {
        if v["type"] == "message.created" {
            if let Some(at) = v["data"]["message"]["created_at"].as_i64() {
                let lag = now_us - at * 1000;
                seen.lags_us
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(lag);
            }
            seen.events.fetch_add(1, Ordering::Relaxed);
        }
    }
    StatusCode::OK
}

/// Serves the receiver on a free loopback port.
async fn start_receiver(seen: Arc<Seen>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(seen);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("webhook receiver: {e}");
        }
    });
    Ok(addr)
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let c = plan.senders;
    let routes = send::pairs(bench, c).await?;
    let first = routes[0].clone();
    let sends = Phase::Send(Arc::new(routes));
    let seen = Arc::new(Seen::default());
    let addr = start_receiver(seen.clone()).await?;
    let server = ServerApi::new(bench, &plan.app_key, &plan.app_secret);
    let body = json!({
        "url": format!("http://{addr}/hook"),
        "events": ["message.created"],
        "enabled": false,
        "description": "sixin-bench webhooks",
    });
    let created = server
        .call("POST", "/v1/server/webhooks", body)
        .await
        .context("creating the endpoint (is webhooks.allow_private_targets on?)")?;
    let id = created["id"].as_i64().context("endpoint without id")?;
    let path = format!("/v1/server/webhooks/{id}");
    let set = |on: bool| server.call("PATCH", &path, json!({"enabled": on}));

    let mut phases = Vec::new();
    let mut expected = 0u64;
    let mut enabled = false;
    for (i, on) in stats::ab_order(plan.rounds).enumerate() {
        if on != enabled {
            set(on).await?;
            enabled = on;
        }
        tracing::info!(
            "webhooks: {c} workers, endpoint {on}, for {:?}",
            plan.duration
        );
        let stats = send::phase(bench, &sends, c, plan.duration, plan.requests_per_phase).await?;
        let drain_secs = if on {
            expected += stats.requests - stats.errors;
            let ended = Instant::now();
            wait_for(&seen, expected).await?;
            Some(ended.elapsed().as_secs_f64())
        } else {
            None
        };
        phases.push(Named {
            warmup: i == 0,
            endpoint: on,
            stats,
            drain_secs,
        });
    }
    let lag_under_load = Latency::from_us(seen.take_lags());
    if !enabled {
        set(true).await?;
    }
    trickle(bench, &plan, &first, &seen, expected).await?;
    let lag_trickle = Latency::from_us(seen.take_lags());
    server.call("DELETE", &path, Value::Null).await?;

    let report = Report {
        scenario: "webhooks",
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        concurrency: c,
        with_endpoint_to_without_ratio: stats::ab_ratio(
            phases.iter().map(|p| (p.endpoint, p.stats.rps)),
        ),
        phases,
        lag_trickle,
        lag_interval_ms: u64::try_from(plan.lag_interval.as_millis()).unwrap_or(u64::MAX),
        lag_under_load,
    };
    report::print(bench.json, &report, layout)
}

/// Sends `plan.lag_messages` texts along `route` one at a time, `plan.lag_interval` apart,
/// and waits until the receiver has them (`expected` events before them).
async fn trickle(
    bench: &Bench,
    plan: &Plan,
    route: &Route,
    seen: &Seen,
    mut expected: u64,
) -> anyhow::Result<()> {
    let url = bench.endpoint("/v1/messages")?;
    tracing::info!(
        "webhooks: {} messages one at a time, {:?} apart",
        plan.lag_messages,
        plan.lag_interval
    );
    let started = Instant::now();
    for i in 0..plan.lag_messages {
        if started.elapsed() > plan.duration * 10 {
            break;
        }
        let body =
            json!({"to": route.to[0], "type": "text", "data": {"content": format!("lag {i}")}});
        client::post_message(&bench.client, &url, &route.token, &body)
            .await
            .map_err(anyhow::Error::msg)?;
        expected += 1;
        tokio::time::sleep(plan.lag_interval).await;
    }
    wait_for(seen, expected).await
}

/// Waits (at most [`DRAIN_WITHIN`]) until the receiver has seen `n` message events.
async fn wait_for(seen: &Seen, n: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRAIN_WITHIN;
    while seen.events.load(Ordering::Relaxed) < n {
        ensure!(
            Instant::now() < deadline,
            "the receiver got {} of {n} events within {DRAIN_WITHIN:?}",
            seen.events.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench webhooks: {} — {} workers, {}s per phase, one endpoint (message.created) \
         answering 200",
        r.url, r.concurrency, r.duration_secs
    ));
    let header = ["phase", "endpoint"]
        .into_iter()
        .chain(PHASE_COLUMNS)
        .chain(["drain s"]);
    let mut table = Table::new(header);
    for (i, p) in r.phases.iter().enumerate() {
        let lead = report::ab_lead(i, p.warmup, p.endpoint);
        let drain = p.drain_secs.map_or("-".to_owned(), |s| format!("{s:.1}"));
        table.row(
            lead.into_iter()
                .chain(report::phase_cells(&p.stats))
                .chain([drain]),
        );
    }
    text.table(table);
    text.line(format!(
        "req/s with the endpoint / without: {:.3}",
        r.with_endpoint_to_without_ratio
    ));
    text.line("delivery lag, commit to receiver:");
    text.table(Table::latencies(&[
        (
            &format!("one at a time, {} ms apart", r.lag_interval_ms),
            &r.lag_trickle,
        ),
        ("under the load above", &r.lag_under_load),
    ]));
    text
}
