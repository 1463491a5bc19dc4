//! The three floods of `--scenario hostile`, and how their answers are tallied: each flood is
//! `workers` tasks taking request numbers from one counter until `n` were issued or the cap
//! passed, as fast as the answers come. Every answer is counted by its status, a `429` by the
//! policy its `RateLimit-Policy` header names (`429 registrations`, `429 failed_logins`, …).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Response, Url};
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::stats;

/// What one flood did.
#[derive(Debug, Default, Serialize)]
pub struct Tally {
    /// Requests answered (or failed) before the count or the cap ended the flood.
    pub attempted: u64,
    pub secs: f64,
    pub per_sec: f64,
    /// Answers by status (`201`, `401`, `429 logins`, `error`, `timeout`).
    pub outcomes: BTreeMap<String, u64>,
}

impl Tally {
    /// `201: 14, 429 registrations: 9986`.
    pub fn outcomes_line(&self) -> String {
        let parts: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        parts.join(", ")
    }
}

/// Runs `one(i)` for i in 0..n on `workers` tasks, until all were issued or `cap` passed.
pub async fn flood<F, Fut>(n: u64, workers: usize, cap: Duration, one: F) -> Tally
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = String> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + cap;
    let mut set = JoinSet::new();
    for _ in 0..workers {
        let (one, next) = (one.clone(), next.clone());
        set.spawn(async move {
            let mut seen: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || Instant::now() >= deadline {
                    break;
                }
                *seen.entry(one(i).await).or_default() += 1;
            }
            seen
        });
    }
    let mut tally = Tally::default();
    while let Some(Ok(seen)) = set.join_next().await {
        for (outcome, count) in seen {
            tally.attempted += count;
            *tally.outcomes.entry(outcome).or_default() += count;
        }
    }
    tally.secs = start.elapsed().as_secs_f64();
    tally.per_sec = stats::ratio(tally.attempted as f64, tally.secs);
    tally
}

/// An answer's label: its status, a `429` with its policy, or why there was none.
pub async fn label(resp: reqwest::Result<Response>) -> String {
    match resp {
        Err(e) if e.is_timeout() => "timeout".to_owned(),
        Err(_) => "error".to_owned(),
        Ok(r) => {
            let status = r.status().as_u16();
            let policy = r
                .headers()
                .get("ratelimit-policy")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split('"').nth(1))
                .map(str::to_owned);
            // Reading the body returns the connection to the pool.
            let _ = r.bytes().await;
            match policy {
                Some(p) if status == 429 => format!("429 {p}"),
                _ => status.to_string(),
            }
        }
    }
}

/// What the floods need: the server, the app, and who floods whom.
#[derive(Clone)]
pub struct Floods {
    pub client: Client,
    pub members: Url,
    pub sessions: Url,
    pub messages: Url,
    pub app_key: String,
    /// Sends the message flood.
    pub flooder_token: String,
    /// Receives it, and has its password guessed.
    pub target_uuid: String,
    pub target_username: String,
    pub run_id: String,
}

impl Floods {
    /// Registration `i` from this one IP (a password the server accepts).
    pub async fn register(self: Arc<Self>, i: u64) -> String {
        let body = json!({"app_key": self.app_key, "password": format!("hostile-pw-{i}-x"),
            "username": format!("hostile-{}-{i}", self.run_id)});
        label(
            self.client
                .post(self.members.clone())
                .json(&body)
                .send()
                .await,
        )
        .await
    }

    /// Text `i` from the flooder to its target.
    pub async fn send(self: Arc<Self>, i: u64) -> String {
        let body = json!({"to": self.target_uuid, "type": "text", "data": {"content": format!("flood {i}")}});
        let req = self.client.post(self.messages.clone());
        label(
            req.bearer_auth(&self.flooder_token)
                .json(&body)
                .send()
                .await,
        )
        .await
    }

    /// Wrong password `i` on the target's account.
    pub async fn guess(self: Arc<Self>, i: u64) -> String {
        let body = json!({"app_key": self.app_key, "username": self.target_username,
            "password": format!("wrong-guess-{i}")});
        label(
            self.client
                .post(self.sessions.clone())
                .json(&body)
                .send()
                .await,
        )
        .await
    }
}

/// The latency of a request in µs, started now.
pub fn since(t: Instant) -> i64 {
    stats::micros(t.elapsed())
}
