//! `--scenario unread` and `--scenario history` (issue 15): reads that must not grow with the
//! data behind them. Each compares the same request on a small and a large case, in the same
//! run and interleaved (small, large, small, large, …), so load on the machine hits both alike;
//! the ratio of the p99s is the figure.
//!
//! - unread: one member in `--few-conversations` groups (default 10), another in
//!   `--conversations` groups (default 10,000), each group with one unread message from a third
//!   member, all made through the HTTP API. Measures `GET /v1/unread` and the first page of
//!   `GET /v1/conversations` for both. With `--seed-postgres URL`, runs `ANALYZE` there
//!   (`psql`) after the setup, as autovacuum would within a minute of such growth: measured
//!   straight after 20,000 new memberships, PostgreSQL plans with no statistics at all.
//! - history: two direct conversations, of `--small-history` (default 10,000) and
//!   `--history-messages` (default 10,000,000) messages: one message each through the HTTP API,
//!   the rest written straight into the database by `scripts/seed-history.sqlite.sql` (run with
//!   `sqlite3`, `--seed-sqlite PATH`) or `scripts/seed-history.postgres.sql` (run with `psql`,
//!   `--seed-postgres URL`). Measures the newest history page (`GET
//!   /v1/conversations/{id}/messages`, 20 messages) and the conversation list of each reader.
//!
//! Bounds: the setup requests run [`SETUP_PARALLELISM`] at a time and stop at `--setup-secs`;
//! seeding is killed at `--setup-secs`; each measurement takes `--samples` requests of each
//! kind or stops at `--duration-secs`, whichever comes first.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use futures::{StreamExt as _, TryStreamExt as _};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt as _;

use crate::client::{Bench, Member};
use crate::report::{self, ms, Table, Text};
use crate::stats::{ratio, Latency};

/// Setup requests in flight at once.
const SETUP_PARALLELISM: usize = 8;
const SEED_SQLITE: &str = include_str!("../scripts/seed-history.sqlite.sql");
const SEED_POSTGRES: &str = include_str!("../scripts/seed-history.postgres.sql");

/// Where `--scenario history` writes its seeded messages.
pub enum Seed {
    Sqlite(String),
    Postgres(String),
}

pub struct Plan {
    pub few: usize,
    pub many: usize,
    pub small_history: u64,
    pub large_history: u64,
    pub seed: Option<Seed>,
    pub samples: u64,
    pub setup: Duration,
    pub duration: Duration,
}

/// One request measured on the small and the large case.
#[derive(Debug, Serialize)]
struct Pair {
    request: String,
    small: Latency,
    large: Latency,
    /// large p99 / small p99.
    p99_ratio: f64,
    /// large p50 / small p50.
    p50_ratio: f64,
    small_bytes: usize,
    large_bytes: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    small_case: String,
    large_case: String,
    setup_secs: f64,
    seed_secs: Option<f64>,
    pairs: Vec<Pair>,
}

/// `--scenario unread`.
pub async fn run_unread(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut members = bench.provision(3).await?;
    let many = members.pop().context("provisioned")?;
    let few = members.pop().context("provisioned")?;
    let sender = members.pop().context("provisioned")?;
    let deadline = started + plan.setup;
    groups_with_one_unread(bench, &sender, &few, plan.few, deadline).await?;
    groups_with_one_unread(bench, &sender, &many, plan.many, deadline).await?;
    if let Some(Seed::Postgres(url)) = &plan.seed {
        analyze(url).await?;
    }
    let setup_secs = started.elapsed().as_secs_f64();
    let requests = [
        ("GET /v1/unread", "/v1/unread"),
        ("GET /v1/conversations (first page)", "/v1/conversations"),
    ];
    let mut pairs = Vec::new();
    for (name, path) in requests {
        pairs.push(measure(bench, name, (path, &few), (path, &many), &plan).await?);
    }
    let report = Report {
        scenario: "unread",
        url: bench.base.to_string(),
        small_case: format!(
            "a member in {} conversations, one unread message each",
            plan.few
        ),
        large_case: format!(
            "a member in {} conversations, one unread message each",
            plan.many
        ),
        setup_secs,
        seed_secs: None,
        pairs,
    };
    report::print(bench.json, &report, layout)
}

/// `ANALYZE` on the PostgreSQL database at `url`, with `psql`.
async fn analyze(url: &str) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("psql")
        .args([url, "-qc", "ANALYZE"])
        .kill_on_drop(true)
        .output()
        .await
        .context("starting psql for ANALYZE")?;
    ensure!(
        out.status.success(),
        "ANALYZE failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// `--scenario history`.
pub async fn run_history(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let seed = plan
        .seed
        .as_ref()
        .context("--scenario history needs --seed-sqlite PATH or --seed-postgres URL")?;
    let started = Instant::now();
    let members = bench.provision(3).await?;
    let (writer, small_reader, large_reader) = (&members[0], &members[1], &members[2]);
    let small = read_conversation(bench, writer, small_reader).await?;
    let large = read_conversation(bench, writer, large_reader).await?;
    let setup_secs = started.elapsed().as_secs_f64();
    let seeding = Instant::now();
    let deadline = started + plan.setup;
    seed_messages(seed, small, plan.small_history - 1, deadline).await?;
    seed_messages(seed, large, plan.large_history - 1, deadline).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let small_path = format!("/v1/conversations/{small}/messages");
    let large_path = format!("/v1/conversations/{large}/messages");
    let mut pairs = vec![
        measure(
            bench,
            "GET /v1/conversations/{id}/messages (newest page)",
            (&small_path, small_reader),
            (&large_path, large_reader),
            &plan,
        )
        .await?,
    ];
    pairs.push(
        measure(
            bench,
            "GET /v1/conversations (the reader's list)",
            ("/v1/conversations", small_reader),
            ("/v1/conversations", large_reader),
            &plan,
        )
        .await?,
    );
    let report = Report {
        scenario: "history",
        url: bench.base.to_string(),
        small_case: format!("a conversation of {} messages", plan.small_history),
        large_case: format!("a conversation of {} messages", plan.large_history),
        setup_secs,
        seed_secs: Some(seed_secs),
        pairs,
    };
    report::print(bench.json, &report, layout)
}

/// Makes `n` groups of `sender` and `reader`, each with one message from `sender`.
async fn groups_with_one_unread(
    bench: &Bench,
    sender: &Member,
    reader: &Member,
    n: usize,
    deadline: Instant,
) -> anyhow::Result<()> {
    tracing::info!(
        "making {n} groups with one unread message for {}",
        reader.username
    );
    let groups = bench.endpoint("/v1/groups")?;
    let messages = bench.endpoint("/v1/messages")?;
    futures::stream::iter(0..n)
        .map(|i| {
            let (groups, messages) = (groups.clone(), messages.clone());
            async move {
                ensure!(Instant::now() < deadline, "setup ran past --setup-secs");
                let body = json!({"subject": format!("bench {i}"), "members": [reader.uuid]});
                let group = bench
                    .post_json(groups, Some(&sender.token), &body, "POST /v1/groups")
                    .await?;
                let id = group["id"].as_i64().context("group without id")?;
                let text = json!({"conversation_id": id, "type": "text",
                    "data": {"content": format!("unread {i}")}});
                bench
                    .post_json(messages, Some(&sender.token), &text, "POST /v1/messages")
                    .await?;
                Ok(())
            }
        })
        .buffer_unordered(SETUP_PARALLELISM)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The direct conversation of `writer` and `reader` with one message, read by `reader` (so
/// seeding, which marks everything read, keeps the unread counts right): its id.
async fn read_conversation(bench: &Bench, writer: &Member, reader: &Member) -> anyhow::Result<i64> {
    let text = json!({"to": reader.uuid, "type": "text", "data": {"content": "first"}});
    let sent = bench
        .post_json(
            bench.endpoint("/v1/messages")?,
            Some(&writer.token),
            &text,
            "POST /v1/messages",
        )
        .await?;
    let id = sent["conversation_id"]
        .as_i64()
        .context("message without conversation_id")?;
    let resp = bench
        .client
        .post(bench.endpoint(&format!("/v1/conversations/{id}/read"))?)
        .bearer_auth(&reader.token)
        .send()
        .await?;
    ensure!(
        resp.status() == StatusCode::OK,
        "marking read: {}",
        resp.status()
    );
    Ok(id)
}

/// Appends `count` messages to `conversation` with the seeding script, killed at `deadline`.
async fn seed_messages(
    seed: &Seed,
    conversation: i64,
    count: u64,
    deadline: Instant,
) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    tracing::info!("seeding {count} messages into conversation {conversation}");
    let (mut cmd, script) = match seed {
        Seed::Sqlite(path) => {
            let mut cmd = tokio::process::Command::new("sqlite3");
            cmd.arg(path)
                .arg("-cmd")
                .arg(format!(".parameter set :conversation {conversation}"))
                .arg("-cmd")
                .arg(format!(".parameter set :count {count}"));
            (cmd, SEED_SQLITE)
        }
        Seed::Postgres(url) => {
            let mut cmd = tokio::process::Command::new("psql");
            cmd.arg(url)
                .arg("-q")
                .arg("-v")
                .arg(format!("conversation={conversation}"))
                .arg("-v")
                .arg(format!("count={count}"))
                .arg("-f")
                .arg("-");
            (cmd, SEED_POSTGRES)
        }
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the seeding client (sqlite3 or psql)")?;
    let mut stdin = child.stdin.take().context("seeding client stdin")?;
    stdin.write_all(script.as_bytes()).await?;
    drop(stdin);
    let left = deadline.saturating_duration_since(Instant::now());
    let out = tokio::time::timeout(left, child.wait_with_output())
        .await
        .context("seeding ran past --setup-secs (the client was killed)")??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && stdout.contains("seeded"),
        "seeding failed ({}): {}{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// GETs the small and the large case alternately, `plan.samples` times each or until
/// `plan.duration` passes, after a warm-up of 20 each.
async fn measure(
    bench: &Bench,
    request: &str,
    small: (&str, &Member),
    large: (&str, &Member),
    plan: &Plan,
) -> anyhow::Result<Pair> {
    let (small_url, large_url) = (bench.endpoint(small.0)?, bench.endpoint(large.0)?);
    let mut bytes = (0, 0);
    for _ in 0..20 {
        bytes.0 = get(bench, &small_url, &small.1.token).await?.1;
        bytes.1 = get(bench, &large_url, &large.1.token).await?.1;
    }
    let (mut small_us, mut large_us) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for _ in 0..plan.samples {
        if started.elapsed() >= plan.duration {
            break;
        }
        small_us.push(get(bench, &small_url, &small.1.token).await?.0);
        large_us.push(get(bench, &large_url, &large.1.token).await?.0);
    }
    let (small, large) = (Latency::from_us(small_us), Latency::from_us(large_us));
    Ok(Pair {
        request: request.to_owned(),
        p99_ratio: ratio(large.p99_ms, small.p99_ms),
        p50_ratio: ratio(large.p50_ms, small.p50_ms),
        small,
        large,
        small_bytes: bytes.0,
        large_bytes: bytes.1,
    })
}

/// One GET as `token`: (microseconds until the whole 200 answer was read, its size).
async fn get(bench: &Bench, url: &reqwest::Url, token: &str) -> anyhow::Result<(i64, usize)> {
    let t = Instant::now();
    let resp = bench
        .client
        .get(url.clone())
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let us = i64::try_from(t.elapsed().as_micros()).unwrap_or(i64::MAX);
    ensure!(
        status == StatusCode::OK,
        "GET {url} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if body.first() == Some(&b'{') {
        let _: Value = serde_json::from_slice(&body).context("a JSON answer")?;
    }
    Ok((us, body.len()))
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!("{} against {}", r.scenario, r.url))
        .line(format!("small: {}", r.small_case))
        .line(format!("large: {}", r.large_case))
        .line(format!("setup {:.1} s", r.setup_secs));
    if let Some(s) = r.seed_secs {
        text.line(format!("seeding {s:.1} s"));
    }
    let mut table = Table::new([
        "request", "case", "samples", "p50 ms", "p99 ms", "max ms", "bytes",
    ]);
    for p in &r.pairs {
        for (case, l, b) in [
            ("small", &p.small, p.small_bytes),
            ("large", &p.large, p.large_bytes),
        ] {
            table.row([
                p.request.clone(),
                case.to_owned(),
                l.samples.to_string(),
                ms(l.p50_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                b.to_string(),
            ]);
        }
        table.row([
            p.request.clone(),
            "large/small".to_owned(),
            String::new(),
            format!("{:.2}x", p.p50_ratio),
            format!("{:.2}x", p.p99_ratio),
            String::new(),
            String::new(),
        ]);
    }
    text.table(table);
    text
}
