//! `--scenario idle`: how many idle event streams the server holds, and its memory per stream.
//!
//! Registers ceil(N / 8) members and opens `--connections` N WebSocket streams, 8 per member
//! (the server's default `events.max_streams_per_member`), [`events::HANDSHAKES_IN_FLIGHT`]
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

use super::events::{self, HeldTally, OpenFilesLimit, Opened};
use super::{rss_kib, Bench};

/// Streams per member: the server's default `events.max_streams_per_member`.
const STREAMS_PER_MEMBER: usize = 8;
/// How long the streams sit before the server's memory is read.
const SETTLE: Duration = Duration::from_secs(3);
/// Bound on stopping and closing every stream.
const STOP_WAIT: Duration = Duration::from_secs(60);

pub(super) struct Plan {
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

pub(super) async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let limit = events::open_files_limit();
    if let Some(OpenFilesLimit { soft, .. }) = &limit {
        if soft
            .parse::<usize>()
            .is_ok_and(|soft| soft < plan.connections + 100)
        {
            tracing::warn!(
                "this process may open {soft} files (RLIMIT_NOFILE), fewer than --connections \
                 {} plus its own: it will stop opening streams when it runs out",
                plan.connections
            );
        }
    }
    let n_members = plan.connections.div_ceil(STREAMS_PER_MEMBER);
    let members = bench.provision(n_members).await?;
    let tokens: Vec<String> = (0..plan.connections)
        .filter_map(|i| members.get(i / STREAMS_PER_MEMBER))
        .map(|m| m.token.clone())
        .collect();
    drop(members);
    let url = events::events_url(&bench.base)?;
    let rss_kib_before = bench.server_rss_kib();

    tracing::info!("opening {} event streams", plan.connections);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut holders = JoinSet::new();
    let hold_until = Instant::now() + plan.connect_within + SETTLE + plan.hold + STOP_WAIT;
    let streams = events::open_many(
        &url,
        &tokens,
        Instant::now() + plan.connect_within,
        |_, ws| {
            holders.spawn(events::hold(ws, stop_rx.clone(), hold_until, |_, _| {}));
        },
    )
    .await;
    tracing::info!(
        "{} streams open; settling for {}s",
        streams.established,
        SETTLE.as_secs()
    );
    tokio::time::sleep(SETTLE).await;
    let rss_kib_after = bench.server_rss_kib();
    let bench_rss_kib = rss_kib(std::process::id());
    tracing::info!("holding the streams for {}s", plan.hold.as_secs());
    tokio::time::sleep(plan.hold).await;
    let rss_kib_after_hold = bench.server_rss_kib();
    let held = events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;

    let kib_per_connection = match (rss_kib_before, rss_kib_after, streams.established) {
        (Some(before), Some(after), n) if n > 0 => Some((after as f64 - before as f64) / n as f64),
        _ => None,
    };
    let report = Report {
        scenario: "idle",
        url: bench.base.to_string(),
        connections_requested: plan.connections,
        members: n_members,
        streams_per_member: STREAMS_PER_MEMBER,
        open_files_limit: limit,
        handshakes_per_sec: if streams.elapsed_secs > 0.0 {
            streams.established as f64 / streams.elapsed_secs
        } else {
            0.0
        },
        streams,
        rss_kib_before,
        rss_kib_after,
        settle_secs: SETTLE.as_secs(),
        kib_per_connection,
        hold_secs: plan.hold.as_secs(),
        rss_kib_after_hold,
        held,
        bench_rss_kib,
    };
    if bench.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(r: &Report) {
    let s = &r.streams;
    let kib = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |k| k.to_string());
    println!(
        "sixin bench idle: {} — {} streams requested, {} per member ({} members)",
        r.url, r.connections_requested, r.streams_per_member, r.members
    );
    println!(
        "established {} of {} ({} failed) in {:.1}s, {:.0} handshakes/s{}{}",
        s.established,
        s.requested,
        s.failures,
        s.elapsed_secs,
        r.handshakes_per_sec,
        if s.fd_limit_hit {
            "; STOPPED: this bench process ran out of file descriptors (RLIMIT_NOFILE)"
        } else {
            ""
        },
        if s.deadline_hit {
            "; STOPPED by --duration-secs"
        } else {
            ""
        },
    );
    if let Some(OpenFilesLimit { soft, hard }) = &r.open_files_limit {
        println!("bench RLIMIT_NOFILE: soft {soft}, hard {hard} (one socket per stream)");
    }
    for e in &s.first_errors {
        println!("  error: {e}");
    }
    events::print_latency_header("");
    events::print_latency("handshake (connect → ready)", &s.handshake);
    println!(
        "server RSS KiB: {} before, {} with {} streams open after {}s{}",
        kib(r.rss_kib_before),
        kib(r.rss_kib_after),
        s.established,
        r.settle_secs,
        match r.kib_per_connection {
            Some(per) => format!(" → {per:.1} KiB per stream"),
            None => " (pass --pid for memory per stream)".to_owned(),
        }
    );
    println!(
        "after holding {}s: {} still open, {} closed early (server RSS {} KiB); bench RSS {} KiB",
        r.hold_secs,
        r.held.open_at_stop,
        r.held.closed_early,
        kib(r.rss_kib_after_hold),
        kib(r.bench_rss_kib),
    );
    for reason in &r.held.first_close_reasons {
        println!("  closed: {reason}");
    }
}
