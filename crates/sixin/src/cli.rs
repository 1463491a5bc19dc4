//! The command line (clap derive) and the small administrative commands. Each command builds a
//! [`Core`] through [`wiring`] and calls its methods; none touches the store directly. The
//! administrative commands publish no events, so they run on the in-process bus even when
//! `nats.url` is set; only `sixin serve` connects to NATS.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use sixin_core::ids::Timestamp;
use sixin_core::model::{DmPolicy, MemberTokens, Registration};
use sixin_core::{Bus, Core, LocalBus};

use crate::config::{Config, LogFormat, Overrides, Settings};
use crate::moderation::{self, Action, Target};
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
    /// Copy the SQLite database to PATH while the server runs (a consistent snapshot, verified
    /// before it is put in place); with --verify, check an existing copy instead. PostgreSQL:
    /// use pg_dump.
    Backup {
        /// Where to write the copy; with --verify, the copy to check.
        #[arg(value_name = "PATH")]
        path: PathBuf,
        /// Replace PATH if it exists.
        #[arg(long, conflicts_with = "verify")]
        force: bool,
        /// Only check the SQLite file at PATH: integrity, schema version, counts.
        #[arg(long)]
        verify: bool,
    },
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
    /// What an app-signed member token naming no member yet does: refused (existing) or the
    /// member is created from its claims (provision).
    SetMemberTokens {
        /// The app_key.
        key: String,
        /// existing or provision.
        #[arg(value_parser = moderation::parse_member_tokens)]
        policy: MemberTokens,
        /// Print {"app_key", "member_tokens"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open or close self-registration (closed: members come from the server API and the CLI).
    SetRegistration {
        /// The app_key.
        key: String,
        /// open or closed.
        #[arg(value_parser = moderation::parse_registration)]
        policy: Registration,
        /// Print {"app_key", "registration"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The app's sensitive-word list: list, add, remove, import a file.
    #[command(subcommand)]
    Words(crate::words::WordsCommand),
    /// Who may start a direct conversation with a member who has not chosen for themself:
    /// everyone (the default), contacts (members who share a group with them) or nobody.
    SetDmPolicy {
        /// The app_key.
        key: String,
        /// everyone, contacts or nobody.
        #[arg(value_parser = moderation::parse_dm_policy)]
        policy: DmPolicy,
        /// Print {"app_key", "dm_policy"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage an app's webhook endpoints (where its changes are posted).
    #[command(subcommand)]
    Webhooks(crate::webhooks_cli::WebhooksCommand),
    /// Set or remove an app's before-send hook (asked before each member's send commits);
    /// prints {"app_key", "before_send"} as JSON, the new signing secret included when set.
    BeforeSend {
        /// The app_key.
        #[arg(long, value_name = "KEY")]
        app: String,
        /// The hook's http(s) URL.
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        url: Option<String>,
        /// How long a send waits for the answer, 50..5000 ms (default 1500).
        #[arg(long, value_name = "MS", conflicts_with = "clear")]
        timeout_ms: Option<u32>,
        /// What a send does when the hook fails: allow (default) or reject.
        #[arg(long, value_name = "allow|reject", value_parser = crate::before_send_cli::parse_on_failure, conflicts_with = "clear")]
        on_failure: Option<sixin_core::webhook::OnFailure>,
        /// Remove the hook.
        #[arg(long)]
        clear: bool,
    },
    /// Override some of an app's rate limits, or clear the override; prints {"app_key",
    /// "limits" (the override), "effective"} as JSON.
    SetLimits {
        /// The app_key.
        #[arg(long, value_name = "KEY")]
        app: String,
        /// A JSON object of the [limits] keys to override, a quota's parts one by one if you
        /// like: '{"registrations_per_ip": {"per": 200, "burst": 200}, "failed_logins_free": 10}'.
        #[arg(
            long,
            value_name = "JSON",
            conflicts_with = "clear",
            required_unless_present = "clear"
        )]
        json: Option<String>,
        /// Remove the override: the configuration's limits apply to the app again.
        #[arg(long)]
        clear: bool,
    },
    /// Replace an app's secret with a fresh one (printed once); the old one stays accepted for
    /// a grace period.
    RotateSecret {
        /// The app_key.
        key: String,
        /// How long the old secret stays accepted, in seconds (0..2592000; 0: not at all).
        /// Default: server_api.secret_grace_secs (86400).
        #[arg(long, value_name = "N")]
        grace_secs: Option<u64>,
        /// Print {"app_key", "app_secret", "previous_secret_until"} as JSON.
        #[arg(long)]
        json: bool,
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
    /// Ban a member: their sessions end at once; login is refused until unbanned or `--until`.
    Ban {
        #[command(flatten)]
        target: Target,
        /// When the ban lapses by itself, in Unix milliseconds (default: for good).
        #[arg(long, value_name = "MS", value_parser = moderation::parse_until)]
        until: Option<Timestamp>,
        /// Why (at most 500 characters; kept with the ban and shown to the app's backend).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a member's ban.
    Unban {
        #[command(flatten)]
        target: Target,
    },
    /// Mute a member: they may read, every send is refused.
    Mute {
        #[command(flatten)]
        target: Target,
        /// When the mute lapses by itself, in Unix milliseconds (default: for good).
        #[arg(long, value_name = "MS", value_parser = moderation::parse_until)]
        until: Option<Timestamp>,
    },
    /// Lift a member's mute.
    Unmute {
        #[command(flatten)]
        target: Target,
    },
    /// Print everything the member can see as NDJSON on stdout (as the server API's export):
    /// the member, then each conversation followed by its messages.
    Export {
        #[command(flatten)]
        target: Target,
    },
    /// Erase the member: sessions, profile and password go; their messages stay in others'
    /// history as tombstones; they leave every group.
    Erase {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a fully commented example configuration whose values are the defaults.
    Example,
    /// Validate the configuration and print the effective values as TOML (passwords redacted).
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
        Err(
            e @ (sixin_store::OpenError::UnknownScheme(_)
            | sixin_store::OpenError::Unreachable { .. }),
        ) => Err(e.into()),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "database {} (database.url)",
            sixin_store::redact(&settings.store.url)
        ))),
    }
}

/// Closes the store after an administrative command. A server may be running on the same
/// SQLite file, keeping its WAL in use: nothing is lost then, so a failure is only logged.
async fn close(core: Core) {
    if let Err(e) = core.close().await {
        tracing::debug!(error = %e, "closing the database: {e}");
    }
}

/// `sixin app …`
pub async fn app(settings: &Settings, cmd: AppCommand) -> anyhow::Result<()> {
    let core = core(settings).await?;
    let done = app_on(&core, cmd).await;
    close(core).await;
    done
}

async fn app_on(core: &Core, cmd: AppCommand) -> anyhow::Result<()> {
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
        AppCommand::SetMemberTokens { key, policy, json } => {
            moderation::set_member_tokens(core, &key, policy, json).await?;
        }
        AppCommand::SetRegistration { key, policy, json } => {
            moderation::set_registration(core, &key, policy, json).await?;
        }
        AppCommand::Words(cmd) => crate::words::run(core, cmd).await?,
        AppCommand::SetDmPolicy { key, policy, json } => {
            moderation::set_dm_policy(core, &key, policy, json).await?;
        }
        AppCommand::Webhooks(cmd) => crate::webhooks_cli::run(core, cmd).await?,
        AppCommand::BeforeSend {
            app,
            url,
            timeout_ms,
            on_failure,
            ..
        } => {
            let spec = url.map(|url| sixin_core::service::BeforeSendSpec {
                url,
                timeout_ms,
                on_failure,
            });
            crate::before_send_cli::run(core, &app, spec).await?;
        }
        AppCommand::SetLimits { app, json, .. } => {
            crate::app_limits::set_limits(core, &app, json.as_deref()).await?;
        }
        AppCommand::RotateSecret {
            key,
            grace_secs,
            json,
        } => crate::rotate::rotate_secret(core, &key, grace_secs, json).await?,
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
    let (target, action) = match cmd {
        MemberCommand::Create {
            app,
            username,
            password,
            ext_info,
            json,
        } => return create_member(settings, app, username, password, ext_info, json).await,
        MemberCommand::Ban {
            target,
            until,
            reason,
        } => (target, Action::Ban { until, reason }),
        MemberCommand::Unban { target } => (target, Action::Unban),
        MemberCommand::Mute { target, until } => (target, Action::Mute { until }),
        MemberCommand::Unmute { target } => (target, Action::Unmute),
        MemberCommand::Erase { target } => {
            let core = core(settings).await?;
            let done = moderation::erase(&core, &target).await;
            close(core).await;
            return done;
        }
        MemberCommand::Export { target } => {
            let core = core(settings).await?;
            let done = moderation::export(&core, &target).await;
            close(core).await;
            return done;
        }
    };
    let core = core(settings).await?;
    let done = moderation::moderate(&core, &target, action).await;
    close(core).await;
    done
}

async fn create_member(
    settings: &Settings,
    app: String,
    username: String,
    password: String,
    ext_info: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let ext_info = ext_info
        .map(|s| serde_json::from_str::<serde_json::Value>(&s))
        .transpose()
        .context("--ext-info must be a JSON object")?;
    let core = core(settings).await?;
    let registered = async {
        let app = core
            .app_by_key(&app)
            .await
            .with_context(|| format!("app {app}"))?;
        anyhow::Ok(
            core.create_member(&app, &username, &password, ext_info)
                .await?,
        )
    }
    .await;
    close(core).await;
    let member = registered?;
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
    close(core(settings).await?).await;
    println!(
        "database {} is up to date",
        sixin_store::redact(&settings.store.url)
    );
    Ok(())
}

/// `sixin backup PATH [--force]` and `sixin backup --verify PATH`. A running server is not in
/// the way: the copy is read in one SQLite read transaction, beside the server's writes.
pub async fn backup(
    settings: &Settings,
    path: PathBuf,
    force: bool,
    verify: bool,
) -> anyhow::Result<()> {
    let url = settings.store.url.clone();
    let target = path.clone();
    let verified = tokio::task::spawn_blocking(move || {
        if verify {
            sixin_store::verify(&target)
        } else {
            sixin_store::backup(&url, &target, force)
        }
    })
    .await
    .context("the backup task")??;
    if verify {
        println!("{} is a sound sixin database", path.display());
    } else {
        println!(
            "backup of {} written to {} and verified",
            sixin_store::redact(&settings.store.url),
            path.display()
        );
    }
    let v = verified;
    let upgrade = if v.schema_version < v.latest_version {
        " (older: migrated when a server starts on it)"
    } else {
        ""
    };
    println!("integrity: ok");
    println!(
        "schema version: {} (this build: {}){upgrade}",
        v.schema_version, v.latest_version
    );
    println!(
        "apps: {}, members: {}, messages: {}",
        v.apps, v.members, v.messages
    );
    Ok(())
}

/// `sixin config …`; `check` prints `config`, already validated, as TOML.
pub fn config(config: Option<&Config>, cmd: ConfigCommand) {
    match (cmd, config) {
        (ConfigCommand::Example, _) => print!("{}", crate::config::EXAMPLE),
        (ConfigCommand::Check, Some(c)) => {
            println!("# The configuration is valid. Effective values (defaults < file < SIXIN_* < flags);");
            println!("# passwords are shown as ***.");
            print!("{}", c.to_redacted_toml());
        }
        (ConfigCommand::Check, None) => {}
    }
}
