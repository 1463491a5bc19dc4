//! `sixin-bench`: a load generator for a sixin server on this machine, feeding BENCHMARKS.md.
//! It is its own binary so that the server does not carry HTTP and WebSocket client crates.
//!
//! Loopback only. Every loop is bounded twice, by time and by a count; every request and every
//! wait on the network has a timeout. It needs an app to register members in: pass
//! `--app-key KEY` (from `sixin app create bench --json` run against the server's database).
//!
//! Crate map:
//! - `main`: the command line ([`Args`]), its bounds, and dispatch to a scenario.
//! - [`client`]: the HTTP side shared by every scenario: the loopback check, the server's
//!   health, provisioning members, reading the server's memory.
//! - [`ws`]: WebSocket clients of `GET /v1/events`: open one or many, hold them, stop them.
//! - [`stats`]: the one percentile function, latency summaries and phase figures.
//! - [`report`]: the one printer: a JSON object, or the same figures as lines and tables.
//! - One module per `--scenario`: [`send`] (default; also the send phase [`fanout`] and
//!   [`words`] reuse), [`delivery`], [`idle`], [`fanout`], [`hostile`], [`words`],
//!   [`webhooks`], and [`reads`] for `unread` and `history`.
//!
//! The event-stream scenarios register hundreds or thousands of members, each costing two
//! argon2 hashes on the server; run the server with cheap hashing for them:
//! `SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 sixin serve`.

mod client;
mod delivery;
mod fanout;
mod hostile;
mod idle;
mod reads;
mod report;
mod send;
mod stats;
mod webhooks;
mod words;
mod ws;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::ensure;
use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crate::client::Bench;

const MAX_CONCURRENCY: usize = 1024;
const MAX_DURATION_SECS: u64 = 600;
const MAX_REQUESTS_PER_LEVEL: u64 = 10_000_000;
const MAX_MESSAGES: u64 = 1_000_000;
/// The server's default `limits.max_group_members`.
const MAX_GROUP_SIZE: usize = 2000;
const MAX_CONNECTIONS: usize = 100_000;

/// What `sixin-bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    /// Requests per second and latency of GET /healthz and POST /v1/messages per concurrency.
    Send,
    /// Latency from a send's acknowledgement to its receipt on the event stream: a direct
    /// message, and a message to a group with every member connected.
    Delivery,
    /// How many idle event streams the server holds, and its memory per stream.
    Idle,
    /// Sends per second with --receivers members connected, against none connected.
    Fanout,
    /// Sends per second with a --words word list loaded, against none (needs --app-secret).
    Words,
    /// Registration, message and password-guess floods from one IP against the default
    /// limits, with /healthz and bystanders' sends measured before and during them.
    Hostile,
    /// Exactly --messages sends by the largest --concurrency workers, to grow a database.
    Fill,
    /// Sends per second with one webhook endpoint (answering 200) against none, and the
    /// delivery lag from commit to the receiver (needs --app-secret).
    Webhooks,
    /// GET /v1/unread and the conversation list for a member in --conversations
    /// conversations against one in --few-conversations.
    Unread,
    /// The newest history page of a conversation of --history-messages messages against one of
    /// --small-history (seeded with --seed-sqlite or --seed-postgres).
    History,
}

/// The most conversations the unread scenario makes for one member.
const MAX_CONVERSATIONS: usize = 100_000;
/// The most messages the history scenario seeds into one conversation.
const MAX_HISTORY: u64 = 100_000_000;

#[derive(Debug, clap::Parser)]
#[command(
    name = "sixin-bench",
    version,
    about = "A bounded, loopback-only load generator for a sixin server",
    after_help = "The delivery, idle and fanout scenarios register many members (two \
    argon2 hashes each on the server): run the server with cheap hashing for them, e.g. \
    SIXIN_LIMITS__ARGON2_MEMORY_KIB=1024 SIXIN_LIMITS__ARGON2_ITERATIONS=1 sixin serve. \
    Every request comes from one IP: except for the hostile scenario, raise the bench app's \
    per-IP limits first, e.g. sixin app set-limits --app KEY --json \
    '{\"registrations_per_ip\": {\"per\": 1000000, \"burst\": 1000000}, \
    \"logins_per_ip\": {\"per\": 1000000, \"burst\": 1000000}}'"
)]
struct Args {
    /// Base URL of the server; must be a loopback address (127.0.0.0/8, ::1, localhost).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// App to register the bench members in (`sixin app create bench --json` prints one).
    #[arg(long, value_name = "KEY")]
    app_key: String,
    /// What to measure: send (HTTP sends per concurrency level), delivery (send-to-receipt
    /// latency on the event stream), idle (idle event streams and server memory per stream),
    /// fanout (sends/s with --receivers members connected vs none).
    #[arg(long, value_enum, default_value_t = Scenario::Send)]
    scenario: Scenario,
    /// Seconds each phase runs (1..=600). Default 5 for send (each phase at each level) and
    /// fanout (each of its two phases); for delivery 120, a cap on each of its two parts; for
    /// idle 300, a cap on opening the connections; for hostile 10, the baseline before the
    /// floods.
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Comma-separated numbers of concurrent workers (each 1..=1024). fanout uses the largest.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// At most this many requests per phase and level, whichever ends first with the duration.
    #[arg(long, default_value_t = 1_000_000)]
    requests_per_level: u64,
    /// delivery: direct messages sent one after another (1..=1000000); webhooks: messages
    /// sent one at a time, --lag-interval-ms apart, for the delivery lag; fill: sends in all.
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
    /// hostile: registrations from this one IP (1..=1000000).
    #[arg(long, default_value_t = 10_000)]
    registrations: u64,
    /// hostile: texts from one member to another (1..=1000000).
    #[arg(long, default_value_t = 100_000)]
    flood_messages: u64,
    /// hostile: wrong passwords on one account (1..=1000000).
    #[arg(long, default_value_t = 1000)]
    guesses: u64,
    /// hostile: workers per flood (1..=1024).
    #[arg(long, default_value_t = 16)]
    flood_concurrency: usize,
    /// hostile: the longest each flood may last, in seconds (1..=600).
    #[arg(long, default_value_t = 300)]
    flood_secs: u64,
    /// hostile: members who send to each other while the floods run (2..=16).
    #[arg(long, default_value_t = 4)]
    bystanders: usize,
    /// hostile: texts a second each bystander sends (1..=1000).
    #[arg(long, default_value_t = 8)]
    bystander_rate: u32,
    /// hostile: GET /healthz requests a second (1..=1000).
    #[arg(long, default_value_t = 50)]
    probe_rate: u32,
    /// The server's process id: report its resident memory (VmRSS) before and after each level
    /// (send), or at the points each event-stream scenario describes.
    #[arg(long)]
    pid: Option<u32>,
    /// words: how many words the list holds (1..=100000).
    #[arg(long, default_value_t = 10_000)]
    words: usize,
    /// words, webhooks: phase pairs with and without the list (the endpoint), run
    /// A B B A A B … (1..=50).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// webhooks: milliseconds between the messages whose delivery lag is measured (0..=10000).
    #[arg(long, default_value_t = 20)]
    lag_interval_ms: u64,
    /// words, webhooks: the app's secret, for the server API (the word list, the endpoint).
    #[arg(long, value_name = "SECRET")]
    app_secret: Option<String>,
    /// unread: conversations of the large case (1..=100000).
    #[arg(long, default_value_t = 10_000)]
    conversations: usize,
    /// unread: conversations of the small case (1..=100000).
    #[arg(long, default_value_t = 10)]
    few_conversations: usize,
    /// history: messages in the large conversation (2..=100000000).
    #[arg(long, default_value_t = 10_000_000)]
    history_messages: u64,
    /// history: messages in the small conversation (2..=100000000).
    #[arg(long, default_value_t = 10_000)]
    small_history: u64,
    /// history: the server's SQLite database, seeded with `sqlite3` and
    /// scripts/seed-history.sqlite.sql.
    #[arg(long, value_name = "PATH", conflicts_with = "seed_postgres")]
    seed_sqlite: Option<String>,
    /// history: the server's PostgreSQL database, seeded with `psql` and
    /// scripts/seed-history.postgres.sql; unread: the same, where `ANALYZE` runs after the setup.
    #[arg(long, value_name = "URL")]
    seed_postgres: Option<String>,
    /// unread, history: requests of each kind measured on each case (1..=10000000).
    #[arg(long, default_value_t = 1000)]
    samples: u64,
    /// unread, history: a cap on the setup (requests and seeding), in seconds (1..=3600).
    #[arg(long, default_value_t = 1800)]
    setup_secs: u64,
    /// fill: pad each text with `x` to about this many bytes (0: the bare text, ~32 bytes).
    #[arg(long, default_value_t = 0)]
    text_bytes: usize,
    /// send: the API the sends speak (native `POST /v1/messages`, or YesApi's `Send`).
    #[arg(long, value_enum, default_value_t = send::Dialect::Native)]
    dialect: send::Dialect,
    /// send: every worker sends as one member to one other, so every send goes into one
    /// conversation (default: each worker its own pair).
    #[arg(long)]
    one_conversation: bool,
    /// send: no `GET /healthz` phase (its row reads 0 requests), so two runs that differ only
    /// in --requests-per-level differ only in sends (instructions per send under callgrind).
    #[arg(long)]
    skip_healthz: bool,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Log filter for stderr (a tracing EnvFilter directive); RUST_LOG if unset, else "info".
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
}

impl Args {
    /// `--duration-secs`, or the scenario's default.
    fn duration_secs(&self) -> u64 {
        self.duration_secs.unwrap_or(match self.scenario {
            Scenario::Send | Scenario::Fanout | Scenario::Words | Scenario::Webhooks => 5,
            Scenario::Fill => 600,
            Scenario::Hostile => 10,
            Scenario::Unread | Scenario::History => 120,
            Scenario::Delivery => 120,
            Scenario::Idle => 300,
        })
    }

    /// The largest `--concurrency`.
    fn max_concurrency(&self) -> usize {
        self.concurrency.iter().copied().max().unwrap_or(1)
    }

    /// Every bound the flags must respect, checked before any request.
    fn check(&self) -> anyhow::Result<()> {
        let in_range = |ok: bool, flag: &str, range: String| {
            ensure!(ok, "--{flag} must be {range}");
            Ok(())
        };
        let d = MAX_DURATION_SECS;
        in_range(
            (1..=d).contains(&self.duration_secs()),
            "duration-secs",
            format!("1..={d}"),
        )?;
        let r = MAX_REQUESTS_PER_LEVEL;
        let ok = (1..=r).contains(&self.requests_per_level);
        in_range(ok, "requests-per-level", format!("1..={r}"))?;
        let c = MAX_CONCURRENCY;
        let ok =
            !self.concurrency.is_empty() && self.concurrency.iter().all(|n| (1..=c).contains(n));
        in_range(
            ok,
            "concurrency",
            format!("a comma-separated list of numbers 1..={c}"),
        )?;
        let m = MAX_MESSAGES;
        in_range(
            (1..=m).contains(&self.messages),
            "messages",
            format!("1..={m}"),
        )?;
        let ok = (1..=m).contains(&self.group_messages);
        in_range(ok, "group-messages", format!("1..={m}"))?;
        let g = MAX_GROUP_SIZE;
        in_range(
            (2..=g).contains(&self.group_size),
            "group-size",
            format!("2..={g}"),
        )?;
        let n = MAX_CONNECTIONS;
        in_range(
            (1..=n).contains(&self.connections),
            "connections",
            format!("1..={n}"),
        )?;
        in_range(
            (1..=n).contains(&self.receivers),
            "receivers",
            format!("1..={n}"),
        )?;
        in_range(self.hold_secs <= d, "hold-secs", format!("0..={d}"))?;
        self.check_words()?;
        self.check_reads()?;
        self.check_hostile()
    }

    /// The bounds of the unread and history scenarios' flags.
    fn check_reads(&self) -> anyhow::Result<()> {
        let c = MAX_CONVERSATIONS;
        for (flag, n) in [
            ("conversations", self.conversations),
            ("few-conversations", self.few_conversations),
        ] {
            ensure!((1..=c).contains(&n), "--{flag} must be 1..={c}");
        }
        let h = MAX_HISTORY;
        for (flag, n) in [
            ("history-messages", self.history_messages),
            ("small-history", self.small_history),
        ] {
            ensure!((2..=h).contains(&n), "--{flag} must be 2..={h}");
        }
        ensure!(
            (1..=MAX_REQUESTS_PER_LEVEL).contains(&self.samples),
            "--samples must be 1..={MAX_REQUESTS_PER_LEVEL}"
        );
        ensure!(
            (1..=3600).contains(&self.setup_secs),
            "--setup-secs must be 1..=3600"
        );
        let seeded = self.seed_sqlite.is_some() || self.seed_postgres.is_some();
        ensure!(
            self.scenario != Scenario::History || seeded,
            "--scenario history needs --seed-sqlite PATH or --seed-postgres URL"
        );
        Ok(())
    }

    /// The bounds of the words scenario's flags.
    fn check_words(&self) -> anyhow::Result<()> {
        ensure!(
            (1..=100_000).contains(&self.words),
            "--words must be 1..=100000"
        );
        ensure!((1..=50).contains(&self.rounds), "--rounds must be 1..=50");
        let needs_secret = matches!(self.scenario, Scenario::Words | Scenario::Webhooks);
        let ok = !needs_secret || self.app_secret.is_some();
        ensure!(
            ok,
            "--app-secret must be given for --scenario words and webhooks"
        );
        ensure!(
            self.lag_interval_ms <= 10_000,
            "--lag-interval-ms must be 0..=10000"
        );
        Ok(())
    }

    /// The bounds of the hostile scenario's flags.
    fn check_hostile(&self) -> anyhow::Result<()> {
        let m = MAX_MESSAGES;
        for (flag, n) in [
            ("registrations", self.registrations),
            ("flood-messages", self.flood_messages),
            ("guesses", self.guesses),
        ] {
            ensure!((1..=m).contains(&n), "--{flag} must be 1..={m}");
        }
        let c = MAX_CONCURRENCY;
        let ok = (1..=c).contains(&self.flood_concurrency);
        ensure!(ok, "--flood-concurrency must be 1..={c}");
        let d = MAX_DURATION_SECS;
        ensure!(
            (1..=d).contains(&self.flood_secs),
            "--flood-secs must be 1..={d}"
        );
        ensure!(
            (2..=16).contains(&self.bystanders),
            "--bystanders must be 2..=16"
        );
        for (flag, rate) in [
            ("bystander-rate", self.bystander_rate),
            ("probe-rate", self.probe_rate),
        ] {
            ensure!((1..=1000).contains(&rate), "--{flag} must be 1..=1000");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing(args.log.as_deref());
    let result = args.check().and_then(|()| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(run(args))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to the server and runs the chosen scenario.
async fn run(args: Args) -> anyhow::Result<()> {
    let bench = Bench::connect(
        &args.url,
        &args.app_key,
        args.pid,
        args.json,
        args.max_concurrency(),
    )
    .await?;
    let duration = Duration::from_secs(args.duration_secs());
    match args.scenario {
        Scenario::Send => {
            let plan = send::Plan {
                levels: args.concurrency.clone(),
                duration,
                requests_per_level: args.requests_per_level,
                dialect: args.dialect,
                one_conversation: args.one_conversation,
                skip_healthz: args.skip_healthz,
            };
            send::run(&bench, plan).await
        }
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
                senders: args.max_concurrency(),
                duration,
                requests_per_phase: args.requests_per_level,
            };
            fanout::run(&bench, plan).await
        }
        Scenario::Words => {
            let plan = words::Plan {
                senders: args.max_concurrency(),
                words: args.words,
                rounds: args.rounds,
                app_key: args.app_key.clone(),
                app_secret: args.app_secret.clone().unwrap_or_default(),
                duration,
                requests_per_phase: args.requests_per_level,
            };
            words::run(&bench, plan).await
        }
        Scenario::Fill => {
            send::fill(
                &bench,
                args.max_concurrency(),
                args.messages,
                duration,
                args.text_bytes,
            )
            .await
        }
        Scenario::Webhooks => {
            let plan = webhooks::Plan {
                senders: args.max_concurrency(),
                rounds: args.rounds,
                app_key: args.app_key.clone(),
                app_secret: args.app_secret.clone().unwrap_or_default(),
                duration,
                requests_per_phase: args.requests_per_level,
                lag_messages: args.messages,
                lag_interval: Duration::from_millis(args.lag_interval_ms),
            };
            webhooks::run(&bench, plan).await
        }
        Scenario::Hostile => {
            let plan = hostile::Plan {
                registrations: args.registrations,
                messages: args.flood_messages,
                guesses: args.guesses,
                bystanders: args.bystanders,
                bystander_rate: args.bystander_rate,
                probe_rate: args.probe_rate,
                flood_concurrency: args.flood_concurrency,
                baseline: duration,
                flood_cap: Duration::from_secs(args.flood_secs),
            };
            hostile::run(&bench, plan).await
        }
        Scenario::Unread | Scenario::History => run_reads(&bench, &args, duration).await,
    }
}

/// The unread or history scenario.
async fn run_reads(bench: &Bench, args: &Args, duration: Duration) -> anyhow::Result<()> {
    let seed = match (&args.seed_sqlite, &args.seed_postgres) {
        (Some(path), _) => Some(reads::Seed::Sqlite(path.clone())),
        (None, Some(url)) => Some(reads::Seed::Postgres(url.clone())),
        (None, None) => None,
    };
    let plan = reads::Plan {
        few: args.few_conversations,
        many: args.conversations,
        small_history: args.small_history,
        large_history: args.history_messages,
        seed,
        samples: args.samples,
        setup: Duration::from_secs(args.setup_secs),
        duration,
    };
    if args.scenario == Scenario::Unread {
        reads::run_unread(bench, plan).await
    } else {
        reads::run_history(bench, plan).await
    }
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable.
fn init_tracing(flag: Option<&str>) {
    let directive = match (flag, std::env::var("RUST_LOG")) {
        (Some(flag), _) => flag.to_owned(),
        (None, Ok(env)) if !env.trim().is_empty() => env,
        _ => "info".to_owned(),
    };
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|e| {
        eprintln!("warning: ignoring invalid log filter {directive:?} ({e}); using \"info\"");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_flags_are_refused() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["sixin-bench", "--app-key", "k"];
            argv.extend_from_slice(extra);
            Args::try_parse_from(argv).expect("parses").check()
        };
        assert!(parse(&[]).is_ok());
        assert!(parse(&["--concurrency", "1,16,64", "--duration-secs", "5"]).is_ok());
        assert!(parse(&["--concurrency", "0"]).is_err());
        assert!(parse(&["--concurrency", "2000"]).is_err());
        assert!(parse(&["--duration-secs", "0"]).is_err());
        assert!(parse(&["--group-size", "1"]).is_err());
        assert!(parse(&["--hold-secs", "601"]).is_err());
        assert!(parse(&["--scenario", "words"]).is_err());
        assert!(parse(&["--scenario", "words", "--app-secret", "s"]).is_ok());
        assert!(parse(&["--words", "0"]).is_err());
        assert!(parse(&["--scenario", "hostile"]).is_ok());
        assert!(parse(&["--guesses", "0"]).is_err());
        assert!(parse(&["--bystanders", "1"]).is_err());
        assert!(parse(&["--flood-secs", "601"]).is_err());
        assert!(parse(&["--scenario", "unread"]).is_ok());
        assert!(parse(&["--conversations", "0"]).is_err());
        assert!(parse(&["--scenario", "history"]).is_err());
        assert!(parse(&["--scenario", "history", "--seed-sqlite", "s.db"]).is_ok());
        assert!(parse(&["--history-messages", "1"]).is_err());
    }
}
