//! `--scenario fanout`: sends per second with `--receivers` members connected to the event
//! stream, compared in the same run with none connected.
//!
//! Registers R receivers and C senders (C = the largest `--concurrency`). Worker `w` sends
//! direct texts as sender `w` to receivers `w, w+C, w+2C, …` (below R; receiver `w mod R` when
//! there are fewer receivers than workers), in rotation.
//! - Phase A: nobody is connected; the workers send for `--duration-secs`.
//! - Phase B: every receiver opens one stream (all `ready` first), then the same send phase
//!   runs while the receivers read and count `message` frames. After it, up to
//!   [`FRAME_WAIT`] for frames still on their way; frames received should equal messages
//!   acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::events::{self, HeldTally, Opened};
use super::{phase, Bench, Phase, PhaseStats, Route};

/// After phase B, how long to wait for frames still on their way.
const FRAME_WAIT: Duration = Duration::from_secs(5);
/// Caps opening the receivers' streams.
const CONNECT_WITHIN: Duration = Duration::from_secs(120);
/// Bound on stopping and closing every stream.
const STOP_WAIT: Duration = Duration::from_secs(30);

pub(super) struct Plan {
    pub receivers: usize,
    pub senders: usize,
    pub duration: Duration,
    pub requests_per_phase: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    duration_secs: u64,
    requests_per_phase: u64,
    senders: usize,
    receivers: usize,
    /// Phase A: sends with no receiver connected.
    nobody_connected: PhaseStats,
    /// Phase B: the same sends with every receiver connected and reading.
    receivers_connected: PhaseStats,
    /// Phase B req/s over phase A req/s.
    connected_to_unconnected_ratio: f64,
    /// Opening the receivers' streams.
    streams: Opened,
    /// Phase B sends answered 201.
    messages_acknowledged: u64,
    /// `message` frames the receivers read during and after phase B.
    frames_received: u64,
    /// acknowledged − received (should be 0).
    missing_frames: u64,
    held: HeldTally,
    rss_kib_before: Option<u64>,
    rss_kib_connected: Option<u64>,
    rss_kib_after: Option<u64>,
}

pub(super) async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let (r, c) = (plan.receivers, plan.senders);
    let mut members = bench.provision(r + c).await?;
    let senders = members.split_off(r);
    let receivers = members;
    let routes: Vec<Route> = senders
        .iter()
        .enumerate()
        .map(|(w, sender)| {
            let mut to: Vec<String> = receivers
                .iter()
                .skip(w)
                .step_by(c)
                .map(|m| m.uuid.clone())
                .collect();
            if to.is_empty() {
                to.extend(receivers.get(w % r).map(|m| m.uuid.clone()));
            }
            Route {
                token: sender.token.clone(),
                to,
            }
        })
        .collect();
    let sends = Phase::Send(Arc::new(routes));
    let rss_kib_before = bench.server_rss_kib();

    tracing::info!(
        "fanout phase A: {c} workers send for {:?}, nobody connected",
        plan.duration
    );
    let nobody_connected = phase(
        &bench.client,
        &bench.base,
        &sends,
        c,
        plan.duration,
        plan.requests_per_phase,
    )
    .await?;

    tracing::info!("fanout: opening {r} receivers' streams");
    let url = events::events_url(&bench.base)?;
    let frames = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut holders = JoinSet::new();
    let hold_until = Instant::now() + CONNECT_WITHIN + plan.duration + FRAME_WAIT + STOP_WAIT;
    let tokens: Vec<String> = receivers.iter().map(|m| m.token.clone()).collect();
    let streams = events::open_many(&url, &tokens, Instant::now() + CONNECT_WITHIN, |_, ws| {
        let frames = frames.clone();
        holders.spawn(events::hold(
            ws,
            stop_rx.clone(),
            hold_until,
            move |_, frame| {
                if frame["type"] == "message" {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            },
        ));
    })
    .await;
    if streams.established < r {
        events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;
        bail!(
            "only {} of {r} receivers' event streams opened; first errors: {:?}",
            streams.established,
            streams.first_errors
        );
    }
    let rss_kib_connected = bench.server_rss_kib();

    tracing::info!(
        "fanout phase B: {c} workers send for {:?}, {r} receivers connected",
        plan.duration
    );
    let receivers_connected = phase(
        &bench.client,
        &bench.base,
        &sends,
        c,
        plan.duration,
        plan.requests_per_phase,
    )
    .await?;
    let acked = receivers_connected.requests - receivers_connected.errors;
    let wait_until = Instant::now() + FRAME_WAIT;
    while frames.load(Ordering::Relaxed) < acked && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let frames_received = frames.load(Ordering::Relaxed);
    let rss_kib_after = bench.server_rss_kib();
    let held = events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;

    let report = Report {
        scenario: "fanout",
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        requests_per_phase: plan.requests_per_phase,
        senders: c,
        receivers: r,
        connected_to_unconnected_ratio: if nobody_connected.rps > 0.0 {
            receivers_connected.rps / nobody_connected.rps
        } else {
            0.0
        },
        nobody_connected,
        receivers_connected,
        streams,
        messages_acknowledged: acked,
        frames_received,
        missing_frames: acked.saturating_sub(frames_received),
        held,
        rss_kib_before,
        rss_kib_connected,
        rss_kib_after,
    };
    if bench.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(r: &Report) {
    println!(
        "sixin bench fanout: {} — {} senders, {} receivers, {}s per phase, at most {} \
         requests per phase",
        r.url, r.senders, r.receivers, r.duration_secs, r.requests_per_phase
    );
    println!(
        "{:<28} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8}  {:>12}",
        "phase", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "RSS KiB"
    );
    let kib = |v: Option<u64>| v.map(|k| k.to_string()).unwrap_or_default();
    let connected = format!("B: {} receivers connected", r.receivers);
    for (name, s, rss) in [
        ("A: nobody connected", &r.nobody_connected, r.rss_kib_before),
        (connected.as_str(), &r.receivers_connected, r.rss_kib_after),
    ] {
        println!(
            "{:<28} {:>9} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>8.2}  {:>12}",
            name,
            s.requests,
            s.errors,
            s.rps,
            s.p50_ms,
            s.p99_ms,
            s.max_ms,
            kib(rss)
        );
    }
    println!(
        "B/A req/s: {:.3}; streams opened in {:.1}s (handshake p99 {:.2} ms)",
        r.connected_to_unconnected_ratio, r.streams.elapsed_secs, r.streams.handshake.p99_ms
    );
    println!(
        "B: {} message frames received for {} messages acknowledged ({} missing); {} streams \
         open at the end, {} closed early",
        r.frames_received,
        r.messages_acknowledged,
        r.missing_frames,
        r.held.open_at_stop,
        r.held.closed_early
    );
    for reason in &r.held.first_close_reasons {
        println!("  closed: {reason}");
    }
    if r.rss_kib_before.is_some() {
        println!(
            "RSS: server VmRSS before phase A (A row), with receivers connected {} KiB, after \
             phase B (B row)",
            kib(r.rss_kib_connected)
        );
    }
}
