//! [`Config`]: everything an operator can set, layered as
//! built-in defaults < config file < `SIXIN_*` environment < command-line flags,
//! then validated once into [`Settings`], the typed values each crate receives.
//!
//! The file is `--config PATH`, else `./sixin.toml` if it exists. Environment variables are
//! `SIXIN_SECTION__KEY` (for example `SIXIN_LIMITS__ARGON2_ITERATIONS=1`), plus three shorthands:
//! `SIXIN_DATABASE_URL` (= `database.url`), `SIXIN_NATS_URL` (= `nats.url`) and `SIXIN_LISTEN`
//! (= `http.listen`). Other `SIXIN_*` variables (such as the test suite's `SIXIN_TEST_PG_URL`)
//! are not configuration and are ignored.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Uncased;
use figment::Figment;
use serde::{Deserialize, Serialize};
use sixin_core::CoreConfig;
use sixin_http::HttpConfig;
use sixin_nats::NatsOptions;
use sixin_store::StoreConfig;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "sixin.toml";

/// The configuration as written by the operator, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub http: HttpSection,
    pub database: DatabaseSection,
    pub nats: NatsSection,
    pub events: EventsSection,
    pub limits: LimitsSection,
    pub log: LogSection,
    pub dialects: DialectsSection,
}

/// `[http]`: the listener and request limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Address and port to listen on.
    pub listen: String,
    /// The largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// How long one request may take before it is answered with a timeout.
    pub request_timeout_secs: u64,
    /// On SIGINT/SIGTERM, how long in-flight requests get to finish.
    pub shutdown_grace_secs: u64,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
        }
    }
}

/// `[database]`: where state lives. The URL may contain a password, so `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// `sqlite://PATH` (created and migrated on start) or `postgres://USER:PASSWORD@HOST/DB`.
    pub url: String,
    /// Connection pool size (SQLite: readers; the single writer is one extra connection).
    pub max_connections: u32,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection {
            url: "sqlite://sixin.db".into(),
            max_connections: 8,
        }
    }
}

impl fmt::Debug for DatabaseSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSection")
            .field("url", &sixin_store::redact(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[nats]`: sharing events with other nodes. The URL may contain a password or token, so
/// `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsSection {
    /// `nats://HOST:PORT` or `tls://HOST:PORT` (several servers of one cluster: comma-separated).
    /// Unset or blank: events stay on this node.
    pub url: Option<String>,
    /// The first tokens of every subject; nodes share events only within one prefix.
    pub subject_prefix: String,
}

impl Default for NatsSection {
    fn default() -> Self {
        NatsSection {
            url: None,
            subject_prefix: NatsOptions::default().subject_prefix,
        }
    }
}

impl fmt::Debug for NatsSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSection")
            .field("url", &self.url.as_deref().map(sixin_nats::redact))
            .field("subject_prefix", &self.subject_prefix)
            .finish()
    }
}

/// Where `sixin serve` sends and hears events of other nodes: NATS, when `nats.url` is set.
#[derive(Clone)]
pub struct NatsSettings {
    pub url: String,
    pub options: NatsOptions,
}

impl fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSettings")
            .field("url", &sixin_nats::redact(&self.url))
            .field("options", &self.options)
            .finish()
    }
}

/// `[events]`: the live event stream (`GET /v1/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSection {
    /// How often a WebSocket ping (SSE: a comment) is sent and the session re-checked.
    pub heartbeat_secs: u64,
    /// A WebSocket client that answers nothing for this long is closed (`idle`).
    pub idle_timeout_secs: u64,
    /// A frame the client does not take within this long drops the connection.
    pub write_timeout_secs: u64,
    /// The most streams one member may have open at once on one node.
    pub max_streams_per_member: usize,
    /// Events queued per stream for a slow client before it is closed (`lagged`).
    pub buffer: usize,
    /// The most events replayed to a reconnecting client; further behind, it gets `resync`.
    pub max_replay: u64,
}

impl Default for EventsSection {
    fn default() -> Self {
        let core = CoreConfig::default();
        let http = sixin_http::EventStreamConfig::default();
        EventsSection {
            heartbeat_secs: http.heartbeat.as_secs(),
            idle_timeout_secs: http.idle_timeout.as_secs(),
            write_timeout_secs: http.write_timeout.as_secs(),
            max_streams_per_member: core.max_streams_per_member,
            buffer: core.stream_buffer,
            max_replay: core.max_replay,
        }
    }
}

/// `[limits]`: the rules the core enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// How long a session token stays valid after login.
    pub session_ttl_secs: u64,
    /// How long after sending a sender may recall a message.
    pub recall_window_secs: u64,
    /// The most members a group may have, owner included.
    pub max_group_members: usize,
    /// Argon2 memory cost per password hash, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2 passes per password hash.
    pub argon2_iterations: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        let core = CoreConfig::default();
        LimitsSection {
            session_ttl_secs: core.session_ttl.as_secs(),
            recall_window_secs: core.recall_window.as_secs(),
            max_group_members: core.max_group_members,
            argon2_memory_kib: core.argon2_memory_kib,
            argon2_iterations: core.argon2_iterations,
        }
    }
}

/// `[dialects]`: settings of the YesApi and PhalApi dialects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialectsSection {
    /// IANA time zone that YesApi times (`add_time`, `YYYY-MM-DD HH:MM:SS`) are shown in.
    pub time_zone: String,
    /// Whether PhalApi requests with `__debug__=1` get the `debug` block.
    pub phalapi_debug: bool,
}

impl Default for DialectsSection {
    fn default() -> Self {
        DialectsSection {
            time_zone: "Asia/Shanghai".into(),
            phalapi_debug: false,
        }
    }
}

/// `[log]`: what is logged, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// A tracing `EnvFilter` directive; `RUST_LOG` and `--log` override it.
    pub filter: String,
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            filter: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// How log lines are written (always to stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Values given on the command line; they override every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub nats_url: Option<String>,
    pub listen: Option<String>,
    pub log_filter: Option<String>,
    pub log_format: Option<LogFormat>,
}

/// The configuration, validated into the typed values each crate takes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub shutdown_grace: Duration,
    pub http: HttpConfig,
    pub store: StoreConfig,
    pub core: CoreConfig,
    /// `None`: events stay on this node (in-process bus).
    pub nats: Option<NatsSettings>,
    pub log: LogSection,
}

/// Why the configuration could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// Figment's message names the key and the source (file or environment variable).
    #[error("invalid configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("invalid configuration: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Config {
    /// Loads the layered configuration (defaults < file < `SIXIN_*` env < `flags`).
    pub fn load(flags: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match &flags.config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.clone())),
            Some(path) => fig = fig.merge(Toml::file(path)),
            None if Path::new(DEFAULT_FILE).exists() => fig = fig.merge(Toml::file(DEFAULT_FILE)),
            None => {}
        }
        fig = fig.merge(env_provider());
        if let Some(url) = &flags.database_url {
            fig = fig.merge(Serialized::default("database.url", url));
        }
        if let Some(url) = &flags.nats_url {
            fig = fig.merge(Serialized::default("nats.url", url));
        }
        if let Some(listen) = &flags.listen {
            fig = fig.merge(Serialized::default("http.listen", listen));
        }
        if let Some(filter) = &flags.log_filter {
            fig = fig.merge(Serialized::default("log.filter", filter));
        }
        if let Some(format) = flags.log_format {
            fig = fig.merge(Serialized::default("log.format", format));
        }
        fig.extract().map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Checks every value and converts it into the typed settings.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let invalid = |key: &'static str, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        let h = &self.http;
        let listen: SocketAddr = h.listen.parse().map_err(|_| ConfigError::Invalid {
            key: "http.listen",
            reason: format!(
                "must be IP:PORT such as 127.0.0.1:8080 or [::1]:8080, got {:?}",
                h.listen
            ),
        })?;
        if h.body_limit_bytes == 0 {
            return Err(invalid("http.body_limit_bytes", "must be at least 1"));
        }
        if h.request_timeout_secs == 0 {
            return Err(invalid("http.request_timeout_secs", "must be at least 1"));
        }
        let d = &self.database;
        if d.url.trim().is_empty() {
            return Err(invalid(
                "database.url",
                "must be sqlite://PATH or postgres://USER@HOST/DB",
            ));
        }
        if d.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        let nats = self.nats_settings()?;
        let e = &self.events;
        if e.heartbeat_secs == 0 {
            return Err(invalid("events.heartbeat_secs", "must be at least 1"));
        }
        if e.idle_timeout_secs <= e.heartbeat_secs {
            return Err(invalid(
                "events.idle_timeout_secs",
                "must be longer than events.heartbeat_secs (a client answers each ping)",
            ));
        }
        if e.write_timeout_secs == 0 {
            return Err(invalid("events.write_timeout_secs", "must be at least 1"));
        }
        if e.max_streams_per_member == 0 {
            return Err(invalid(
                "events.max_streams_per_member",
                "must be at least 1",
            ));
        }
        if !(1..=1_000_000).contains(&e.buffer) {
            return Err(invalid("events.buffer", "must be 1..1000000"));
        }
        let l = &self.limits;
        if l.session_ttl_secs == 0 {
            return Err(invalid("limits.session_ttl_secs", "must be at least 1"));
        }
        if l.max_group_members < 2 {
            return Err(invalid("limits.max_group_members", "must be at least 2"));
        }
        // Argon2's own lower bound is 8 KiB per lane; sixin hashes with one lane.
        if l.argon2_memory_kib < 8 {
            return Err(invalid("limits.argon2_memory_kib", "must be at least 8"));
        }
        if l.argon2_iterations == 0 {
            return Err(invalid("limits.argon2_iterations", "must be at least 1"));
        }
        let time_zone = jiff::tz::TimeZone::get(&self.dialects.time_zone).map_err(|_| {
            ConfigError::Invalid {
                key: "dialects.time_zone",
                reason: format!(
                    "must be an IANA time zone such as Asia/Shanghai or UTC, got {:?}",
                    self.dialects.time_zone
                ),
            }
        })?;
        if self
            .log
            .filter
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            return Err(invalid(
                "log.filter",
                "is not a valid filter (examples: info, sixin=debug,tower_http=info)",
            ));
        }
        Ok(Settings {
            listen,
            shutdown_grace: Duration::from_secs(h.shutdown_grace_secs),
            http: HttpConfig {
                body_limit_bytes: h.body_limit_bytes,
                request_timeout: Duration::from_secs(h.request_timeout_secs),
                time_zone,
                phalapi_debug: self.dialects.phalapi_debug,
                events: sixin_http::EventStreamConfig {
                    heartbeat: Duration::from_secs(e.heartbeat_secs),
                    idle_timeout: Duration::from_secs(e.idle_timeout_secs),
                    write_timeout: Duration::from_secs(e.write_timeout_secs),
                },
            },
            store: StoreConfig {
                url: d.url.clone(),
                max_connections: d.max_connections,
                pg_schema: None,
            },
            core: CoreConfig {
                session_ttl: Duration::from_secs(l.session_ttl_secs),
                recall_window: Duration::from_secs(l.recall_window_secs),
                max_group_members: l.max_group_members,
                argon2_memory_kib: l.argon2_memory_kib,
                argon2_iterations: l.argon2_iterations,
                max_streams_per_member: e.max_streams_per_member,
                stream_buffer: e.buffer,
                max_replay: e.max_replay,
                ..CoreConfig::default()
            },
            nats,
            log: self.log.clone(),
        })
    }

    /// `[nats]` checked: the prefix always, the URL when set (blank counts as unset).
    fn nats_settings(&self) -> Result<Option<NatsSettings>, ConfigError> {
        let n = &self.nats;
        sixin_nats::check_subject_prefix(&n.subject_prefix).map_err(|e| ConfigError::Invalid {
            key: "nats.subject_prefix",
            reason: format!("is not valid: {e}"),
        })?;
        let Some(url) = n.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        sixin_nats::check_url(url).map_err(|e| ConfigError::Invalid {
            key: "nats.url",
            reason: format!("must be nats://HOST:PORT or tls://HOST:PORT: {e}"),
        })?;
        Ok(Some(NatsSettings {
            url: url.to_owned(),
            options: NatsOptions {
                subject_prefix: n.subject_prefix.clone(),
                ..NatsOptions::default()
            },
        }))
    }
}

/// `SIXIN_SECTION__KEY` variables for the known sections, and the three shorthands.
fn env_provider() -> Env {
    const SECTIONS: [&str; 7] = [
        "http.",
        "database.",
        "nats.",
        "limits.",
        "log.",
        "dialects.",
        "events.",
    ];
    Env::prefixed("SIXIN_").split("__").filter_map(|key| {
        let key = key.as_str().to_ascii_lowercase();
        let mapped = match key.as_str() {
            "database_url" => "database.url".to_owned(),
            "nats_url" => "nats.url".to_owned(),
            "listen" => "http.listen".to_owned(),
            k if SECTIONS.iter().any(|s| k.starts_with(s)) => key,
            _ => return None,
        };
        Some(Uncased::from_owned(mapped))
    })
}

/// `sixin config example`: every key, commented, with its default value.
pub const EXAMPLE: &str = r#"# sixin configuration. Every value below is the built-in default.
#
# Precedence (lowest to highest): built-in defaults < this file (--config PATH, else ./sixin.toml)
# < environment variables SIXIN_SECTION__KEY (e.g. SIXIN_LIMITS__ARGON2_ITERATIONS=1; shorthands:
# SIXIN_DATABASE_URL, SIXIN_NATS_URL, SIXIN_LISTEN) < command-line flags (--database-url,
# --nats-url, --listen, --log, --log-format). Unknown keys are an error.

[http]
# Address and port to listen on (IP:PORT). Env: SIXIN_HTTP__LISTEN or SIXIN_LISTEN; flag: --listen.
listen = "127.0.0.1:8080"
# The largest request body accepted, in bytes.
body_limit_bytes = 1048576
# How long one request may take, in seconds, before it is answered with a timeout.
request_timeout_secs = 30
# On SIGINT/SIGTERM, how many seconds in-flight requests get to finish before the server exits.
shutdown_grace_secs = 10

[database]
# sqlite://PATH (created and migrated on start) or postgres://USER:PASSWORD@HOST:PORT/DB.
# Env: SIXIN_DATABASE_URL; flag: --database-url. The password is never logged.
url = "sqlite://sixin.db"
# Connection pool size (SQLite: read connections; the single writer is one more).
max_connections = 8

[nats]
# Several sixin nodes on one PostgreSQL database hear each other's events through NATS core
# pub/sub: nats://HOST:PORT, tls://HOST:PORT, or several servers of one cluster comma-separated.
# Unset (the default): events stay on this node. `sixin serve` fails to start if NATS cannot be
# reached, and afterwards reconnects on its own. Env: SIXIN_NATS_URL or SIXIN_NATS__URL; flag:
# --nats-url. A password or token in the URL is never logged.
# url = "nats://127.0.0.1:4222"
# Subjects are PREFIX.events.APP_ID and PREFIX.gap; nodes share events only within one prefix.
subject_prefix = "sixin"

[events]
# The live event stream, GET /v1/events (WebSocket or Server-Sent Events).
# Every this many seconds: a WebSocket ping (SSE: a comment) and a re-check of the session.
heartbeat_secs = 25
# A WebSocket client that answers nothing (not even a pong) for this long is closed ("idle").
idle_timeout_secs = 60
# A frame the client does not take within this many seconds drops the connection.
write_timeout_secs = 10
# The most streams one member may have open at once on one node (devices, tabs).
max_streams_per_member = 8
# Events queued for a client that reads slowly; one more and it is closed ("lagged") and
# resumes by position.
buffer = 1024
# The most events replayed to a reconnecting client; further behind, it is told to "resync".
max_replay = 10000

[limits]
# How long a session token stays valid after login, in seconds (30 days).
session_ttl_secs = 2592000
# How long after sending a sender may recall a message, in seconds.
recall_window_secs = 120
# The most members a group may have, owner included.
max_group_members = 2000
# Argon2id memory cost per password hash, in KiB (19 MiB, the OWASP minimum).
argon2_memory_kib = 19456
# Argon2id passes per password hash.
argon2_iterations = 2

[log]
# A tracing EnvFilter directive, e.g. "info" or "sixin=debug,tower_http=info".
# RUST_LOG overrides it, and --log overrides both.
filter = "info"
# "text" for people, "json" for log collectors. Logs go to stderr. Flag: --log-format.
format = "text"

[dialects]
# IANA time zone that YesApi times (add_time, YYYY-MM-DD HH:MM:SS) are shown in.
time_zone = "Asia/Shanghai"
# Whether PhalApi requests with __debug__=1 get the debug block (stack timings, version).
phalapi_debug = false
"#;

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error by value
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn example_parses_back_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
        // Every key appears in the example, not just the ones that happen to be listed.
        let example: toml::Value = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(example, toml::Value::try_from(Config::default()).unwrap());
    }

    #[test]
    fn defaults_validate() {
        let s = Config::default().validate().unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.core, CoreConfig::default());
        assert_eq!(s.store.url, "sqlite://sixin.db");
        assert_eq!(s.http, HttpConfig::default());
    }

    #[test]
    fn layers_apply_in_order() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sixin.toml",
                "[database]\nurl = \"sqlite://file.db\"\nmax_connections = 3\n\
                 [limits]\nargon2_iterations = 5\nrecall_window_secs = 7\n",
            )?;
            jail.set_env("SIXIN_DATABASE_URL", "sqlite://env.db");
            jail.set_env("SIXIN_LIMITS__ARGON2_ITERATIONS", "1");
            jail.set_env("SIXIN_LISTEN", "127.0.0.1:9000");
            jail.set_env("SIXIN_TEST_PG_URL", "postgres://ignored");
            let cfg = Config::load(&Overrides::default()).unwrap();
            assert_eq!(cfg.database.url, "sqlite://env.db");
            assert_eq!(cfg.database.max_connections, 3);
            assert_eq!(cfg.limits.argon2_iterations, 1);
            assert_eq!(cfg.limits.recall_window_secs, 7);
            assert_eq!(cfg.http.listen, "127.0.0.1:9000");

            let flags = Overrides {
                database_url: Some("sqlite://flag.db".into()),
                listen: Some("127.0.0.1:9001".into()),
                log_format: Some(LogFormat::Json),
                ..Overrides::default()
            };
            let cfg = Config::load(&flags).unwrap();
            assert_eq!(cfg.database.url, "sqlite://flag.db");
            assert_eq!(cfg.http.listen, "127.0.0.1:9001");
            assert_eq!(cfg.log.format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file("sixin.toml", "[database]\nurll = \"x\"\n")?;
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            assert!(err.contains("urll"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("SIXIN_LIMITS__ARGON2_ITERATIONS", "lots");
            let err = Config::load(&Overrides::default()).unwrap_err().to_string();
            // Figment names the key in the variable's upper case: LIMITS.ARGON2_ITERATIONS.
            assert!(err.to_lowercase().contains("argon2_iterations"), "{err}");
            Ok(())
        });
        let mut cfg = Config::default();
        cfg.http.listen = "localhost".into();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("http.listen"), "{err}");
        let mut cfg = Config::default();
        cfg.dialects.time_zone = "Mars/Olympus".into();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("dialects.time_zone"), "{err}");
    }

    #[test]
    fn event_stream_settings_reach_the_core_and_http() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sixin.toml",
                "[events]\nheartbeat_secs = 5\nidle_timeout_secs = 12\nbuffer = 64\n",
            )?;
            jail.set_env("SIXIN_EVENTS__MAX_STREAMS_PER_MEMBER", "3");
            let s = Config::load(&Overrides::default())
                .unwrap()
                .validate()
                .unwrap();
            assert_eq!(s.http.events.heartbeat, Duration::from_secs(5));
            assert_eq!(s.http.events.idle_timeout, Duration::from_secs(12));
            assert_eq!(s.core.stream_buffer, 64);
            assert_eq!(s.core.max_streams_per_member, 3);
            assert_eq!(s.core.max_replay, CoreConfig::default().max_replay);
            Ok(())
        });
        let mut cfg = Config::default();
        cfg.events.idle_timeout_secs = cfg.events.heartbeat_secs;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("events.idle_timeout_secs"), "{err}");
        let mut cfg = Config::default();
        cfg.events.buffer = 0;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("events.buffer"), "{err}");
    }

    #[test]
    fn nats_url_comes_from_file_env_shorthand_or_flag() {
        assert!(Config::default().validate().unwrap().nats.is_none());
        Jail::expect_with(|jail| {
            jail.create_file(
                "sixin.toml",
                "[nats]\nurl = \"nats://file:4222\"\nsubject_prefix = \"prod.sixin\"\n",
            )?;
            let cfg = Config::load(&Overrides::default()).unwrap();
            assert_eq!(cfg.nats.url.as_deref(), Some("nats://file:4222"));
            jail.set_env("SIXIN_NATS__URL", "nats://section:4222");
            let cfg = Config::load(&Overrides::default()).unwrap();
            assert_eq!(cfg.nats.url.as_deref(), Some("nats://section:4222"));
            jail.set_env("SIXIN_NATS_URL", "nats://shorthand:4222");
            jail.set_env("SIXIN_TEST_NATS_URL", "nats://ignored:4222");
            let cfg = Config::load(&Overrides::default()).unwrap();
            assert_eq!(cfg.nats.url.as_deref(), Some("nats://shorthand:4222"));

            let flags = Overrides {
                nats_url: Some("tls://flag:4222".into()),
                ..Overrides::default()
            };
            let nats = Config::load(&flags)
                .unwrap()
                .validate()
                .unwrap()
                .nats
                .unwrap();
            assert_eq!(nats.url, "tls://flag:4222");
            assert_eq!(nats.options.subject_prefix, "prod.sixin");
            Ok(())
        });
    }

    #[test]
    fn nats_settings_are_checked() {
        let mut cfg = Config::default();
        cfg.nats.url = Some("  ".into());
        assert!(cfg.validate().unwrap().nats.is_none(), "blank means unset");
        for bad in [
            "http://127.0.0.1:4222",
            "127.0.0.1:4222",
            "nats://u:hunter2@h,x",
        ] {
            cfg.nats.url = Some(bad.into());
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains("nats.url"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        cfg.nats.url = None;
        cfg.nats.subject_prefix = "sixin.>".into();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("nats.subject_prefix"), "{err}");
    }

    #[test]
    fn debug_redacts_the_nats_password() {
        let mut cfg = Config::default();
        cfg.nats.url = Some("nats://sixin:hunter2@nats:4222".into());
        let shown = format!("{cfg:?} {:?}", cfg.validate().unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("nats://sixin:***@nats:4222"), "{shown}");
    }

    #[test]
    fn debug_redacts_the_database_password() {
        let mut cfg = Config::default();
        cfg.database.url = "postgres://sixin:hunter2@db/sixin".into();
        let shown = format!("{cfg:?} {:?}", cfg.validate().unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
