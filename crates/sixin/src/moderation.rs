//! `sixin member ban|unban|mute|unmute|export|erase` and `sixin app set-registration|set-member-tokens|set-dm-policy`: the operator's side of
//! the server API. Each command acts for the app through [`Core::act_for_app`] and calls the
//! same core operations the app's backend calls; nothing is decided here.
//!
//! The CLI runs on the in-process bus: a ban ends the member's sessions in the database at
//! once, and their open event streams on running servers close at their next heartbeat (the
//! server API's ban closes them at once, through the servers' bus).

use anyhow::Context as _;
use clap::Args;
use serde_json::{json, Value};
use sixin_core::ids::Timestamp;
use sixin_core::model::{App, DmPolicy, Member, MemberTokens, Registration};
use sixin_core::service::MemberLookup;
use sixin_core::store::Ban;
use sixin_core::{AppCaller, Core};

/// Which member of which app.
#[derive(Debug, Args)]
pub struct Target {
    /// The app_key of the member's app.
    #[arg(long, value_name = "KEY")]
    pub app: String,
    /// The member's uuid.
    #[arg(
        long,
        conflicts_with = "external_id",
        required_unless_present = "external_id"
    )]
    pub uuid: Option<String>,
    /// The member's id in the app's own accounts (server API `external_id`).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Print the member as one JSON object on stdout (as the server API shows it).
    #[arg(long)]
    pub json: bool,
}

/// What to do to the member.
#[derive(Debug)]
pub enum Action {
    Ban {
        until: Option<Timestamp>,
        reason: Option<String>,
    },
    Unban,
    Mute {
        until: Option<Timestamp>,
    },
    Unmute,
}

/// Applies `action` to the member `target` names and prints the member as it now is.
pub async fn moderate(core: &Core, target: &Target, action: Action) -> anyhow::Result<()> {
    let app = core
        .act_for_app(&target.app)
        .await
        .with_context(|| format!("app {}", target.app))?;
    let member = find(core, &app, target).await?;
    let uuid = member.uuid.as_str();
    let member = match action {
        Action::Ban { until, reason } => {
            let ban = Ban { until, reason };
            core.set_banned(app.app(), uuid, Some(ban)).await?
        }
        Action::Unban => core.set_banned(app.app(), uuid, None).await?,
        Action::Mute { until } => core.set_muted(app.app(), uuid, Some(until)).await?,
        Action::Unmute => core.set_muted(app.app(), uuid, None).await?,
    };
    print_member(&core.in_force(member), target.json);
    Ok(())
}

async fn find(core: &Core, app: &AppCaller, target: &Target) -> anyhow::Result<Member> {
    Ok(core.find_member(app, lookup(target)?).await?)
}

fn lookup(target: &Target) -> anyhow::Result<MemberLookup<'_>> {
    Ok(match (&target.uuid, &target.external_id) {
        (Some(uuid), _) => MemberLookup::Uuid(uuid),
        (None, Some(id)) => MemberLookup::ExternalId(id),
        (None, None) => anyhow::bail!("name the member with --uuid or --external-id"),
    })
}

/// Prints the member's export as NDJSON on stdout, page by page (`--json` changes nothing:
/// the output is JSON lines either way).
pub async fn export(core: &Core, target: &Target) -> anyhow::Result<()> {
    use std::io::Write as _;
    let app = core
        .act_for_app(&target.app)
        .await
        .with_context(|| format!("app {}", target.app))?;
    let mut export = core.export_member(&app, lookup(target)?).await?;
    let mut out = std::io::stdout().lock();
    while let Some(records) = export.next_page().await? {
        for record in &records {
            writeln!(out, "{}", sixin_http::export_line(record))?;
        }
    }
    Ok(())
}

/// The member as the server API shows it.
fn member_json(m: &Member) -> Value {
    json!({
        "uuid": m.uuid.as_str(),
        "uid": m.id.0,
        "external_id": m.external_id,
        "username": m.username,
        "banned": m.banned.then(|| json!({"until": m.banned_until.map(|t| t.0), "reason": m.ban_reason})),
        "muted": m.muted.then(|| json!({"until": m.muted_until.map(|t| t.0)})),
    })
}

fn print_member(m: &Member, as_json: bool) {
    if as_json {
        println!("{}", member_json(m));
        return;
    }
    let until = |t: Option<Timestamp>| {
        t.map_or_else(
            || "for good".to_owned(),
            |t| format!("until {} (Unix ms)", t.0),
        )
    };
    println!("member {} ({})", m.username, m.uuid);
    match (m.banned, m.muted) {
        (false, false) => println!("neither banned nor muted"),
        (banned, muted) => {
            if banned {
                let why = m.ban_reason.as_deref().unwrap_or("no reason given");
                println!("banned {}: {why}", until(m.banned_until));
            }
            if muted {
                println!("muted {}", until(m.muted_until));
            }
        }
    }
}

/// Sets the registration policy of the app with `key` and prints it.
pub async fn set_registration(
    core: &Core,
    key: &str,
    policy: Registration,
    as_json: bool,
) -> anyhow::Result<()> {
    let app = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let app = core.set_registration(&app, policy).await?;
    show_setting(&app, "registration", app.registration.as_str(), as_json);
    Ok(())
}

/// Prints one app setting after a change: `{"app_key", NAME: VALUE}` as JSON, or a line.
fn show_setting(app: &App, name: &str, value: &str, as_json: bool) {
    if as_json {
        println!("{}", json!({"app_key": app.key.as_str(), name: value}));
    } else {
        println!("app {}: {name} = {value}", app.key);
    }
}

/// A time given as Unix milliseconds, for `--until`.
pub fn parse_until(s: &str) -> Result<Timestamp, String> {
    s.parse::<i64>()
        .map(Timestamp)
        .map_err(|_| format!("{s:?} is not a time in Unix milliseconds"))
}

/// `open` or `closed`, for `set-registration`.
pub fn parse_registration(s: &str) -> Result<Registration, String> {
    match s {
        "open" => Ok(Registration::Open),
        "closed" => Ok(Registration::Closed),
        _ => Err(format!(
            "{s:?} is not a registration policy: open or closed"
        )),
    }
}

/// Sets what app-signed member tokens naming no member yet do in the app with `key`.
pub async fn set_member_tokens(
    core: &Core,
    key: &str,
    policy: MemberTokens,
    as_json: bool,
) -> anyhow::Result<()> {
    let app = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let app = core.set_member_tokens(&app, policy).await?;
    show_setting(&app, "member_tokens", app.member_tokens.as_str(), as_json);
    Ok(())
}

/// `existing` or `provision`, for `set-member-tokens`.
pub fn parse_member_tokens(s: &str) -> Result<MemberTokens, String> {
    MemberTokens::parse(s)
        .ok_or_else(|| format!("{s:?} is not a member-token policy: existing or provision"))
}

/// Sets the default who-may-message-me setting of the app with `key` and prints it.
pub async fn set_dm_policy(
    core: &Core,
    key: &str,
    policy: DmPolicy,
    as_json: bool,
) -> anyhow::Result<()> {
    let app = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let app = core.set_app_dm_policy(&app, policy).await?;
    show_setting(&app, "dm_policy", app.dm_policy.as_str(), as_json);
    Ok(())
}

/// `everyone`, `contacts` or `nobody`, for `set-dm-policy`.
pub fn parse_dm_policy(s: &str) -> Result<DmPolicy, String> {
    DmPolicy::parse(s).ok_or_else(|| {
        format!("{s:?} is not a who-may-message policy: everyone, contacts or nobody")
    })
}

/// Erases the member and prints what it did.
pub async fn erase(core: &Core, target: &Target) -> anyhow::Result<()> {
    let app = core
        .act_for_app(&target.app)
        .await
        .with_context(|| format!("app {}", target.app))?;
    let erased = core.erase_member(&app, lookup(target)?).await?;
    if target.json {
        println!(
            "{}",
            json!({"erased": erased.uuid.as_str(), "groups_left": erased.groups_left})
        );
    } else {
        println!(
            "member {} erased; left {} group(s)",
            erased.uuid, erased.groups_left
        );
    }
    Ok(())
}
