//! `sixin app rotate-secret`: the operator's side of `POST /v1/server/app/secret`. Acts for
//! the app through [`Core::act_for_app`] and calls [`Core::rotate_secret`]; nothing is decided
//! here.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;
use sixin_core::Core;

/// Replaces the secret of the app with `key` and prints the new one (the only time it is
/// shown) and until when the old one is still accepted.
pub async fn rotate_secret(
    core: &Core,
    key: &str,
    grace_secs: Option<u64>,
    as_json: bool,
) -> anyhow::Result<()> {
    let caller = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let app = core
        .rotate_secret(&caller, grace_secs.map(Duration::from_secs))
        .await?;
    let until = app.previous_secret.as_ref().map_or(0, |p| p.until.0);
    if as_json {
        println!(
            "{}",
            json!({
                "app_key": app.key.as_str(),
                "app_secret": app.secret.0,
                "previous_secret_until": until,
            })
        );
    } else {
        println!("app_key:     {}", app.key);
        println!("app_secret:  {}", app.secret.0);
        println!("previous_secret_until: {until} (Unix ms; the old secret works until then)");
        println!("Keep the secret safe: it is not shown again.");
    }
    Ok(())
}
