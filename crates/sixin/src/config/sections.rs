//! The `[section]`s of the configuration file, each with its built-in defaults. Defaults that
//! are also a crate's defaults are taken from that crate's config type, so they are stated once.
//! The database and NATS URLs may hold passwords: their `Debug` redacts them.

use std::fmt;

use serde::{Deserialize, Serialize};
use sixin_core::limits::{Limits, Quota};
use sixin_core::CoreConfig;
use sixin_nats::NatsOptions;

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
    /// The most client connections open at once (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// How long a connection may take to send a complete request head.
    pub header_read_timeout_secs: u64,
    /// How long a keep-alive connection may wait for its next request.
    pub keep_alive_idle_secs: u64,
    /// The longest request target (path and query) accepted, in bytes.
    pub max_uri_bytes: usize,
    /// Origins whose browser pages may call `/v1` (CORS); empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// Peers (CIDRs or addresses) whose `X-Forwarded-For` is believed for the client IP;
    /// empty: none, the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// CSP `frame-ancestors` sources allowed to embed the web inbox (`/inbox/`); empty: none.
    pub inbox_frame_ancestors: Vec<String>,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
            max_connections: 10_000,
            header_read_timeout_secs: 10,
            keep_alive_idle_secs: 60,
            max_uri_bytes: sixin_http::HttpConfig::default().max_uri_bytes,
            cors_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            inbox_frame_ancestors: sixin_http::HttpConfig::default().inbox_frame_ancestors,
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
    /// PostgreSQL: how long a request waits for a connection before it is answered
    /// `unavailable`, in milliseconds.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        DatabaseSection {
            url: "sqlite://sixin.db".into(),
            max_connections: 8,
            acquire_timeout_ms: sixin_store::DEFAULT_ACQUIRE_TIMEOUT.as_millis() as u64,
        }
    }
}

impl fmt::Debug for DatabaseSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSection")
            .field("url", &sixin_store::redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
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
    /// Checked by `sixin_nats::check_url`; may hold a password, so `Debug` redacts it.
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
    /// Events older than this many seconds are pruned too (0: no age limit).
    pub max_age_secs: u64,
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
            max_age_secs: core.max_event_age.as_secs(),
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
    /// Messages a member sends (a multi-send spends one per recipient).
    pub sends: Quota,
    /// New direct conversations a member may open in any 24 hours.
    pub new_direct_per_day: u32,
    /// Registrations from one client IP, per app, counted by each node on its own.
    pub registrations_per_ip: Quota,
    /// Password logins from one client IP, per app, counted by each node on its own.
    pub logins_per_ip: Quota,
    /// Wrong passwords in a row an account takes before each further attempt must wait.
    pub failed_logins_free: u32,
    /// The first wait, in seconds; it doubles with each further wrong password …
    pub failed_login_delay_secs: u32,
    /// … up to this many seconds.
    pub failed_login_max_delay_secs: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        let core = CoreConfig::default();
        let l = core.limits;
        LimitsSection {
            session_ttl_secs: core.session_ttl.as_secs(),
            recall_window_secs: core.recall_window.as_secs(),
            max_group_members: core.max_group_members,
            argon2_memory_kib: core.argon2_memory_kib,
            argon2_iterations: core.argon2_iterations,
            sends: l.sends,
            new_direct_per_day: l.new_direct_per_day,
            registrations_per_ip: l.registrations_per_ip,
            logins_per_ip: l.logins_per_ip,
            failed_logins_free: l.failed_logins_free,
            failed_login_delay_secs: l.failed_login_delay_secs,
            failed_login_max_delay_secs: l.failed_login_max_delay_secs,
        }
    }
}

impl LimitsSection {
    /// The rate limits and flood controls of this section (checked by the core).
    pub fn rate_limits(&self) -> Limits {
        Limits {
            sends: self.sends,
            new_direct_per_day: self.new_direct_per_day,
            registrations_per_ip: self.registrations_per_ip,
            logins_per_ip: self.logins_per_ip,
            failed_logins_free: self.failed_logins_free,
            failed_login_delay_secs: self.failed_login_delay_secs,
            failed_login_max_delay_secs: self.failed_login_max_delay_secs,
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
    /// How long a PhalApi access token (`App.Auth.ApplyToken`) stays valid.
    pub phalapi_access_token_ttl_secs: u64,
}

impl Default for DialectsSection {
    fn default() -> Self {
        DialectsSection {
            time_zone: "Asia/Shanghai".into(),
            phalapi_debug: false,
            phalapi_access_token_ttl_secs: CoreConfig::default().access_token_ttl.as_secs(),
        }
    }
}

/// `[server_api]`: the API an app's backend calls (`/v1/server/...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerApiSection {
    /// The longest lifetime (`exp - iat`) a server API token may claim, in seconds.
    pub max_token_secs: u64,
    /// The longest lifetime an app-signed member token may claim, in seconds.
    pub member_token_max_secs: u64,
    /// How long an app's old secret stays accepted after a rotation that names no grace
    /// period, in seconds (0: at once).
    pub secret_grace_secs: u64,
}

impl Default for ServerApiSection {
    fn default() -> Self {
        let core = CoreConfig::default();
        ServerApiSection {
            max_token_secs: core.server_token_max_lifetime.as_secs(),
            member_token_max_secs: core.member_token_max_lifetime.as_secs(),
            secret_grace_secs: core.secret_grace.as_secs(),
        }
    }
}

/// `[webhooks]`: delivering the apps' webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksSection {
    /// Whether this node delivers webhooks (any number of nodes may: leases keep each
    /// endpoint's queue on one node at a time).
    pub deliver: bool,
    /// Whether endpoint URLs may name private, loopback or link-local addresses.
    pub allow_private_targets: bool,
    /// How long one delivery try may take, in seconds.
    pub timeout_secs: u64,
    /// The first retry step, in milliseconds; each later step doubles it.
    pub retry_first_ms: u64,
    /// The longest retry step, in seconds.
    pub retry_max_delay_secs: u64,
    /// How long a delivery is retried before it is marked failed, in seconds.
    pub retry_for_secs: u64,
    /// How long a node's lease on an endpoint's queue lasts unless renewed, in seconds.
    pub lease_secs: u64,
    /// How often a node looks for endpoints with a delivery due, in milliseconds.
    pub poll_interval_ms: u64,
    /// The most endpoints one node delivers to at once.
    pub max_endpoints_per_node: usize,
    /// How long settled deliveries and their outbox entries are kept, in seconds.
    pub retention_secs: u64,
}

impl Default for WebhooksSection {
    fn default() -> Self {
        let policy = sixin_core::webhook::WebhookPolicy::default();
        let delivery = sixin_webhooks::DeliveryConfig::default();
        WebhooksSection {
            deliver: true,
            allow_private_targets: policy.allow_private_targets,
            timeout_secs: delivery.timeout.as_secs(),
            retry_first_ms: policy.retry.first.as_millis() as u64,
            retry_max_delay_secs: policy.retry.max_delay.as_secs(),
            retry_for_secs: policy.retry.retry_for.as_secs(),
            lease_secs: policy.lease.as_secs(),
            poll_interval_ms: delivery.poll_interval.as_millis() as u64,
            max_endpoints_per_node: delivery.max_endpoints,
            retention_secs: policy.retention.as_secs(),
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
    /// One `info` line per request (method, route, status, duration); off: those are `debug`.
    pub access: bool,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            filter: "info,sqlx=warn".into(),
            format: LogFormat::Text,
            access: false,
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
