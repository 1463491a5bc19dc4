//! `sixin bench`: a load generator for a sixin server on this machine, feeding BENCHMARKS.md.
//!
//! Loopback only. Every loop is bounded twice, by time and by a count; every request and every
//! wait on the network has a timeout. It needs an app to register members in: pass
//! `--app-key KEY` (from `sixin app create bench --json` run against the server's database), or
//! `--create-app` to create one through the core on `--database-url`, which must then be the
//! database the server uses.
//!
//! `--scenario` picks what is measured:
//! - `send` (default): registers and logs in 2 × max(concurrency) members over HTTP, then for
//!   each concurrency level C runs C workers against `GET /healthz`, then C workers each sending
//!   text messages from its own member to its partner over `POST /v1/messages`.
//! - `delivery`, `idle`, `fanout`: the live event stream (`GET /v1/events` over WebSocket);
//!   see [`delivery`], [`idle`] and [`fanout`].
//!
//! The event-stream scenarios register hundreds or thousands of members, each costing two
//! argon2 hashes on the server; run the server with cheap hashing for them:
//! `SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 sixin serve`.

mod delivery;
mod events;
mod fanout;
mod idle;

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
const MAX_MESSAGES: u64 = 1_000_000;
/// The server's default `limits.max_group_members`.
const MAX_GROUP_SIZE: usize = 2000;
const MAX_CONNECTIONS: usize = 100_000;

/// What `sixin bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Requests per second and latency of GET /healthz and POST /v1/messages per concurrency.
    Send,
    /// Latency from a send's acknowledgement to its receipt on the event stream: a direct
    /// message, and a message to a group with every member connected.
    Delivery,
    /// How many idle event streams the server holds, and its memory per stream.
    Idle,
    /// Sends per second with --receivers members connected, against none connected.
    Fanout,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The delivery, idle and fanout scenarios register many members (two \
    argon2 hashes each on the server): run the server with cheap hashing for them, e.g. \
    SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 sixin serve"
)]
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
    /// What to measure: send (HTTP sends per concurrency level), delivery (send-to-receipt
    /// latency on the event stream), idle (idle event streams and server memory per stream),
    /// fanout (sends/s with --receivers members connected vs none).
    #[arg(long, value_enum, default_value_t = Scenario::Send)]
    scenario: Scenario,
    /// Seconds each phase runs (1..=600). Default 5 for send (each phase at each level) and
    /// fanout (each of its two phases); for delivery 120, a cap on each of its two parts; for
    /// idle 300, a cap on opening the connections.
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Comma-separated numbers of concurrent workers (each 1..=1024). fanout uses the largest.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// At most this many requests per phase and level, whichever ends first with the duration.
    #[arg(long, default_value_t = 1_000_000)]
    requests_per_level: u64,
    /// delivery: direct messages sent one after another (1..=1000000).
    #[arg(long, default_value_t = 1000)]
    messages: u64,
    /// delivery: members of the group, the sender included (2..=2000), each with one stream.
    #[arg(long, default_value_t = 500)]
    group_size: usize,
    /// delivery: group messages, each sent once the previous one reached every member (or 10 s
    /// passed) (1..=1000000).
    #[arg(long, default_value_t = 100)]
    group_messages: u64,
    /// idle: event streams to open, 8 per member (1..=100000). One process may open only as
    /// many as its open-files limit allows (RLIMIT_NOFILE).
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// idle: seconds to keep the streams open (reading, so pings are answered) before counting
    /// how many are still open and closing them (0..=600).
    #[arg(long, default_value_t = 5)]
    hold_secs: u64,
    /// fanout: members connected to the event stream while the second phase sends to them
    /// (1..=100000).
    #[arg(long, default_value_t = 1000)]
    receivers: usize,
    /// The server's process id: report its resident memory (VmRSS) before and after each level
    /// (send), or at the points each event-stream scenario describes.
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

/// Who one send worker sends as, and to whom: `to` in rotation.
struct Route {
    token: String,
    to: Vec<String>,
}

enum Phase {
    Healthz,
    /// Worker `w` follows `routes[w]`.
    Send(Arc<Vec<Route>>),
}

/// What every scenario shares: the server, an HTTP client, the app, the process to watch.
struct Bench {
    base: Url,
    client: Client,
    app_key: String,
    pid: Option<u32>,
    json: bool,
}

impl Bench {
    fn server_rss_kib(&self) -> Option<u64> {
        self.pid.and_then(rss_kib)
    }

    async fn provision(&self, n: usize) -> anyhow::Result<Vec<Member>> {
        tracing::info!("registering and logging in {n} members");
        provision(&self.client, &self.base, &self.app_key, n).await
    }
}

pub async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<()> {
    let base = loopback_url(&args.url)?;
    let duration_secs = args.duration_secs.unwrap_or(match args.scenario {
        Scenario::Send | Scenario::Fanout => 5,
        Scenario::Delivery => 120,
        Scenario::Idle => 300,
    });
    ensure!(
        (1..=MAX_DURATION_SECS).contains(&duration_secs),
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
    ensure!(
        (1..=MAX_MESSAGES).contains(&args.messages),
        "--messages must be 1..={MAX_MESSAGES}"
    );
    ensure!(
        (2..=MAX_GROUP_SIZE).contains(&args.group_size),
        "--group-size must be 2..={MAX_GROUP_SIZE}"
    );
    ensure!(
        (1..=MAX_MESSAGES).contains(&args.group_messages),
        "--group-messages must be 1..={MAX_MESSAGES}"
    );
    ensure!(
        (1..=MAX_CONNECTIONS).contains(&args.connections),
        "--connections must be 1..={MAX_CONNECTIONS}"
    );
    ensure!(
        args.hold_secs <= MAX_DURATION_SECS,
        "--hold-secs must be 0..={MAX_DURATION_SECS}"
    );
    ensure!(
        (1..=MAX_CONNECTIONS).contains(&args.receivers),
        "--receivers must be 1..={MAX_CONNECTIONS}"
    );
    let max_c = args.concurrency.iter().copied().max().unwrap_or(1);

    let client = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(max_c * 2)
        .tcp_nodelay(true)
        .build()?;
    check_server(&client, &base).await?;
    let app_key = app_key(settings, &args).await?;
    let bench = Bench {
        base,
        client,
        app_key,
        pid: args.pid,
        json: args.json,
    };
    let duration = Duration::from_secs(duration_secs);
    match args.scenario {
        Scenario::Send => send_scenario(&bench, &args, duration_secs, max_c).await,
        Scenario::Delivery => {
            let plan = delivery::Plan {
                messages: args.messages,
                group_size: args.group_size,
                group_messages: args.group_messages,
                duration,
            };
            delivery::run(&bench, plan).await
        }
        Scenario::Idle => {
            let plan = idle::Plan {
                connections: args.connections,
                hold: Duration::from_secs(args.hold_secs),
                connect_within: duration,
            };
            idle::run(&bench, plan).await
        }
        Scenario::Fanout => {
            let plan = fanout::Plan {
                receivers: args.receivers,
                senders: max_c,
                duration,
                requests_per_phase: args.requests_per_level,
            };
            fanout::run(&bench, plan).await
        }
    }
}

/// The app key to register members in: `--app-key`, or a new app with `--create-app`.
async fn app_key(settings: &Settings, args: &BenchArgs) -> anyhow::Result<String> {
    Ok(match (&args.app_key, args.create_app) {
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
    })
}

/// `--scenario send`: healthz and sends at each concurrency level.
async fn send_scenario(
    bench: &Bench,
    args: &BenchArgs,
    duration_secs: u64,
    max_c: usize,
) -> anyhow::Result<()> {
    let (client, base) = (&bench.client, &bench.base);
    let n_members = 2 * max_c;
    let members = bench.provision(n_members).await?;
    let routes = members
        .chunks_exact(2)
        .map(|pair| Route {
            token: pair[0].token.clone(),
            to: vec![pair[1].uuid.clone()],
        })
        .collect();
    let send_phase = Phase::Send(Arc::new(routes));

    let duration = Duration::from_secs(duration_secs);
    let mut levels = Vec::with_capacity(args.concurrency.len());
    for &c in &args.concurrency {
        let rss_kib_before = bench.server_rss_kib();
        tracing::info!("concurrency {c}: GET /healthz for {duration_secs}s");
        let healthz = phase(
            client,
            base,
            &Phase::Healthz,
            c,
            duration,
            args.requests_per_level,
        )
        .await?;
        tracing::info!("concurrency {c}: POST /v1/messages for {duration_secs}s");
        let send = phase(
            client,
            base,
            &send_phase,
            c,
            duration,
            args.requests_per_level,
        )
        .await?;
        let rss_kib_after = bench.server_rss_kib();
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
        duration_secs,
        requests_per_level: args.requests_per_level,
        members: n_members,
        levels,
    };
    if bench.json {
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
/// With [`Phase::Send`], worker `w` follows `routes[w]`: there must be at least `c` routes.
async fn phase(
    client: &Client,
    base: &Url,
    kind: &Phase,
    c: usize,
    duration: Duration,
    limit: u64,
) -> anyhow::Result<PhaseStats> {
    if let Phase::Send(routes) = kind {
        ensure!(
            routes.len() >= c && routes.iter().all(|r| !r.to.is_empty()),
            "{c} send workers need {c} routes, each with a recipient"
        );
    }
    let healthz = endpoint(base, "/healthz")?;
    let messages = endpoint(base, "/v1/messages")?;
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for w in 0..c {
        let (client, issued) = (client.clone(), issued.clone());
        let (healthz, messages) = (healthz.clone(), messages.clone());
        let routes = match kind {
            Phase::Healthz => None,
            Phase::Send(routes) => Some(routes.clone()),
        };
        workers.spawn(async move {
            let mut latencies_us: Vec<u64> = Vec::new();
            let mut errors = 0u64;
            let mut n = 0u64;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < limit {
                n += 1;
                let t = Instant::now();
                let ok = match &routes {
                    None => client
                        .get(healthz.clone())
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == StatusCode::OK),
                    Some(routes) => {
                        // `phase` checked that every worker has a route with a recipient.
                        let Some(me) = routes.get(w) else { break };
                        let turn = usize::try_from(n - 1).unwrap_or(0) % me.to.len().max(1);
                        let Some(partner) = me.to.get(turn) else {
                            break;
                        };
                        let body = json!({
                            "to": partner,
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
