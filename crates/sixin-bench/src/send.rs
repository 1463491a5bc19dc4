//! `--scenario send` (the default): registers and logs in 2 × max(concurrency) members over
//! HTTP, then for each concurrency level C runs C workers against `GET /healthz`, then C
//! workers each sending text messages from its own member to its partner over
//! `POST /v1/messages`. Also the send phase ([`phase`]) that `fanout` runs twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use reqwest::{Client, StatusCode, Url};
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::client::{self, Bench};
use crate::report::{self, Table, Text, PHASE_COLUMNS};
use crate::stats::{self, PhaseStats};

pub struct Plan {
    pub levels: Vec<usize>,
    pub duration: Duration,
    pub requests_per_level: u64,
}

/// The whole run, as printed by `--json`.
#[derive(Debug, Serialize)]
struct Report {
    url: String,
    duration_secs: u64,
    requests_per_level: u64,
    members: usize,
    levels: Vec<Level>,
}

#[derive(Debug, Serialize)]
struct Level {
    concurrency: usize,
    healthz: PhaseStats,
    send: PhaseStats,
    /// send req/s divided by healthz req/s: how much of the HTTP stack's capacity a send costs.
    send_to_healthz_ratio: f64,
    rss_kib_before: Option<u64>,
    rss_kib_after: Option<u64>,
}

/// Who one send worker sends as, and to whom: `to` in rotation.
#[derive(Clone)]
pub struct Route {
    pub token: String,
    pub to: Vec<String>,
}

/// What a phase's workers request.
pub enum Phase {
    Healthz,
    /// Worker `w` follows `routes[w]`.
    Send(Arc<Vec<Route>>),
}

/// `c` send routes over `2 c` fresh members: each worker sends to its own partner.
pub async fn pairs(bench: &Bench, c: usize) -> anyhow::Result<Vec<Route>> {
    let members = bench.provision(2 * c).await?;
    Ok(members
        .chunks_exact(2)
        .map(|pair| Route {
            token: pair[0].token.clone(),
            to: vec![pair[1].uuid.clone()],
        })
        .collect())
}

/// `--scenario fill`: `messages` sends by `c` workers, each to its own partner (fewer if
/// `cap` passes first), to grow a database to a size (`scripts/storage.sh`).
pub async fn fill(bench: &Bench, c: usize, messages: u64, cap: Duration) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Filled {
        url: String,
        concurrency: usize,
        send: PhaseStats,
    }
    let sends = Phase::Send(Arc::new(pairs(bench, c).await?));
    tracing::info!("fill: {messages} sends by {c} workers (at most {cap:?})");
    let send = phase(bench, &sends, c, cap, messages).await?;
    let report = Filled {
        url: bench.base.to_string(),
        concurrency: c,
        send,
    };
    report::print(bench.json, &report, |r| {
        let mut text = Text::default();
        text.line(format!(
            "sixin-bench fill: {} — {} workers",
            r.url, r.concurrency
        ));
        let mut table = Table::new(["phase"].into_iter().chain(PHASE_COLUMNS));
        table.row(
            ["send".to_owned()]
                .into_iter()
                .chain(report::phase_cells(&r.send)),
        );
        text.table(table);
        text
    })
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let max_c = plan.levels.iter().copied().max().unwrap_or(1);
    let routes = pairs(bench, max_c).await?;
    let members = 2 * routes.len();
    let sends = Phase::Send(Arc::new(routes));
    let mut levels = Vec::with_capacity(plan.levels.len());
    for &c in &plan.levels {
        levels.push(level(bench, &sends, c, &plan).await?);
    }
    let report = Report {
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        requests_per_level: plan.requests_per_level,
        members,
        levels,
    };
    report::print(bench.json, &report, layout)
}

/// One concurrency level: healthz, then sends, for the same time each.
async fn level(bench: &Bench, sends: &Phase, c: usize, plan: &Plan) -> anyhow::Result<Level> {
    let rss_kib_before = bench.server_rss_kib();
    let (d, limit) = (plan.duration, plan.requests_per_level);
    tracing::info!("concurrency {c}: GET /healthz for {d:?}");
    let healthz = phase(bench, &Phase::Healthz, c, d, limit).await?;
    tracing::info!("concurrency {c}: POST /v1/messages for {d:?}");
    let send = phase(bench, sends, c, d, limit).await?;
    Ok(Level {
        concurrency: c,
        send_to_healthz_ratio: stats::ratio(send.rps, healthz.rps),
        healthz,
        send,
        rss_kib_before,
        rss_kib_after: bench.server_rss_kib(),
    })
}

/// What every worker of a phase shares.
struct Shared {
    client: Client,
    healthz: Url,
    messages: Url,
    issued: AtomicU64,
    limit: u64,
    deadline: Instant,
    /// Appended to every text sent.
    tail: &'static str,
}

/// Runs `c` workers of one phase until `duration` has passed or `limit` requests were issued.
/// With [`Phase::Send`], worker `w` follows `routes[w]`: there must be at least `c` routes.
pub async fn phase(
    bench: &Bench,
    kind: &Phase,
    c: usize,
    duration: Duration,
    limit: u64,
) -> anyhow::Result<PhaseStats> {
    phase_with(bench, kind, c, (duration, limit), "").await
}

/// [`phase`], with `tail` appended to every text sent.
pub async fn phase_with(
    bench: &Bench,
    kind: &Phase,
    c: usize,
    (duration, limit): (Duration, u64),
    tail: &'static str,
) -> anyhow::Result<PhaseStats> {
    if let Phase::Send(routes) = kind {
        ensure!(
            routes.len() >= c && routes.iter().all(|r| !r.to.is_empty()),
            "{c} send workers need {c} routes, each with a recipient"
        );
    }
    let start = Instant::now();
    let shared = Arc::new(Shared {
        client: bench.client.clone(),
        healthz: bench.endpoint("/healthz")?,
        messages: bench.endpoint("/v1/messages")?,
        issued: AtomicU64::new(0),
        limit,
        deadline: start + duration,
        tail,
    });
    let mut workers = JoinSet::new();
    for w in 0..c {
        let route = match kind {
            Phase::Healthz => None,
            Phase::Send(routes) => Some((routes.clone(), w)),
        };
        workers.spawn(worker(shared.clone(), route));
    }
    let (mut ok_us, mut errors) = (Vec::new(), 0);
    while let Some(joined) = workers.join_next().await {
        let (lat, err) = joined.context("a bench worker panicked")?;
        ok_us.extend(lat);
        errors += err;
    }
    Ok(PhaseStats::new(ok_us, errors, start.elapsed()))
}

/// One worker: requests one after another until the deadline or the shared count; returns the
/// latencies of its successes (µs) and its error count.
async fn worker(shared: Arc<Shared>, route: Option<(Arc<Vec<Route>>, usize)>) -> (Vec<i64>, u64) {
    let mut ok_us = Vec::new();
    let mut errors = 0u64;
    let mut n = 0u64;
    while Instant::now() < shared.deadline
        && shared.issued.fetch_add(1, Ordering::Relaxed) < shared.limit
    {
        n += 1;
        let t = Instant::now();
        let ok = match &route {
            None => healthz(&shared).await,
            Some((routes, w)) => match routes.get(*w) {
                Some(me) => send(&shared, me, *w, n).await,
                None => break,
            },
        };
        if ok {
            ok_us.push(stats::micros(t.elapsed()));
        } else {
            errors += 1;
        }
    }
    (ok_us, errors)
}

async fn healthz(shared: &Shared) -> bool {
    let resp = shared.client.get(shared.healthz.clone()).send().await;
    resp.is_ok_and(|r| r.status() == StatusCode::OK)
}

/// Request `n` of worker `w`: a text to the next recipient of its route.
async fn send(shared: &Shared, me: &Route, w: usize, n: u64) -> bool {
    let turn = usize::try_from(n - 1).unwrap_or(0) % me.to.len().max(1);
    let Some(partner) = me.to.get(turn) else {
        return false;
    };
    let body = json!({
        "to": partner,
        "type": "text",
        "data": {"content": format!("bench message {n} from worker {w}{}", shared.tail)},
    });
    client::post_message(&shared.client, &shared.messages, &me.token, &body)
        .await
        .is_ok()
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench: {} — {}s per phase, at most {} requests per phase, {} members",
        r.url, r.duration_secs, r.requests_per_level, r.members
    ));
    let header = ["conc", "phase"].into_iter().chain(PHASE_COLUMNS);
    let mut table = Table::new(header.chain(["send/hz", "RSS KiB"]));
    for l in &r.levels {
        let ratio = format!("{:.3}", l.send_to_healthz_ratio);
        for (name, s, ratio, rss) in [
            ("healthz", &l.healthz, String::new(), l.rss_kib_before),
            ("send", &l.send, ratio, l.rss_kib_after),
        ] {
            let lead = [l.concurrency.to_string(), name.to_owned()];
            let cells = report::phase_cells(s)
                .into_iter()
                .chain([ratio, report::kib(rss)]);
            table.row(lead.into_iter().chain(cells));
        }
    }
    text.table(table);
    if r.levels.iter().any(|l| l.rss_kib_before.is_some()) {
        text.line("RSS: server VmRSS before the level (healthz row) and after it (send row)");
    }
    text
}
