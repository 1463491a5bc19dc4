//! `--scenario send` (the default): registers and logs in 2 × max(concurrency) members over
//! HTTP, then for each concurrency level C runs C workers against `GET /healthz`, then C
//! workers each sending text messages from its own member to its partner over
//! `POST /v1/messages`. With `--one-conversation`, two members only: every worker sends as the
//! first to the second, so every send goes into one conversation. With `--dialect yesapi`, the
//! sends are YesApi's `Send` (`POST /api/App/Market_ChatMessage/Send`, a form). Also the send
//! phase ([`phase`]) that `fanout` runs twice.

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
    pub dialect: Dialect,
    /// Every worker sends as one member to one other: one conversation.
    pub one_conversation: bool,
    /// No `/healthz` phase (its row reads 0 requests): for counting a send's CPU instructions
    /// under callgrind, where only the sends may differ between two runs.
    pub skip_healthz: bool,
}

/// The API the send phase speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// `POST /v1/messages` (JSON, Bearer token).
    Native,
    /// YesApi `POST /api/App/Market_ChatMessage/Send` (a form with app_key, uuid and token).
    Yesapi,
}

/// The whole run, as printed by `--json`.
#[derive(Debug, Serialize)]
struct Report {
    url: String,
    duration_secs: u64,
    requests_per_level: u64,
    members: usize,
    dialect: Dialect,
    one_conversation: bool,
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
    /// The sender's uuid (YesApi names the caller by uuid and token).
    pub uuid: String,
    pub to: Vec<String>,
}

/// What a phase's workers request.
pub enum Phase {
    Healthz,
    /// Worker `w` follows `routes[w]`.
    Send(Arc<Vec<Route>>),
    /// As [`Phase::Send`], through YesApi's `Send`.
    YesapiSend(Arc<Vec<Route>>),
}

/// `c` send routes over `2 c` fresh members: each worker sends to its own partner.
pub async fn pairs(bench: &Bench, c: usize) -> anyhow::Result<Vec<Route>> {
    let members = bench.provision(2 * c).await?;
    Ok(members
        .chunks_exact(2)
        .map(|pair| Route {
            token: pair[0].token.clone(),
            uuid: pair[0].uuid.clone(),
            to: vec![pair[1].uuid.clone()],
        })
        .collect())
}

/// `c` send routes, all from one fresh member to another: one conversation.
pub async fn one_pair(bench: &Bench, c: usize) -> anyhow::Result<Vec<Route>> {
    let pair = pairs(bench, 1).await?;
    Ok(pair.into_iter().cycle().take(c).collect())
}

/// `--scenario fill`: `messages` sends by `c` workers, each to its own partner (fewer if
/// `cap` passes first), to grow a database to a size (`scripts/storage.sh`). With
/// `text_bytes`, each text is padded with `x` to at least that many bytes.
pub async fn fill(
    bench: &Bench,
    c: usize,
    messages: u64,
    cap: Duration,
    text_bytes: usize,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Filled {
        url: String,
        concurrency: usize,
        send: PhaseStats,
    }
    let sends = Phase::Send(Arc::new(pairs(bench, c).await?));
    tracing::info!("fill: {messages} sends by {c} workers (at most {cap:?})");
    // The unpadded text is "bench message N from worker W": about 32 bytes here.
    let pad: &'static str = "x".repeat(text_bytes.saturating_sub(32)).leak();
    let send = phase_with(bench, &sends, c, (cap, messages), pad).await?;
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
    let (routes, members) = if plan.one_conversation {
        (one_pair(bench, max_c).await?, 2)
    } else {
        (pairs(bench, max_c).await?, 2 * max_c)
    };
    let sends = match plan.dialect {
        Dialect::Native => Phase::Send(Arc::new(routes)),
        Dialect::Yesapi => Phase::YesapiSend(Arc::new(routes)),
    };
    let mut levels = Vec::with_capacity(plan.levels.len());
    for &c in &plan.levels {
        levels.push(level(bench, &sends, c, &plan).await?);
    }
    let report = Report {
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        requests_per_level: plan.requests_per_level,
        members,
        dialect: plan.dialect,
        one_conversation: plan.one_conversation,
        levels,
    };
    report::print(bench.json, &report, layout)
}

/// One concurrency level: healthz, then sends, for the same time each.
async fn level(bench: &Bench, sends: &Phase, c: usize, plan: &Plan) -> anyhow::Result<Level> {
    let rss_kib_before = bench.server_rss_kib();
    let (d, limit) = (plan.duration, plan.requests_per_level);
    tracing::info!("concurrency {c}: GET /healthz for {d:?}");
    let healthz_limit = if plan.skip_healthz { 0 } else { limit };
    let healthz = phase(bench, &Phase::Healthz, c, d, healthz_limit).await?;
    tracing::info!("concurrency {c}: sends for {d:?}");
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
    yesapi_send: Url,
    app_key: String,
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
    if let Phase::Send(routes) | Phase::YesapiSend(routes) = kind {
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
        yesapi_send: bench.endpoint("/api/App/Market_ChatMessage/Send")?,
        app_key: bench.app_key().to_owned(),
        issued: AtomicU64::new(0),
        limit,
        deadline: start + duration,
        tail,
    });
    let mut workers = JoinSet::new();
    for w in 0..c {
        let route = match kind {
            Phase::Healthz => None,
            Phase::Send(routes) => Some((routes.clone(), w, Dialect::Native)),
            Phase::YesapiSend(routes) => Some((routes.clone(), w, Dialect::Yesapi)),
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
async fn worker(
    shared: Arc<Shared>,
    route: Option<(Arc<Vec<Route>>, usize, Dialect)>,
) -> (Vec<i64>, u64) {
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
            Some((routes, w, dialect)) => match routes.get(*w) {
                Some(me) => send(&shared, *dialect, me, *w, n).await,
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
async fn send(shared: &Shared, dialect: Dialect, me: &Route, w: usize, n: u64) -> bool {
    let turn = usize::try_from(n - 1).unwrap_or(0) % me.to.len().max(1);
    let Some(partner) = me.to.get(turn) else {
        return false;
    };
    if dialect == Dialect::Yesapi {
        let text = format!("bench message {n} from worker {w}{}", shared.tail);
        let form = [
            ("app_key", shared.app_key.as_str()),
            ("uuid", me.uuid.as_str()),
            ("token", me.token.as_str()),
            ("other_uuid", partner.as_str()),
            ("chat_message_data", text.as_str()),
        ];
        let resp = shared
            .client
            .post(shared.yesapi_send.clone())
            .form(&form)
            .send()
            .await;
        // YesApi answers HTTP 200 with its own `ret`: 200 is a sent message.
        return match resp {
            Ok(r) if r.status() == StatusCode::OK => r
                .json::<serde_json::Value>()
                .await
                .is_ok_and(|v| v["ret"] == 200),
            _ => false,
        };
    }
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
        "sixin-bench: {} — {}s per phase, at most {} requests per phase, {} members, {:?} sends{}",
        r.url,
        r.duration_secs,
        r.requests_per_level,
        r.members,
        r.dialect,
        if r.one_conversation {
            " into one conversation"
        } else {
            ""
        }
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
