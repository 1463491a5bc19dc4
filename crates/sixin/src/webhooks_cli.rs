//! `sixin app webhooks list|add|remove|pause|resume`: the operator's side of the server API's
//! webhook endpoints. Each command acts for the app through [`Core::act_for_app`] and calls the
//! same core operations the app's backend calls; nothing is decided here. Delivery itself is
//! the running servers' job (`sixin serve`).

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};
use sixin_core::ids::WebhookId;
use sixin_core::service::{WebhookEdit, WebhookSpec};
use sixin_core::webhook::Webhook;
use sixin_core::{AppCaller, Core};

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List the app's endpoints (never their secrets).
    List {
        /// The app_key.
        key: String,
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Add an endpoint; prints its id and signing secret (the only time the secret is shown).
    Add {
        /// The app_key.
        key: String,
        /// Where events are posted: an http(s) URL.
        url: String,
        /// Event types, comma-separated (e.g. message.created,member.banned); default: all.
        #[arg(long, value_delimiter = ',', value_name = "TYPES")]
        events: Option<Vec<String>>,
        /// A note for people.
        #[arg(long)]
        description: Option<String>,
        /// Create it paused.
        #[arg(long)]
        paused: bool,
        /// Print the endpoint, secret included, as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Delete an endpoint and its deliveries.
    Remove {
        /// The app_key.
        key: String,
        /// The endpoint id.
        id: i64,
    },
    /// Pause an endpoint: no deliveries are queued for changes made while paused.
    Pause {
        /// The app_key.
        key: String,
        /// The endpoint id.
        id: i64,
    },
    /// Resume a paused endpoint.
    Resume {
        /// The app_key.
        key: String,
        /// The endpoint id.
        id: i64,
    },
}

/// The endpoint as the server API shows it (the secret only when `secret`).
fn endpoint_json(w: &Webhook, secret: bool) -> Value {
    let mut v = json!({
        "id": w.id.0,
        "url": w.url,
        "events": w.events.types(),
        "enabled": w.enabled,
        "description": w.description,
        "created_at": w.created_at.0,
    });
    if secret {
        v["secret"] = json!(w.secret.0);
    }
    v
}

async fn app(core: &Core, key: &str) -> anyhow::Result<AppCaller> {
    core.act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))
}

/// Runs a `sixin app webhooks` command.
pub async fn run(core: &Core, cmd: WebhooksCommand) -> anyhow::Result<()> {
    match cmd {
        WebhooksCommand::List { key, json } => {
            let hooks = core.list_webhooks(&app(core, &key).await?).await?;
            if json {
                let all: Vec<Value> = hooks.iter().map(|w| endpoint_json(w, false)).collect();
                println!("{}", Value::Array(all));
            } else if hooks.is_empty() {
                println!("app {key} has no webhook endpoints");
            } else {
                for w in &hooks {
                    let state = if w.enabled { "enabled" } else { "paused" };
                    let events = w.events.types().join(",");
                    println!("{:>6}  {state:<7}  {events}  {}", w.id.0, w.url);
                }
            }
        }
        WebhooksCommand::Add {
            key,
            url,
            events,
            description,
            paused,
            json,
        } => {
            let spec = WebhookSpec {
                url,
                events,
                description,
                enabled: Some(!paused),
            };
            let w = core.create_webhook(&app(core, &key).await?, spec).await?;
            if json {
                println!("{}", endpoint_json(&w, true));
            } else {
                println!("webhook endpoint {} added: {}", w.id.0, w.url);
                println!("secret: {}", w.secret.0);
                println!("Keep the secret safe: it is not shown again.");
            }
        }
        WebhooksCommand::Remove { key, id } => {
            core.delete_webhook(&app(core, &key).await?, WebhookId(id))
                .await?;
            println!("webhook endpoint {id} removed");
        }
        WebhooksCommand::Pause { key, id } => set_enabled(core, &key, id, false).await?,
        WebhooksCommand::Resume { key, id } => set_enabled(core, &key, id, true).await?,
    }
    Ok(())
}

async fn set_enabled(core: &Core, key: &str, id: i64, on: bool) -> anyhow::Result<()> {
    let edit = WebhookEdit {
        enabled: Some(on),
        ..WebhookEdit::default()
    };
    let w = core
        .update_webhook(&app(core, key).await?, WebhookId(id), edit)
        .await?;
    let state = if w.enabled { "enabled" } else { "paused" };
    println!("webhook endpoint {id}: {state}");
    Ok(())
}
