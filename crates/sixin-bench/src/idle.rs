//! `--scenario idle`: how many idle event streams the server holds, and its memory per stream.
//!
//! Registers ceil(N / 8) members and opens `--connections` N WebSocket streams, 8 per member
//! (the server's default `events.max_streams_per_member`), [`ws::HANDSHAKES_IN_FLIGHT`]
//! handshakes at a time, each waiting for its `ready` frame. The server's RSS is read after
//! provisioning and again [`SETTLE`] after the last stream opened; the difference over the
//! streams established is the memory per stream. The streams are then held `--hold-secs`
//! (read, so the server's pings are answered), counted, and closed.
//!
//! One process can open only as many sockets as its RLIMIT_NOFILE allows (the bench does not
//! raise it): when it runs out, it stops opening streams, says so, and reports the rest.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::{rss_kib, Bench};
use crate::report::{self, kib, Table, Text};
use crate::stats;
use crate::ws::{self, HeldTally, OpenFilesLimit, Opened};

/// Streams per member: the server's default `events.max_streams_per_member`.
const STREAMS_PER_MEMBER: usize = 8;
/// How long the streams sit before the server's memory is read.
const SETTLE: Duration = Duration::from_secs(3);
/// Bound on stopping and closing every stream.
const STOP_WAIT: Duration = Duration::from_secs(60);

pub struct Plan {
    pub connections: usize,
    pub hold: Duration,
    /// Caps opening the streams.
    pub connect_within: Duration,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    connections_requested: usize,
    members: usize,
    streams_per_member: usize,
    /// This process's RLIMIT_NOFILE (soft, hard).
    open_files_limit: Option<OpenFilesLimit>,
    /// Opening the streams: established, failures, handshake times.
    streams: Opened,
    handshakes_per_sec: f64,
    /// Server VmRSS after provisioning, before any stream opened.
    rss_kib_before: Option<u64>,
    /// Server VmRSS with every established stream open, after settling.
    rss_kib_after: Option<u64>,
    settle_secs: u64,
    /// (after − before) / established.
    kib_per_connection: Option<f64>,
    hold_secs: u64,
    rss_kib_after_hold: Option<u64>,
    /// After the hold: how many were still open (`open_at_stop`), and why others closed.
    held: HeldTally,
    /// This bench process's VmRSS with every stream open.
    bench_rss_kib: Option<u64>,
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let limit = ws::open_files_limit();
    warn_if_too_few_files(limit.as_ref(), plan.connections);
    let n_members = plan.connections.div_ceil(STREAMS_PER_MEMBER);
    let members = bench.provision(n_members).await?;
    let tokens: Vec<String> = (0..plan.connections)
        .filter_map(|i| members.get(i / STREAMS_PER_MEMBER))
        .map(|m| m.token.clone())
        .collect();
    drop(members);
    let mut report = Report {
        scenario: "idle",
        url: bench.base.to_string(),
        connections_requested: plan.connections,
        members: n_members,
        streams_per_member: STREAMS_PER_MEMBER,
        open_files_limit: limit,
        streams: Opened::default(),
        handshakes_per_sec: 0.0,
        rss_kib_before: bench.server_rss_kib(),
        rss_kib_after: None,
        settle_secs: SETTLE.as_secs(),
        kib_per_connection: None,
        hold_secs: plan.hold.as_secs(),
        rss_kib_after_hold: None,
        held: HeldTally::default(),
        bench_rss_kib: None,
    };
    open_and_hold(bench, &plan, &tokens, &mut report).await?;
    let s = &report.streams;
    report.handshakes_per_sec = stats::ratio(s.established as f64, s.elapsed_secs);
    report.kib_per_connection = match (report.rss_kib_before, report.rss_kib_after) {
        (Some(before), Some(after)) if s.established > 0 => {
            Some((after as f64 - before as f64) / s.established as f64)
        }
        _ => None,
    };
    report::print(bench.json, &report, layout)
}

fn warn_if_too_few_files(limit: Option<&OpenFilesLimit>, connections: usize) {
    let Some(OpenFilesLimit { soft, .. }) = limit else {
        return;
    };
    if soft
        .parse::<usize>()
        .is_ok_and(|soft| soft < connections + 100)
    {
        tracing::warn!(
            "this process may open {soft} files (RLIMIT_NOFILE), fewer than --connections \
             {connections} plus its own: it will stop opening streams when it runs out"
        );
    }
}

/// Opens one stream per token, settles, reads memory, holds, counts and closes them.
async fn open_and_hold(
    bench: &Bench,
    plan: &Plan,
    tokens: &[String],
    report: &mut Report,
) -> anyhow::Result<()> {
    let url = ws::events_url(&bench.base)?;
    tracing::info!("opening {} event streams", plan.connections);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut holders = JoinSet::new();
    let hold_until = Instant::now() + plan.connect_within + SETTLE + plan.hold + STOP_WAIT;
    let open_until = Instant::now() + plan.connect_within;
    report.streams = ws::open_many(&url, tokens, open_until, |_, ws| {
        holders.spawn(ws::hold(ws, stop_rx.clone(), hold_until, |_, _| {}));
    })
    .await;
    let open = report.streams.established;
    tracing::info!("{open} streams open; settling for {}s", SETTLE.as_secs());
    tokio::time::sleep(SETTLE).await;
    report.rss_kib_after = bench.server_rss_kib();
    report.bench_rss_kib = rss_kib(std::process::id());
    tracing::info!("holding the streams for {}s", plan.hold.as_secs());
    tokio::time::sleep(plan.hold).await;
    report.rss_kib_after_hold = bench.server_rss_kib();
    report.held = ws::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;
    Ok(())
}

fn layout(r: &Report) -> Text {
    let s = &r.streams;
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench idle: {} — {} streams requested, {} per member ({} members)",
        r.url, r.connections_requested, r.streams_per_member, r.members
    ));
    opening(&mut text, r);
    text.table(Table::latencies(&[(
        "handshake (connect → ready)",
        &s.handshake,
    )]));
    let per_stream = match r.kib_per_connection {
        Some(per) => format!(" → {per:.1} KiB per stream"),
        None => " (pass --pid for memory per stream)".to_owned(),
    };
    text.line(format!(
        "server RSS KiB: {} before, {} with {} streams open after {}s{per_stream}",
        kib(r.rss_kib_before),
        kib(r.rss_kib_after),
        s.established,
        r.settle_secs,
    ));
    text.line(format!(
        "after holding {}s: {} still open, {} closed early (server RSS {} KiB); bench RSS {} KiB",
        r.hold_secs,
        r.held.open_at_stop,
        r.held.closed_early,
        kib(r.rss_kib_after_hold),
        kib(r.bench_rss_kib),
    ));
    for reason in &r.held.first_close_reasons {
        text.line(format!("  closed: {reason}"));
    }
    text
}

/// How opening the streams went, why it stopped early if it did, and its first errors.
fn opening(text: &mut Text, r: &Report) {
    let s = &r.streams;
    let fd_stop = "; STOPPED: this bench process ran out of file descriptors (RLIMIT_NOFILE)";
    let time_stop = "; STOPPED by --duration-secs";
    text.line(format!(
        "established {} of {} ({} failed) in {:.1}s, {:.0} handshakes/s{}{}",
        s.established,
        s.requested,
        s.failures,
        s.elapsed_secs,
        r.handshakes_per_sec,
        if s.fd_limit_hit { fd_stop } else { "" },
        if s.deadline_hit { time_stop } else { "" },
    ));
    if let Some(OpenFilesLimit { soft, hard }) = &r.open_files_limit {
        text.line(format!(
            "bench RLIMIT_NOFILE: soft {soft}, hard {hard} (one socket per stream)"
        ));
    }
    for e in &s.first_errors {
        text.line(format!("  error: {e}"));
    }
}
