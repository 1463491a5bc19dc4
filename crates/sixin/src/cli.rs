//! The command line (clap derive) and the small administrative commands. Each command builds a
//! [`Core`] through [`wiring`] and calls its methods; none touches the store directly. The
//! administrative commands publish no events, so they run on the in-process bus even when
//! `nats.url` is set; only `sixin serve` connects to NATS.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use sixin_core::{Bus, Core, LocalBus};

use crate::config::{LogFormat, Overrides, Settings};
use crate::wiring;

/// sixin: a self-hosted private-messaging server.
#[derive(Debug, Parser)]
#[command(name = "sixin", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand honours.
#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file (default: ./sixin.toml if it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    /// [config: database.url, env: SIXIN_DATABASE_URL, default: sqlite://sixin.db].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// NATS server URL, nats://HOST:PORT, so several nodes on one database share events
    /// (used by `serve`) [config: nats.url, env: SIXIN_NATS_URL, default: none, this node only].
    #[arg(long, global = true, value_name = "URL")]
    pub nats_url: Option<String>,
    /// Log filter, e.g. `info` or `sixin=debug` [overrides RUST_LOG and log.filter].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Log line format (logs go to stderr) [config: log.format].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (default 127.0.0.1:8080, database sqlite://sixin.db, created and migrated).
    Serve {
        /// Address to listen on, IP:PORT [config: http.listen, env: SIXIN_LISTEN].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Manage apps (tenants).
    #[command(subcommand)]
    App(AppCommand),
    /// Manage members of an app.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app; prints its app_key and app_secret (the only time the secret is shown).
    Create {
        /// A name for people.
        name: String,
        /// Require signed requests from dialects that sign (YesApi, PhalApi).
        #[arg(long)]
        require_sign: bool,
        /// Print one JSON object {"app_key", "app_secret", "name"} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List apps (never shows secrets).
    List {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Turn signature enforcement on or off for an app.
    SetRequireSign {
        /// The app_key.
        key: String,
        /// true or false.
        #[arg(action = clap::ArgAction::Set)]
        on: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Register a member; prints its uuid and uid.
    Create {
        /// The app_key of the app the member joins.
        #[arg(long, value_name = "KEY")]
        app: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// A JSON object of free-form profile fields.
        #[arg(long, value_name = "JSON")]
        ext_info: Option<String>,
        /// Print one JSON object {"uuid", "uid", "username"} on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a fully commented example configuration whose values are the defaults.
    Example,
    /// Validate the effective configuration and print it (database password redacted).
    Check,
}

impl Cli {
    /// The command-line values that override the configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.global.config.clone(),
            database_url: self.global.database_url.clone(),
            nats_url: self.global.nats_url.clone(),
            listen: match &self.command {
                Command::Serve { listen } => listen.clone(),
                _ => None,
            },
            log_filter: self.global.log.clone(),
            log_format: self.global.log_format,
        }
    }
}

/// The core over the configured database and the in-process bus, for commands that publish no
/// events; errors say which database (password redacted).
pub async fn core(settings: &Settings) -> anyhow::Result<Core> {
    core_on(settings, Arc::new(LocalBus::default())).await
}

/// The core over the configured database, publishing on `bus`.
pub async fn core_on(settings: &Settings, bus: Arc<dyn Bus>) -> anyhow::Result<Core> {
    match wiring::core(&settings.store, &settings.core, bus).await {
        Ok(core) => Ok(core),
        // This message already shows the (redacted) URL.
        Err(e @ sixin_store::OpenError::UnknownScheme(_)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "database {} (database.url)",
            sixin_store::redact(&settings.store.url)
        ))),
    }
}

/// `sixin app …`
pub async fn app(settings: &Settings, cmd: AppCommand) -> anyhow::Result<()> {
    let core = core(settings).await?;
    match cmd {
        AppCommand::Create {
            name,
            require_sign,
            json,
        } => {
            let app = core.create_app(&name, require_sign).await?;
            if json {
                let out = json!({
                    "app_key": app.key.as_str(),
                    "app_secret": app.secret.0,
                    "name": app.name,
                });
                println!("{out}");
            } else {
                println!("app created: {}", app.name);
                println!("app_key:     {}", app.key);
                println!("app_secret:  {}", app.secret.0);
                println!("require_sign: {}", app.require_sign);
                println!("Keep the secret safe: it is not shown again.");
            }
        }
        AppCommand::List { json } => {
            let apps = core.apps().await?;
            if json {
                let out: Vec<_> = apps
                    .iter()
                    .map(|a| {
                        json!({
                            "app_key": a.key.as_str(),
                            "name": a.name,
                            "require_sign": a.require_sign,
                            "created_at": a.created_at.unix_seconds(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(out));
            } else if apps.is_empty() {
                println!("no apps yet: create one with `sixin app create NAME`");
            } else {
                println!("{:<32}  {:<12}  name", "app_key", "require_sign");
                for a in &apps {
                    println!("{:<32}  {:<12}  {}", a.key, a.require_sign, a.name);
                }
            }
        }
        AppCommand::SetRequireSign { key, on } => {
            let app = core
                .set_require_sign(&key, on)
                .await
                .with_context(|| format!("app {key}"))?;
            println!("app {}: require_sign = {}", app.key, app.require_sign);
        }
    }
    Ok(())
}

/// `sixin member …`
pub async fn member(settings: &Settings, cmd: MemberCommand) -> anyhow::Result<()> {
    let MemberCommand::Create {
        app,
        username,
        password,
        ext_info,
        json,
    } = cmd;
    let ext_info = ext_info
        .map(|s| serde_json::from_str::<serde_json::Value>(&s))
        .transpose()
        .context("--ext-info must be a JSON object")?;
    let core = core(settings).await?;
    let app = core
        .app_by_key(&app)
        .await
        .with_context(|| format!("app {app}"))?;
    let member = core
        .create_member(&app, &username, &password, ext_info)
        .await?;
    if json {
        let out = json!({
            "uuid": member.uuid.as_str(),
            "uid": member.id.0,
            "username": member.username,
        });
        println!("{out}");
    } else {
        println!("member created: {}", member.username);
        println!("uuid: {}", member.uuid);
        println!("uid:  {}", member.id);
    }
    Ok(())
}

/// `sixin migrate`
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    drop(core(settings).await?);
    println!(
        "database {} is up to date",
        sixin_store::redact(&settings.store.url)
    );
    Ok(())
}

/// `sixin config …`
pub fn config(settings: Option<&Settings>, cmd: ConfigCommand) {
    match (cmd, settings) {
        (ConfigCommand::Example, _) => print!("{}", crate::config::EXAMPLE),
        (ConfigCommand::Check, Some(s)) => println!("configuration is valid:\n{s:#?}"),
        (ConfigCommand::Check, None) => {}
    }
}
