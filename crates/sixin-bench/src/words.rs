//! `--scenario words`: send throughput with the app's sensitive-word list loaded, against none,
//! in one run (issue 12: with 10,000 words, within 5% of no list).
//!
//! Registers 2 × C members (C = the largest `--concurrency`); each of C workers sends texts to
//! its partner, each text mixing ASCII and Chinese (so the filter folds non-ASCII text too).
//! The list is `--words` Chinese words, half `mask` and half `reject`, made of characters
//! the texts never use, so every send is screened in full and none is refused or changed. It
//! is loaded and removed through the server API (`PUT`/`DELETE /v1/server/words`, which needs
//! `--app-secret`), and one send after each change makes the server rebuild its matcher
//! outside the timed phases.
//!
//! The phases run A B B A A B B A … (A: no list, B: the list; `--rounds` pairs), so a drift over
//! the run (the database growing) weighs on both sides alike and many short phases average out
//! other load on the machine; a warm-up phase without the list comes first, reported but not
//! counted (the first seconds on a fresh database run faster than the rest). The report gives
//! each phase and the ratio of B's requests per second to A's, over all of each.

use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use crate::client::{Bench, ServerApi};
use crate::report::{self, Table, Text, PHASE_COLUMNS};
use crate::send::{self, Phase};
use crate::stats::{self, PhaseStats};

/// What every text ends with: Chinese, so the server folds non-ASCII text.
const TAIL: &str = "：今天天气不错，我们一起去公园散步吧。";

pub struct Plan {
    pub senders: usize,
    pub words: usize,
    /// A/B pairs, alternating A B and B A.
    pub rounds: usize,
    pub app_key: String,
    pub app_secret: String,
    pub duration: Duration,
    pub requests_per_phase: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    duration_secs: u64,
    concurrency: usize,
    words: usize,
    /// The warm-up, then A, B, B, A, …, in the order run.
    phases: Vec<Named>,
    /// Requests per second with the list over without it (both phases of each).
    with_list_to_without_ratio: f64,
}

#[derive(Debug, Serialize)]
struct Named {
    /// The warm-up: not counted in the ratio.
    warmup: bool,
    list: bool,
    #[serde(flatten)]
    stats: PhaseStats,
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let c = plan.senders;
    let sends = Phase::Send(std::sync::Arc::new(send::pairs(bench, c).await?));
    let list = word_list(plan.words);
    let server = ServerApi::new(bench, &plan.app_key, &plan.app_secret);
    let words = |method, body| server.call(method, "/v1/server/words", body);
    words(
        "DELETE",
        json!(list.iter().map(|(w, _)| w).collect::<Vec<_>>()),
    )
    .await?;
    let mut phases = Vec::new();
    for (i, with_list) in stats::ab_order(plan.rounds).enumerate() {
        let loaded = phases.last().is_some_and(|p: &Named| p.list);
        if with_list && !loaded {
            let body: Vec<Value> = list
                .iter()
                .map(|(w, a)| json!({"word": w, "action": a}))
                .collect();
            words("PUT", Value::Array(body)).await?;
        } else if !with_list && loaded {
            words(
                "DELETE",
                json!(list.iter().map(|(w, _)| w).collect::<Vec<_>>()),
            )
            .await?;
        }
        // One untimed round: the server rebuilds its matcher for the new version here.
        send::phase_with(bench, &sends, 1, (Duration::from_secs(5), 1), TAIL).await?;
        tracing::info!(
            "words: {c} workers, list {}, for {:?}",
            if with_list { "on" } else { "off" },
            plan.duration
        );
        let stats = send::phase_with(
            bench,
            &sends,
            c,
            (plan.duration, plan.requests_per_phase),
            TAIL,
        )
        .await?;
        phases.push(Named {
            warmup: i == 0,
            list: with_list,
            stats,
        });
    }
    words(
        "DELETE",
        json!(list.iter().map(|(w, _)| w).collect::<Vec<_>>()),
    )
    .await?;
    let report = Report {
        scenario: "words",
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        concurrency: c,
        words: plan.words,
        with_list_to_without_ratio: stats::ab_ratio(phases.iter().map(|p| (p.list, p.stats.rps))),
        phases,
    };
    report::print(bench.json, &report, layout)
}

/// `n` distinct Chinese words of two or three characters that never occur in [`TAIL`].
fn word_list(n: usize) -> Vec<(String, &'static str)> {
    let pool: Vec<char> = (0x4E00..=0x9FA5)
        .filter_map(char::from_u32)
        .filter(|c| !TAIL.contains(*c))
        .collect();
    (0..n)
        .map(|i| {
            let mut w = String::new();
            w.push(pool[i % pool.len()]);
            w.push(pool[(i * 7 + 13) % pool.len()]);
            if i % 3 == 0 {
                w.push(pool[(i * 11 + 5) % pool.len()]);
            }
            (w, if i % 2 == 0 { "mask" } else { "reject" })
        })
        .collect()
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench words: {} — {} workers, {}s per phase, {} words (half mask, half reject)",
        r.url, r.concurrency, r.duration_secs, r.words
    ));
    let header = ["phase", "list"].into_iter().chain(PHASE_COLUMNS);
    let mut table = Table::new(header);
    for (i, p) in r.phases.iter().enumerate() {
        let lead = report::ab_lead(i, p.warmup, p.list);
        table.row(lead.into_iter().chain(report::phase_cells(&p.stats)));
    }
    text.table(table);
    text.line(format!(
        "req/s with the list / without: {:.3}",
        r.with_list_to_without_ratio
    ));
    text
}
