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

use crate::client::{Bench, Member};
use crate::report::{self, kib, Table, Text, PHASE_COLUMNS};
use crate::send::{self, Phase, Route};
use crate::stats::{self, PhaseStats};
use crate::ws::{self, Held, HeldTally, Opened};

/// After phase B, how long to wait for frames still on their way.
const FRAME_WAIT: Duration = Duration::from_secs(5);
/// Caps opening the receivers' streams.
const CONNECT_WITHIN: Duration = Duration::from_secs(120);
/// Bound on stopping and closing every stream.
const STOP_WAIT: Duration = Duration::from_secs(30);

pub struct Plan {
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

/// The receivers' open streams, counting the `message` frames they read.
struct Connected {
    streams: Opened,
    frames: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    holders: JoinSet<Held>,
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let (r, c) = (plan.receivers, plan.senders);
    let mut receivers = bench.provision(r + c).await?;
    let senders = receivers.split_off(r);
    let sends = Phase::Send(Arc::new(routes(&senders, &receivers)));
    let rss_kib_before = bench.server_rss_kib();
    let (d, limit) = (plan.duration, plan.requests_per_phase);

    tracing::info!("fanout phase A: {c} workers send for {d:?}, nobody connected");
    let nobody_connected = send::phase(bench, &sends, c, d, limit).await?;
    let mut connected = connect(bench, &receivers, d).await?;
    let rss_kib_connected = bench.server_rss_kib();
    tracing::info!("fanout phase B: {c} workers send for {d:?}, {r} receivers connected");
    let receivers_connected = send::phase(bench, &sends, c, d, limit).await?;
    let acked = receivers_connected.requests - receivers_connected.errors;
    let frames_received = wait_for_frames(&connected.frames, acked).await;
    let rss_kib_after = bench.server_rss_kib();
    let held = ws::stop_all(&connected.stop, &mut connected.holders, STOP_WAIT).await;

    let report = Report {
        scenario: "fanout",
        url: bench.base.to_string(),
        duration_secs: d.as_secs(),
        requests_per_phase: limit,
        senders: c,
        receivers: r,
        connected_to_unconnected_ratio: stats::ratio(receivers_connected.rps, nobody_connected.rps),
        nobody_connected,
        receivers_connected,
        streams: connected.streams,
        messages_acknowledged: acked,
        frames_received,
        missing_frames: acked.saturating_sub(frames_received),
        held,
        rss_kib_before,
        rss_kib_connected,
        rss_kib_after,
    };
    report::print(bench.json, &report, layout)
}

/// Sender `w` sends to receivers `w, w+C, w+2C, …`, or to receiver `w mod R` if none.
fn routes(senders: &[Member], receivers: &[Member]) -> Vec<Route> {
    let c = senders.len();
    let r = receivers.len();
    let route = |(w, sender): (usize, &Member)| {
        let mut to: Vec<String> = receivers
            .iter()
            .skip(w)
            .step_by(c)
            .map(|m| m.uuid.clone())
            .collect();
        if to.is_empty() {
            to.extend(receivers.get(w % r.max(1)).map(|m| m.uuid.clone()));
        }
        Route {
            token: sender.token.clone(),
            uuid: sender.uuid.clone(),
            to,
        }
    };
    senders.iter().enumerate().map(route).collect()
}

/// Opens one stream per receiver, every one of which must open; they are held through a send
/// phase of `duration`.
async fn connect(
    bench: &Bench,
    receivers: &[Member],
    duration: Duration,
) -> anyhow::Result<Connected> {
    let r = receivers.len();
    tracing::info!("fanout: opening {r} receivers' streams");
    let url = ws::events_url(&bench.base)?;
    let frames = Arc::new(AtomicU64::new(0));
    let (stop, stop_rx) = watch::channel(false);
    let mut holders = JoinSet::new();
    let hold_until = Instant::now() + CONNECT_WITHIN + duration + FRAME_WAIT + STOP_WAIT;
    let tokens: Vec<String> = receivers.iter().map(|m| m.token.clone()).collect();
    let open_until = Instant::now() + CONNECT_WITHIN;
    let streams = ws::open_many(&url, &tokens, open_until, |_, ws| {
        let frames = frames.clone();
        holders.spawn(ws::hold(
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
        ws::stop_all(&stop, &mut holders, STOP_WAIT).await;
        bail!(
            "only {} of {r} receivers' event streams opened; first errors: {:?}",
            streams.established,
            streams.first_errors
        );
    }
    Ok(Connected {
        streams,
        frames,
        stop,
        holders,
    })
}

/// Waits up to [`FRAME_WAIT`] until `acked` frames were read; returns how many were.
async fn wait_for_frames(frames: &AtomicU64, acked: u64) -> u64 {
    let wait_until = Instant::now() + FRAME_WAIT;
    while frames.load(Ordering::Relaxed) < acked && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    frames.load(Ordering::Relaxed)
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench fanout: {} — {} senders, {} receivers, {}s per phase, at most {} \
         requests per phase",
        r.url, r.senders, r.receivers, r.duration_secs, r.requests_per_phase
    ));
    let mut table = Table::new(
        ["phase"]
            .into_iter()
            .chain(PHASE_COLUMNS)
            .chain(["RSS KiB"]),
    );
    let connected = format!("B: {} receivers connected", r.receivers);
    for (name, s, rss) in [
        ("A: nobody connected", &r.nobody_connected, r.rss_kib_before),
        (connected.as_str(), &r.receivers_connected, r.rss_kib_after),
    ] {
        let cells = report::phase_cells(s).into_iter().chain([kib(rss)]);
        table.row([name.to_owned()].into_iter().chain(cells));
    }
    text.table(table);
    text.line(format!(
        "B/A req/s: {:.3}; streams opened in {:.1}s (handshake p99 {:.2} ms)",
        r.connected_to_unconnected_ratio, r.streams.elapsed_secs, r.streams.handshake.p99_ms
    ));
    text.line(format!(
        "B: {} message frames received for {} messages acknowledged ({} missing); {} streams \
         open at the end, {} closed early",
        r.frames_received,
        r.messages_acknowledged,
        r.missing_frames,
        r.held.open_at_stop,
        r.held.closed_early
    ));
    for reason in &r.held.first_close_reasons {
        text.line(format!("  closed: {reason}"));
    }
    if r.rss_kib_before.is_some() {
        text.line(format!(
            "RSS: server VmRSS before phase A (A row), with receivers connected {} KiB, after \
             phase B (B row)",
            kib(r.rss_kib_connected)
        ));
    }
    text
}
