//! The layers, lowest first: built-in defaults, the config file, `SIXIN_*` variables, flags.
//! Each layer is a figment provider with a name, so an invalid value can be traced to the layer
//! that set it.

use std::fmt;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Uncased};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::{Config, ConfigError, Overrides, Settings};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "sixin.toml";

/// The sections whose keys `SIXIN_SECTION__KEY` variables may set.
const SECTIONS: [&str; 7] = [
    "http.",
    "database.",
    "nats.",
    "limits.",
    "log.",
    "dialects.",
    "events.",
];

/// A loaded configuration, and which layer set each of its values.
pub struct Loaded {
    pub config: Config,
    figment: Figment,
}

/// Only the configuration, whose `Debug` redacts secrets; the figment holds them in clear.
impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads the layered configuration (defaults < file < `SIXIN_*` env < `flags`).
    pub fn load(flags: &Overrides) -> Result<Loaded, ConfigError> {
        let mut fig = Figment::from(Named(
            "the built-in default",
            Serialized::defaults(Config::default()),
        ));
        match &flags.config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.clone())),
            Some(path) => fig = fig.merge(Toml::file(path)),
            None if Path::new(DEFAULT_FILE).exists() => fig = fig.merge(Toml::file(DEFAULT_FILE)),
            None => {}
        }
        fig = merge_flags(fig.merge(env_provider()), flags);
        let config = fig.extract().map_err(|e| ConfigError::Load(Box::new(e)))?;
        Ok(Loaded {
            config,
            figment: fig,
        })
    }
}

impl Loaded {
    /// [`Config::validate`], with the layer that set an invalid key added to the message.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        self.config.validate().map_err(|e| match e {
            ConfigError::Invalid {
                key,
                reason,
                origin: None,
            } => ConfigError::Invalid {
                key,
                reason,
                origin: self.figment.find_metadata(key).map(origin),
            },
            other => other,
        })
    }
}

/// `fig` under the flags that were given, each a layer named after itself.
fn merge_flags(mut fig: Figment, flags: &Overrides) -> Figment {
    let strings = [
        ("--database-url", "database.url", &flags.database_url),
        ("--nats-url", "nats.url", &flags.nats_url),
        ("--listen", "http.listen", &flags.listen),
        ("--log", "log.filter", &flags.log_filter),
    ];
    for (flag, key, value) in strings {
        if let Some(value) = value {
            fig = fig.merge(Named(flag, Serialized::default(key, value)));
        }
    }
    if let Some(format) = flags.log_format {
        fig = fig.merge(Named(
            "--log-format",
            Serialized::default("log.format", format),
        ));
    }
    fig
}

/// The layer a value came from, for people: `TOML file /etc/sixin.toml`, `--listen`, ….
fn origin(md: &Metadata) -> String {
    match &md.source {
        Some(Source::File(path)) => format!("{} {}", md.name, path.display()),
        _ => md.name.to_string(),
    }
}

/// A provider under a name of our choosing (figment names `Serialized` after its Rust type).
struct Named<P>(&'static str, P);

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.0)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.1.data()
    }
}

/// `SIXIN_SECTION__KEY` variables for the known sections, and the three shorthands.
fn env_provider() -> Env {
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
