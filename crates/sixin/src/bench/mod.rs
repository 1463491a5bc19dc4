//! `sixin bench`: a load generator for a sixin server on this machine, feeding BENCHMARKS.md.
//!
//! Loopback only. Every loop is bounded twice: by `--duration-secs` and by
//! `--requests-per-level`; every request has a timeout. It needs an app to register members in:
//! pass `--app-key KEY` (from `sixin app create bench --json` run against the server's
//! database), or `--create-app` to create one through the core on `--database-url`, which must
//! then be the database the server uses.
//!
//! It registers and logs in 2 × max(concurrency) members over HTTP, then for each concurrency
//! level C runs C workers against `GET /healthz`, then C workers each sending text messages
//! from its own member to its partner over `POST /v1/messages`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use futures::{StreamExt as _, TryStreamExt as _};
use reqwest::{Client, StatusCode, Url};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::config::Settings;

/// Requests that take longer than this count as errors.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent registrations/logins while provisioning members (argon2 is the bottleneck).
const PROVISION_PARALLELISM: usize = 8;
const MAX_CONCURRENCY: usize = 1024;
const MAX_DURATION_SECS: u64 = 600;
const MAX_REQUESTS_PER_LEVEL: u64 = 10_000_000;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Base URL of the server; must be a loopback address (127.0.0.0/8, ::1, localhost).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// App to register the bench members in (`sixin app create bench --json` prints one).
    #[arg(long, value_name = "KEY")]
    app_key: Option<String>,
    /// Instead of --app-key, create an app named "bench" through the core on --database-url
    /// (or database.url), which must be the database the server uses.
    #[arg(long, conflicts_with = "app_key")]
    create_app: bool,
    /// Seconds each phase (healthz, send) runs at each concurrency level (1..=600).
    #[arg(long, default_value_t = 5)]
    duration_secs: u64,
    /// Comma-separated numbers of concurrent workers (each 1..=1024).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// At most this many requests per phase and level, whichever ends first with the duration.
    #[arg(long, default_value_t = 1_000_000)]
    requests_per_level: u64,
    /// The server's process id: report its resident memory (VmRSS) before and after each level.
    #[arg(long)]
    pid: Option<u32>,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
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

#[derive(Debug, Serialize)]
struct PhaseStats {
    /// Requests completed (successes and errors).
    requests: u64,
    errors: u64,
    elapsed_secs: f64,
    /// Completed requests per second.
    rps: f64,
    /// Latency percentiles of successful requests, in milliseconds.
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// A bench member: its credentials on the server.
struct Member {
    uuid: String,
    token: String,
}

#[derive(Clone, Copy)]
enum Phase {
    Healthz,
    Send,
}

pub async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<()> {
    let base = loopback_url(&args.url)?;
    ensure!(
        (1..=MAX_DURATION_SECS).contains(&args.duration_secs),
        "--duration-secs must be 1..={MAX_DURATION_SECS}"
    );
    ensure!(
        (1..=MAX_REQUESTS_PER_LEVEL).contains(&args.requests_per_level),
        "--requests-per-level must be 1..={MAX_REQUESTS_PER_LEVEL}"
    );
    ensure!(
        !args.concurrency.is_empty()
            && args
                .concurrency
                .iter()
                .all(|c| (1..=MAX_CONCURRENCY).contains(c)),
        "--concurrency must be a comma-separated list of numbers 1..={MAX_CONCURRENCY}"
    );
    let max_c = args.concurrency.iter().copied().max().unwrap_or(1);

    let client = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(max_c * 2)
        .tcp_nodelay(true)
        .build()?;
    check_server(&client, &base).await?;

    let app_key = match (&args.app_key, args.create_app) {
        (Some(key), _) => key.clone(),
        (None, true) => {
            let core = crate::cli::core(settings).await?;
            let app = core.create_app("bench", false).await?;
            tracing::info!(
                "created app {} on {}",
                app.key,
                sixin_store::redact(&settings.store.url)
            );
            app.key.as_str().to_owned()
        }
        (None, false) => bail!(
            "sixin bench needs an app to register its members in: run \
             `sixin app create bench --json` against the server's database and pass \
             --app-key KEY, or pass --create-app"
        ),
    };

    let n_members = 2 * max_c;
    tracing::info!("registering and logging in {n_members} members");
    let members = provision(&client, &base, &app_key, n_members).await?;
    let members = Arc::new(members);

    let duration = Duration::from_secs(args.duration_secs);
    let mut levels = Vec::with_capacity(args.concurrency.len());
    for &c in &args.concurrency {
        let rss_kib_before = args.pid.and_then(rss_kib);
        tracing::info!("concurrency {c}: GET /healthz for {}s", args.duration_secs);
        let healthz = phase(
            &client,
            &base,
            &members,
            Phase::Healthz,
            c,
            duration,
            args.requests_per_level,
        )
        .await?;
        tracing::info!(
            "concurrency {c}: POST /v1/messages for {}s",
            args.duration_secs
        );
        let send = phase(
            &client,
            &base,
            &members,
            Phase::Send,
            c,
            duration,
            args.requests_per_level,
        )
        .await?;
        let rss_kib_after = args.pid.and_then(rss_kib);
        let send_to_healthz_ratio = if healthz.rps > 0.0 {
            send.rps / healthz.rps
        } else {
            0.0
        };
        levels.push(Level {
            concurrency: c,
            healthz,
            send,
            send_to_healthz_ratio,
            rss_kib_before,
            rss_kib_after,
        });
    }

    let report = Report {
        url: base.to_string(),
        duration_secs: args.duration_secs,
        requests_per_level: args.requests_per_level,
        members: n_members,
        levels,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// The base URL, if it names this machine.
fn loopback_url(raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw).with_context(|| format!("--url {raw:?} is not a URL"))?;
    ensure!(
        url.scheme() == "http",
        "--url must be http://… (the bench talks plain HTTP to a local server)"
    );
    let host = url.host_str().unwrap_or_default();
    let ip_text = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip_text.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    ensure!(
        loopback,
        "refusing to load {host}: sixin bench only targets this machine \
         (127.0.0.1, ::1 or localhost)"
    );
    Ok(url)
}

fn endpoint(base: &Url, path: &str) -> anyhow::Result<Url> {
    Ok(base.join(path)?)
}

async fn check_server(client: &Client, base: &Url) -> anyhow::Result<()> {
    let url = endpoint(base, "/healthz")?;
    let resp = client
        .get(url.clone())
        .send()
        .await
        .with_context(|| format!("no server answers at {url}: start one with `sixin serve`"))?;
    ensure!(
        resp.status().is_success(),
        "{url} answered {}: the server is not healthy",
        resp.status()
    );
    Ok(())
}

/// Registers and logs in `n` fresh members, a few at a time.
async fn provision(
    client: &Client,
    base: &Url,
    app_key: &str,
    n: usize,
) -> anyhow::Result<Vec<Member>> {
    let run_id = format!("{:x}", std::process::id() ^ rand_suffix());
    let members_url = endpoint(base, "/v1/members")?;
    let sessions_url = endpoint(base, "/v1/sessions")?;
    futures::stream::iter(0..n)
        .map(|i| {
            let (members_url, sessions_url) = (members_url.clone(), sessions_url.clone());
            let username = format!("bench-{run_id}-{i}");
            async move {
                let password = "bench-password";
                let creds = json!({"app_key": app_key, "username": username, "password": password});
                let member: Value = expect_status(
                    client.post(members_url).json(&creds).send().await,
                    StatusCode::CREATED,
                    "POST /v1/members",
                )
                .await?;
                let session: Value = expect_status(
                    client.post(sessions_url).json(&creds).send().await,
                    StatusCode::CREATED,
                    "POST /v1/sessions",
                )
                .await?;
                let uuid = member["uuid"].as_str().context("member without uuid")?;
                let token = session["token"].as_str().context("session without token")?;
                anyhow::Ok(Member {
                    uuid: uuid.to_owned(),
                    token: token.to_owned(),
                })
            }
        })
        .buffered(PROVISION_PARALLELISM)
        .try_collect()
        .await
}

/// Some bits that differ between runs, so usernames never collide with an earlier run's.
fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0)
}

async fn expect_status(
    resp: reqwest::Result<reqwest::Response>,
    want: StatusCode,
    what: &str,
) -> anyhow::Result<Value> {
    let resp = resp.with_context(|| format!("{what} failed"))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    ensure!(status == want, "{what} answered {status}: {body}");
    serde_json::from_str(&body).with_context(|| format!("{what} answered non-JSON: {body}"))
}

/// Runs `c` workers of one phase until `duration` has passed or `limit` requests were issued.
async fn phase(
    client: &Client,
    base: &Url,
    members: &Arc<Vec<Member>>,
    kind: Phase,
    c: usize,
    duration: Duration,
    limit: u64,
) -> anyhow::Result<PhaseStats> {
    let healthz = endpoint(base, "/healthz")?;
    let messages = endpoint(base, "/v1/messages")?;
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for w in 0..c {
        let (client, members, issued) = (client.clone(), members.clone(), issued.clone());
        let (healthz, messages) = (healthz.clone(), messages.clone());
        workers.spawn(async move {
            let mut latencies_us: Vec<u64> = Vec::new();
            let mut errors = 0u64;
            let (me, partner) = (&members[2 * w], &members[2 * w + 1]);
            let mut n = 0u64;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < limit {
                n += 1;
                let t = Instant::now();
                let ok = match kind {
                    Phase::Healthz => client
                        .get(healthz.clone())
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == StatusCode::OK),
                    Phase::Send => {
                        let body = json!({
                            "to": partner.uuid,
                            "type": "text",
                            "data": {"content": format!("bench message {n} from worker {w}")},
                        });
                        match client
                            .post(messages.clone())
                            .bearer_auth(&me.token)
                            .json(&body)
                            .send()
                            .await
                        {
                            // Read the body so the connection goes back to the pool.
                            Ok(r) => r.status() == StatusCode::CREATED && r.bytes().await.is_ok(),
                            Err(_) => false,
                        }
                    }
                };
                if ok {
                    latencies_us.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                } else {
                    errors += 1;
                }
            }
            (latencies_us, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(joined) = workers.join_next().await {
        let (lat, err) = joined.context("a bench worker panicked")?;
        all.extend(lat);
        errors += err;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let requests = all.len() as u64 + errors;
    Ok(PhaseStats {
        requests,
        errors,
        elapsed_secs: elapsed,
        rps: if elapsed > 0.0 {
            requests as f64 / elapsed
        } else {
            0.0
        },
        p50_ms: percentile_ms(&all, 0.50),
        p99_ms: percentile_ms(&all, 0.99),
        max_ms: all.last().map_or(0.0, |&us| us as f64 / 1000.0),
    })
}

/// Nearest-rank percentile of sorted microsecond samples, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us[idx] as f64 / 1000.0
}

/// The resident set size of process `pid`, in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn print_table(r: &Report) {
    println!(
        "sixin bench: {} — {}s per phase, at most {} requests per phase, {} members",
        r.url, r.duration_secs, r.requests_per_level, r.members
    );
    println!(
        "{:>5}  {:<8} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8}  {:>10}  {:>12}",
        "conc",
        "phase",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "send/hz",
        "RSS KiB"
    );
    for l in &r.levels {
        for (name, s, ratio, rss) in [
            ("healthz", &l.healthz, String::new(), l.rss_kib_before),
            (
                "send",
                &l.send,
                format!("{:.3}", l.send_to_healthz_ratio),
                l.rss_kib_after,
            ),
        ] {
            println!(
                "{:>5}  {:<8} {:>9} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>8.2}  {:>10}  {:>12}",
                l.concurrency,
                name,
                s.requests,
                s.errors,
                s.rps,
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                ratio,
                rss.map(|k| k.to_string()).unwrap_or_default(),
            );
        }
    }
    if r.levels.iter().any(|l| l.rss_kib_before.is_some()) {
        println!("RSS: server VmRSS before the level (healthz row) and after it (send row)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080/",
            "http://127.1.2.3",
        ] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "https://127.0.0.1",
            "nonsense",
        ] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&v, 0.5), 50.0);
        assert_eq!(percentile_ms(&v, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
        assert_eq!(percentile_ms(&[7000], 0.99), 7.0);
    }
}
