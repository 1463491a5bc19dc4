//! sixin, the binary: parses the command line, loads and validates the configuration, sets up
//! logging, and dispatches to a subcommand.
//!
//! - `cli`: the clap definitions and the administrative commands (app, member, migrate, backup,
//!   config); `app_limits`: `sixin app set-limits`.
//! - `config`: [`config::Config`], layered defaults < file < `SIXIN_*` env < flags, validated.
//! - `wiring`: store from the database URL, bus (NATS or in-process), system clock, core, router.
//! - `serve`: `sixin serve`, with graceful shutdown on SIGINT/SIGTERM and the webhook worker.
//! - `before_send_cli`: `sixin app before-send`, the app's before-send hook.
//! - `webhooks_cli`: `sixin app webhooks …`, the app's webhook endpoints.
//! - `words`: `sixin app words`, the app's sensitive-word list.

mod app_limits;
mod before_send_cli;
mod cli;
mod config;
mod listener;
mod moderation;
mod rotate;
mod serve;
mod webhooks_cli;
mod wiring;
mod words;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::config::{Config, LogFormat, LogSection, Settings};

/// mimalloc returns freed memory to the OS promptly; with glibc's per-thread arenas, bursts of
/// argon2 hashing (19 MiB each) left the server holding over 1 GiB after a few hundred logins.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // The example must print even when the local configuration is broken.
    if let Command::Config(ConfigCommand::Example) = cli.command {
        cli::config(None, ConfigCommand::Example);
        return Ok(());
    }
    let loaded = Config::load(&cli.overrides())?;
    let settings = loaded.validate()?;
    if let Command::Config(cmd @ ConfigCommand::Check) = cli.command {
        cli::config(Some(&loaded.config), cmd);
        return Ok(());
    }
    init_tracing(&settings.log, cli.global.log.is_some());
    tracing::debug!(?settings, "configuration");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(dispatch(cli.command, settings))
}

async fn dispatch(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            // One server per SQLite file, held until this process ends.
            let _serving = sixin_store::lock_for_serving(&settings.store.url)?;
            let bus = wiring::NodeBus::connect(&settings)
                .await
                .context("the event bus (nats.url)")?;
            let core = cli::core_on(&settings, bus.as_bus()).await?;
            serve::run(&settings, core).await?;
            bus.close().await;
        }
        Command::App(cmd) => cli::app(&settings, cmd).await?,
        Command::Member(cmd) => cli::member(&settings, cmd).await?,
        Command::Migrate => cli::migrate(&settings).await?,
        Command::Backup {
            path,
            force,
            verify,
        } => cli::backup(&settings, path, force, verify).await?,
        Command::Config(cmd) => cli::config(None, cmd),
    }
    Ok(())
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable, with colours only
/// when stderr is a terminal. The filter is `--log` if given, else `RUST_LOG` if set, else
/// `log.filter` from the configuration.
fn init_tracing(log: &LogSection, flag_given: bool) {
    let directive = match std::env::var("RUST_LOG") {
        Ok(env) if !flag_given && !env.trim().is_empty() => env,
        _ => log.filter.clone(),
    };
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|e| {
        eprintln!("warning: ignoring invalid log filter {directive:?} ({e}); using \"info\"");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match log.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
