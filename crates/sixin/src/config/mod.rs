//! [`Config`]: everything an operator can set, layered as
//! built-in defaults < config file < `SIXIN_*` environment < command-line flags,
//! then validated once into [`Settings`], the typed values each crate receives.
//!
//! The file is `--config PATH`, else `./sixin.toml` if it exists. Environment variables are
//! `SIXIN_SECTION__KEY` (for example `SIXIN_LIMITS__ARGON2_ITERATIONS=1`), plus three shorthands:
//! `SIXIN_DATABASE_URL` (= `database.url`), `SIXIN_NATS_URL` (= `nats.url`) and `SIXIN_LISTEN`
//! (= `http.listen`). Any other `SIXIN_*` variable stops the program with its name (a typo would
//! otherwise be silently ignored), except `SIXIN_TEST_*`, which belong to the test suite.
//!
//! Map of the module:
//! - this file: [`Config`], [`Settings`], [`ConfigError`], and [`Config::validate`], which asks
//!   each section for its typed value.
//! - `sections`: one struct per `[section]` with its defaults; `Debug` redacts secrets.
//! - `convert`: each section checked and converted into its typed value; the core's limits are
//!   checked by [`CoreConfig::validate`] and its errors renamed to configuration keys;
//!   `webhooks` the `[webhooks]` section.
//! - `load`: the figment layers, the `SIXIN_*` variable mapping, and which layer set a key.
//! - `example`: `sixin config example`, the file `sixin.example.toml` embedded, and the tests
//!   that keep it equal to the defaults.

mod convert;
mod example;
mod load;
mod sections;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sixin_core::CoreConfig;
use sixin_http::HttpConfig;
use sixin_store::StoreConfig;

use crate::listener::ConnLimits;

pub use example::EXAMPLE;
pub use sections::{
    DatabaseSection, DialectsSection, EventsSection, HttpSection, LimitsSection, LogFormat,
    LogSection, NatsSection, NatsSettings, ServerApiSection, WebhooksSection,
};

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
    pub server_api: ServerApiSection,
    pub webhooks: WebhooksSection,
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
    pub connections: ConnLimits,
    pub http: HttpConfig,
    pub store: StoreConfig,
    pub core: CoreConfig,
    /// `None`: events stay on this node (in-process bus).
    pub nats: Option<NatsSettings>,
    /// `None`: this node delivers no webhooks (`webhooks.deliver = false`).
    pub webhooks: Option<sixin_webhooks::DeliveryConfig>,
    pub log: LogSection,
}

/// Why the configuration could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// A value that does not parse or a key that does not exist: the message names the key and
    /// where it was set (the file, or the very environment variable).
    #[error("invalid configuration: {}", load::describe(.0))]
    Load(Box<figment::Error>),
    /// A `SIXIN_*` variable that sets no key.
    #[error(
        "invalid configuration: environment variable {name} is not a setting{}; \
         `sixin config example` lists every key (SIXIN_SECTION__KEY)",
        suggestion.as_deref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default()
    )]
    UnknownEnv {
        name: String,
        suggestion: Option<String>,
    },
    /// `origin` names the layer that set the key (file, environment, flag), once known.
    #[error("invalid configuration: `{key}` {reason}{}", from(origin))]
    Invalid {
        key: &'static str,
        reason: String,
        origin: Option<String>,
    },
}

impl ConfigError {
    /// `key` is invalid because of `reason`; which layer set it is added by [`load::Loaded::validate`].
    pub(crate) fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key,
            reason: reason.into(),
            origin: None,
        }
    }
}

/// ` (from ORIGIN)`, or nothing when the origin is not known.
fn from(origin: &Option<String>) -> String {
    origin
        .as_deref()
        .map(|o| format!(" (from {o})"))
        .unwrap_or_default()
}

impl Config {
    /// The configuration as TOML, every documented key with its effective value, passwords in
    /// `database.url` and `nats.url` shown as `***` (`sixin config check`).
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = sixin_store::redact(&shown.database.url);
        shown.nats.url = shown.nats.url.as_deref().map(sixin_nats::redact);
        toml::to_string(&shown)
            .unwrap_or_else(|e| format!("# cannot show the configuration: {e}\n"))
    }

    /// Checks every value and converts it into the typed settings; the first invalid value
    /// stops it, with a message naming its key.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        Ok(Settings {
            listen: self.http.listen_addr()?,
            shutdown_grace: Duration::from_secs(self.http.shutdown_grace_secs),
            connections: self.http.conn_limits()?,
            http: self.http_config()?,
            store: self.database.store_config()?,
            core: self.core_config()?,
            nats: self.nats.settings()?,
            webhooks: self.webhooks.delivery()?,
            log: self.log.checked()?,
        })
    }
}
