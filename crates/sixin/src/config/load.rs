//! The layers, lowest first: built-in defaults, the config file, `SIXIN_*` variables, flags.
//! Each layer is a figment provider with a name, so an invalid value can be traced to the layer
//! that set it.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Uncased};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::{Config, ConfigError, Overrides, Settings};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "sixin.toml";

/// The prefix of configuration variables.
const ENV_PREFIX: &str = "SIXIN_";

/// `SIXIN_TEST_*` belongs to the test suite (`SIXIN_TEST_PG_URL`, …), which developers export in
/// the shell they also run the server from: never configuration, never an error.
const TEST_PREFIX: &str = "test_";

/// The shorthand variables (after `SIXIN_`, lower case) and the keys they set.
const SHORTHANDS: [(&str, &str); 3] = [
    ("database_url", "database.url"),
    ("nats_url", "nats.url"),
    ("listen", "http.listen"),
];

/// The sections whose keys `SIXIN_SECTION__KEY` variables may set.
const SECTIONS: [&str; 9] = [
    "http.",
    "database.",
    "nats.",
    "limits.",
    "log.",
    "dialects.",
    "events.",
    "server_api.",
    "webhooks.",
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
        check_env(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()))?;
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

/// A load error for people: the key as documented (`limits.argon2_iterations`), what is wrong,
/// and where it was set, with an environment variable named exactly (figment says
/// `"default.limits.argon2_iterations"` or `LIMITS.ARGON2_ITERATIONS in SIXIN_ environment
/// variable(s)`).
pub(super) fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".").to_ascii_lowercase();
    let from = e.metadata.as_ref().map(|md| {
        if md.name.contains("environment") && !key.is_empty() {
            let short = SHORTHANDS.iter().find(|(_, long)| *long == key);
            let vars: Vec<String> = short
                .map(|(s, _)| env_name(s))
                .into_iter()
                .chain([env_name(&key)])
                .collect();
            format!("environment variable {}", vars.join(" or "))
        } else {
            origin(md)
        }
    });
    let from = from.map(|f| format!(" (from {f})")).unwrap_or_default();
    // Serde names Rust types; say what they mean.
    let mut what = e.kind.to_string();
    for (rust, plain) in [
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
    ] {
        if what.ends_with(rust) {
            what = format!("{}{plain}", &what[..what.len() - rust.len()]);
        }
    }
    match key.as_str() {
        "" => format!("{what}{from}"),
        _ => format!("`{key}`: {what}{from}"),
    }
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

/// `SIXIN_SECTION__KEY` variables for the known sections, and the three shorthands (anything
/// else was refused by [`check_env`] before this is read).
fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX).split("__").filter_map(|key| {
        let key = key.as_str().to_ascii_lowercase();
        let mapped = match SHORTHANDS.iter().find(|(short, _)| *short == key) {
            Some((_, long)) => (*long).to_owned(),
            None if SECTIONS.iter().any(|s| key.starts_with(s)) => key,
            None => return None,
        };
        Some(Uncased::from_owned(mapped))
    })
}

/// Every `section.key` of the configuration, read off the defaults (with the keys that have no
/// default set), so it can never fall behind the sections.
pub(super) fn known_keys() -> BTreeSet<String> {
    fn walk(dict: &Dict, prefix: &str, out: &mut BTreeSet<String>) {
        for (name, value) in dict {
            let path = match prefix {
                "" => name.clone(),
                _ => format!("{prefix}.{name}"),
            };
            match value {
                figment::value::Value::Dict(_, child) => walk(child, &path, out),
                _ => {
                    out.insert(path);
                }
            }
        }
    }
    let mut all = Config::default();
    all.nats.url = Some(String::new());
    let mut out = BTreeSet::new();
    if let Ok(data) = Serialized::defaults(all).data() {
        for dict in data.values() {
            walk(dict, "", &mut out);
        }
    }
    out
}

/// The variable that sets `key`: `SIXIN_SECTION__KEY`.
fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// Refuses any `SIXIN_*` variable among `names` that sets no key (a typo would otherwise be
/// silently ignored), naming it and, when one is close, the variable that was probably meant.
/// `SIXIN_TEST_*` variables are the test suite's and are skipped.
pub(super) fn check_env(names: impl IntoIterator<Item = String>) -> Result<(), ConfigError> {
    let known = known_keys();
    for name in names {
        let Some(rest) = name
            .get(..ENV_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
            .map(|_| name[ENV_PREFIX.len()..].to_ascii_lowercase())
        else {
            continue;
        };
        let ok = rest.starts_with(TEST_PREFIX)
            || SHORTHANDS.iter().any(|(short, _)| *short == rest)
            || known.contains(&rest.replace("__", "."));
        if !ok {
            let mut candidates: Vec<String> = known.iter().map(|k| env_name(k)).collect();
            candidates.extend(SHORTHANDS.iter().map(|(s, _)| env_name(s)));
            let suggestion = closest(&name.to_ascii_uppercase(), &candidates);
            return Err(ConfigError::UnknownEnv { name, suggestion });
        }
    }
    Ok(())
}

/// The candidate nearest to `name` by edit distance, if it is near enough to be a typo.
fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 6))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
