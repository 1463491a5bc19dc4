//! `--scenario hostile` (issue 12, item 6): hostile input stays harmless. Against a server with
//! its default limits, in one run:
//!
//! 1. registers and logs in 2 + `--bystanders` members: the flooder, its target, and
//!    bystanders who send to each other;
//! 2. baseline, for `--duration-secs`: `GET /healthz` `--probe-rate` times a second, and every
//!    bystander sending `--bystander-rate` texts a second to the next one;
//! 3. flood: the same probes while, at once, `--registrations` registrations from this one IP,
//!    `--flood-messages` texts from the flooder to its target and `--guesses` wrong passwords
//!    on the target's account are sent, each by `--flood-concurrency` workers as fast as the
//!    answers come, each ended by its count or by `--flood-secs`. The probes stop when the last
//!    flood ends.
//!
//! Probes are open-loop: each request starts at its scheduled time whatever the earlier ones
//! are doing, so a stalled server shows in the latencies rather than in fewer samples. The
//! report compares the probes before and during the flood, and tallies each flood's answers
//! (see [`flood`]).

mod flood;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use reqwest::{Client, StatusCode, Url};
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::Bench;
use crate::report::{self, Table, Text, PHASE_COLUMNS};
use crate::stats::PhaseStats;
use flood::{Floods, Tally};

pub struct Plan {
    pub registrations: u64,
    pub messages: u64,
    pub guesses: u64,
    pub bystanders: usize,
    /// Texts a second each bystander sends.
    pub bystander_rate: u32,
    /// `/healthz` requests a second.
    pub probe_rate: u32,
    pub flood_concurrency: usize,
    pub baseline: Duration,
    pub flood_cap: Duration,
}

/// The whole run, as printed by `--json`.
#[derive(Debug, Serialize)]
struct Report {
    url: String,
    bystanders: usize,
    bystander_rate: u32,
    probe_rate: u32,
    baseline: Probes,
    flood: Probes,
    registrations: Tally,
    messages: Tally,
    guesses: Tally,
}

/// What the probes saw during one phase.
#[derive(Debug, Serialize)]
struct Probes {
    secs: f64,
    healthz: PhaseStats,
    /// The bystanders' texts (errors: anything but 201, refusals included).
    sends: PhaseStats,
    /// Of those errors, `429` answers.
    sends_refused: u64,
}

/// Who each bystander is and whom it writes to.
struct Route {
    token: String,
    to: String,
}

/// What the probes need.
struct Probe {
    client: Client,
    healthz: Url,
    messages: Url,
    routes: Vec<Route>,
    bystander_every: Duration,
    probe_every: Duration,
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    ensure!(
        plan.bystanders >= 2,
        "at least 2 bystanders write to each other"
    );
    let members = bench.provision(plan.bystanders + 2).await?;
    let (flooder, target, bystanders) = (&members[0], &members[1], &members[2..]);
    let routes = (0..bystanders.len())
        .map(|i| Route {
            token: bystanders[i].token.clone(),
            to: bystanders[(i + 1) % bystanders.len()].uuid.clone(),
        })
        .collect();
    let probe = Arc::new(Probe {
        client: bench.client.clone(),
        healthz: bench.endpoint("/healthz")?,
        messages: bench.endpoint("/v1/messages")?,
        routes,
        bystander_every: Duration::from_secs(1) / plan.bystander_rate.max(1),
        probe_every: Duration::from_secs(1) / plan.probe_rate.max(1),
    });
    tracing::info!("baseline: probing for {:?}", plan.baseline);
    let (stop, stopped) = watch::channel(false);
    let timer = tokio::spawn(async move {
        tokio::time::sleep(plan.baseline).await;
        let _ = stop.send(true);
    });
    let baseline = probe.clone().run(stopped).await;
    timer.await.context("the baseline timer failed")?;

    let floods = Arc::new(Floods {
        client: bench.client.clone(),
        members: bench.endpoint("/v1/members")?,
        sessions: bench.endpoint("/v1/sessions")?,
        messages: bench.endpoint("/v1/messages")?,
        app_key: bench.app_key().to_owned(),
        flooder_token: flooder.token.clone(),
        target_uuid: target.uuid.clone(),
        target_username: target.username.clone(),
        run_id: format!("{:x}", std::process::id()),
    });
    tracing::info!(
        "flood: {} registrations, {} messages, {} guesses, probing meanwhile",
        plan.registrations,
        plan.messages,
        plan.guesses
    );
    let (stop, stopped) = watch::channel(false);
    let probing = tokio::spawn(probe.run(stopped));
    let (w, cap) = (plan.flood_concurrency, plan.flood_cap);
    let (r, m, g) = (floods.clone(), floods.clone(), floods.clone());
    let (registrations, messages, guesses) = tokio::join!(
        flood::flood(plan.registrations, w, cap, move |i| r.clone().register(i)),
        flood::flood(plan.messages, w, cap, move |i| m.clone().send(i)),
        flood::flood(plan.guesses, w, cap, move |i| g.clone().guess(i)),
    );
    let _ = stop.send(true);
    let flood = probing.await.context("the probes failed")?;
    let report = Report {
        url: bench.base.to_string(),
        bystanders: plan.bystanders,
        bystander_rate: plan.bystander_rate,
        probe_rate: plan.probe_rate,
        baseline,
        flood,
        registrations,
        messages,
        guesses,
    };
    report::print(bench.json, &report, layout)
}

impl Probe {
    /// Probes until `stop` turns true: `/healthz` and every bystander, each on its own clock.
    async fn run(self: Arc<Self>, stop: watch::Receiver<bool>) -> Probes {
        let start = Instant::now();
        let healthz = {
            let me = self.clone();
            ticker(self.probe_every, stop.clone(), move |_| {
                let req = me.client.get(me.healthz.clone());
                async move { req.send().await.map(|r| r.status()) }
            })
        };
        let sends = (0..self.routes.len()).map(|w| {
            let me = self.clone();
            ticker(self.bystander_every, stop.clone(), move |n| {
                let route = &me.routes[w];
                let content = format!("bystander {w} message {n}");
                let body = json!({"to": route.to, "type": "text", "data": {"content": content}});
                let req = me
                    .client
                    .post(me.messages.clone())
                    .bearer_auth(&route.token);
                async move { req.json(&body).send().await.map(|r| r.status()) }
            })
        });
        let (healthz, sends) = tokio::join!(healthz, futures::future::join_all(sends));
        let secs = start.elapsed();
        let (mut ok_us, mut errors, mut refused) = (Vec::new(), 0, 0);
        for s in sends {
            ok_us.extend(s.ok_us);
            errors += s.errors;
            refused += s.refused;
        }
        Probes {
            secs: secs.as_secs_f64(),
            healthz: PhaseStats::new(healthz.ok_us, healthz.errors, secs),
            sends: PhaseStats::new(ok_us, errors, secs),
            sends_refused: refused,
        }
    }
}

/// One probe's answers: latencies of the successes (µs), errors, and `429`s among them.
struct Ticks {
    ok_us: Vec<i64>,
    errors: u64,
    refused: u64,
}

/// Starts `one(n)` every `every` until `stop` turns true (open loop: a request does not wait
/// for the one before), then waits for the requests in flight (each bounded by the client's
/// timeout). A 2xx answer is a success.
async fn ticker<F, Fut>(every: Duration, mut stop: watch::Receiver<bool>, one: F) -> Ticks
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = reqwest::Result<StatusCode>> + Send + 'static,
{
    let mut tick = tokio::time::interval(every);
    let mut set = JoinSet::new();
    let mut n = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        n += 1;
        let request = one(n);
        set.spawn(async move {
            let t = Instant::now();
            let status = request.await;
            (status, flood::since(t))
        });
    }
    let mut ticks = Ticks {
        ok_us: Vec::new(),
        errors: 0,
        refused: 0,
    };
    while let Some(Ok((status, us))) = set.join_next().await {
        match status {
            Ok(s) if s.is_success() => ticks.ok_us.push(us),
            Ok(StatusCode::TOO_MANY_REQUESTS) => {
                ticks.errors += 1;
                ticks.refused += 1;
            }
            _ => ticks.errors += 1,
        }
    }
    ticks
}

fn layout(r: &Report) -> Text {
    let mut text = Text::default();
    text.line(format!(
        "sixin-bench hostile: {} — baseline {:.1} s, flood {:.1} s; /healthz {} a second, \
         {} bystanders sending {} a second each",
        r.url, r.baseline.secs, r.flood.secs, r.probe_rate, r.bystanders, r.bystander_rate
    ));
    let header = ["probe", "phase"].into_iter().chain(PHASE_COLUMNS);
    let mut table = Table::new(header.chain(["429s"]));
    for (phase, p) in [("baseline", &r.baseline), ("flood", &r.flood)] {
        for (name, s, refused) in [
            ("healthz", &p.healthz, String::new()),
            ("bystander sends", &p.sends, p.sends_refused.to_string()),
        ] {
            let lead = [name.to_owned(), phase.to_owned()];
            let cells = report::phase_cells(s).into_iter().chain([refused]);
            table.row(lead.into_iter().chain(cells));
        }
    }
    text.table(table);
    let mut floods = Table::new(["flood", "attempted", "secs", "per s", "answers"]);
    for (name, t) in [
        ("registrations", &r.registrations),
        ("messages", &r.messages),
        ("guesses", &r.guesses),
    ] {
        floods.row([
            name.to_owned(),
            t.attempted.to_string(),
            format!("{:.1}", t.secs),
            format!("{:.0}", t.per_sec),
            t.outcomes_line(),
        ]);
    }
    text.table(floods);
    text
}
