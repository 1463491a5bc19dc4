//! Each section checked and converted into the typed value its crate takes. The binary checks
//! what only it knows about (addresses, URLs, time zones, log filters, heartbeats); the core's
//! limits are checked by [`CoreConfig::validate`], whose field names are mapped back to keys.

use std::net::SocketAddr;
use std::time::Duration;

use sixin_core::{CoreConfig, CoreConfigError};
use sixin_http::{EventStreamConfig, HttpConfig};
use sixin_nats::NatsOptions;
use sixin_store::StoreConfig;

use super::{Config, ConfigError, DatabaseSection, EventsSection, HttpSection, LogSection};
use super::{DialectsSection, NatsSection, NatsSettings};
use crate::listener::ConnLimits;

/// `Err(invalid(key, reason))` unless `ok`.
fn ensure(ok: bool, key: &'static str, reason: &str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(key, reason))
    }
}

impl HttpSection {
    /// The connection limits of the listener.
    pub(super) fn conn_limits(&self) -> Result<ConnLimits, ConfigError> {
        ensure(
            self.max_connections > 0,
            "http.max_connections",
            "must be at least 1",
        )?;
        ensure(
            self.header_read_timeout_secs > 0,
            "http.header_read_timeout_secs",
            "must be at least 1",
        )?;
        ensure(
            self.keep_alive_idle_secs > 0,
            "http.keep_alive_idle_secs",
            "must be at least 1",
        )?;
        Ok(ConnLimits {
            max_connections: self.max_connections,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            keep_alive_idle: Duration::from_secs(self.keep_alive_idle_secs),
        })
    }

    /// `http.listen` as an address.
    pub(super) fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::invalid(
                "http.listen",
                format!(
                    "must be IP:PORT such as 127.0.0.1:8080 or [::1]:8080, got {:?}",
                    self.listen
                ),
            )
        })
    }
}

impl Config {
    /// `[http]`, `[events]` (timing) and `[dialects]` (rendering) for the HTTP crate.
    pub(super) fn http_config(&self) -> Result<HttpConfig, ConfigError> {
        let h = &self.http;
        ensure(
            h.body_limit_bytes > 0,
            "http.body_limit_bytes",
            "must be at least 1",
        )?;
        ensure(
            h.request_timeout_secs > 0,
            "http.request_timeout_secs",
            "must be at least 1",
        )?;
        ensure(
            h.max_uri_bytes >= 256,
            "http.max_uri_bytes",
            "must be at least 256",
        )?;
        for origin in &h.cors_allowed_origins {
            sixin_http::check_origin(origin)
                .map_err(|reason| ConfigError::invalid("http.cors_allowed_origins", reason))?;
        }
        ensure(
            !h.cors_allowed_origins.iter().any(|o| o == "*") || h.cors_allowed_origins.len() == 1,
            "http.cors_allowed_origins",
            "must be [\"*\"] alone or a list of origins",
        )?;
        ensure(
            h.inbox_frame_ancestors.iter().all(|a| {
                !a.is_empty()
                    && a.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
            }),
            "http.inbox_frame_ancestors",
            "must be CSP sources ('self', https://app.example.com), without spaces, ';' or ','",
        )?;
        let trusted_proxies = h
            .trusted_proxies
            .iter()
            .map(|p| sixin_http::parse_trusted_proxy(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| ConfigError::invalid("http.trusted_proxies", reason))?;
        Ok(HttpConfig {
            body_limit_bytes: h.body_limit_bytes,
            request_timeout: Duration::from_secs(h.request_timeout_secs),
            max_uri_bytes: h.max_uri_bytes,
            cors_allowed_origins: h.cors_allowed_origins.clone(),
            events: self.events.stream_config()?,
            time_zone: self.dialects.time_zone()?,
            phalapi_debug: self.dialects.phalapi_debug,
            access_log: self.log.access,
            trusted_proxies,
            inbox_frame_ancestors: h.inbox_frame_ancestors.clone(),
        })
    }

    /// `[limits]` (the rate limits included), `[events]` (capacity) and `[dialects]` (token
    /// lifetime) for the core, checked by the core itself.
    pub(super) fn core_config(&self) -> Result<CoreConfig, ConfigError> {
        let (l, e) = (&self.limits, &self.events);
        let core = CoreConfig {
            session_ttl: Duration::from_secs(l.session_ttl_secs),
            recall_window: Duration::from_secs(l.recall_window_secs),
            max_group_members: l.max_group_members,
            argon2_memory_kib: l.argon2_memory_kib,
            argon2_iterations: l.argon2_iterations,
            max_streams_per_member: e.max_streams_per_member,
            stream_buffer: e.buffer,
            max_replay: e.max_replay,
            max_event_age: Duration::from_secs(e.max_age_secs),
            access_token_ttl: Duration::from_secs(self.dialects.phalapi_access_token_ttl_secs),
            server_token_max_lifetime: Duration::from_secs(self.server_api.max_token_secs),
            member_token_max_lifetime: Duration::from_secs(self.server_api.member_token_max_secs),
            secret_grace: Duration::from_secs(self.server_api.secret_grace_secs),
            limits: l.rate_limits(),
            webhooks: self.webhooks.policy(),
        };
        core.validate().map_err(core_error)?;
        Ok(core)
    }
}

/// A core limit's error, named by the configuration key that sets the field.
fn core_error(e: CoreConfigError) -> ConfigError {
    ConfigError::invalid(core_key(e.field), e.reason)
}

/// The configuration key that sets [`CoreConfig`]'s field `field`.
pub(super) fn core_key(field: &str) -> &str {
    match field {
        "session_ttl" => "limits.session_ttl_secs",
        "recall_window" => "limits.recall_window_secs",
        "max_group_members" => "limits.max_group_members",
        "argon2_memory_kib" => "limits.argon2_memory_kib",
        "argon2_iterations" => "limits.argon2_iterations",
        "max_streams_per_member" => "events.max_streams_per_member",
        "stream_buffer" => "events.buffer",
        "max_replay" => "events.max_replay",
        "max_event_age" => "events.max_age_secs",
        "access_token_ttl" => "dialects.phalapi_access_token_ttl_secs",
        "server_token_max_lifetime" => "server_api.max_token_secs",
        "member_token_max_lifetime" => "server_api.member_token_max_secs",
        "secret_grace" => "server_api.secret_grace_secs",
        "webhooks" | "webhook_retry_first" => "webhooks.retry_first_ms",
        "webhook_retry_max_delay" => "webhooks.retry_max_delay_secs",
        "webhook_lease" => "webhooks.lease_secs",
        // A field added to the core without a key here; the test `every_core_field_has_a_key`
        // catches it, and the message still names the field.
        other => other,
    }
}

impl EventsSection {
    /// The heartbeat and timeouts of `GET /v1/events`.
    fn stream_config(&self) -> Result<EventStreamConfig, ConfigError> {
        ensure(
            self.heartbeat_secs > 0,
            "events.heartbeat_secs",
            "must be at least 1",
        )?;
        ensure(
            self.idle_timeout_secs > self.heartbeat_secs,
            "events.idle_timeout_secs",
            "must be longer than events.heartbeat_secs (a client answers each ping)",
        )?;
        ensure(
            self.write_timeout_secs > 0,
            "events.write_timeout_secs",
            "must be at least 1",
        )?;
        Ok(EventStreamConfig {
            heartbeat: Duration::from_secs(self.heartbeat_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            write_timeout: Duration::from_secs(self.write_timeout_secs),
        })
    }
}

impl DialectsSection {
    /// `dialects.time_zone` looked up in the IANA database.
    fn time_zone(&self) -> Result<jiff::tz::TimeZone, ConfigError> {
        jiff::tz::TimeZone::get(&self.time_zone).map_err(|_| {
            ConfigError::invalid(
                "dialects.time_zone",
                format!(
                    "must be an IANA time zone such as Asia/Shanghai or UTC, got {:?}",
                    self.time_zone
                ),
            )
        })
    }
}

impl DatabaseSection {
    /// The store's settings; the URL's scheme is judged when the store opens it.
    pub(super) fn store_config(&self) -> Result<StoreConfig, ConfigError> {
        ensure(
            !self.url.trim().is_empty(),
            "database.url",
            "must be sqlite://PATH or postgres://USER@HOST/DB",
        )?;
        sixin_store::check_url(&self.url)
            .map_err(|reason| ConfigError::invalid("database.url", reason))?;
        ensure(
            self.max_connections > 0,
            "database.max_connections",
            "must be at least 1",
        )?;
        ensure(
            self.acquire_timeout_ms > 0,
            "database.acquire_timeout_ms",
            "must be at least 1",
        )?;
        Ok(StoreConfig {
            url: self.url.clone(),
            max_connections: self.max_connections,
            pg_schema: None,
            acquire_timeout: Duration::from_millis(self.acquire_timeout_ms),
        })
    }
}

impl NatsSection {
    /// The prefix is checked always, the URL when set; a blank URL counts as unset (`None`).
    pub(super) fn settings(&self) -> Result<Option<NatsSettings>, ConfigError> {
        sixin_nats::check_subject_prefix(&self.subject_prefix).map_err(|e| {
            ConfigError::invalid("nats.subject_prefix", format!("is not valid: {e}"))
        })?;
        let Some(url) = self.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        sixin_nats::check_url(url).map_err(|e| {
            ConfigError::invalid(
                "nats.url",
                format!("must be nats://HOST:PORT or tls://HOST:PORT: {e}"),
            )
        })?;
        Ok(Some(NatsSettings {
            url: url.to_owned(),
            options: NatsOptions {
                subject_prefix: self.subject_prefix.clone(),
                ..NatsOptions::default()
            },
        }))
    }
}

impl LogSection {
    /// This section, once `log.filter` is known to parse.
    pub(super) fn checked(&self) -> Result<LogSection, ConfigError> {
        ensure(
            self.filter.parse::<tracing_subscriber::EnvFilter>().is_ok(),
            "log.filter",
            "is not a valid filter (examples: info, sixin=debug,tower_http=info)",
        )?;
        Ok(self.clone())
    }
}
