//! `sixin app set-limits`: the operator's per-app override of the rate limits (keys as in
//! `[limits]`), validated by the core and stored with the app, so every node applies it.

use anyhow::Context as _;
use serde_json::{json, Value};
use sixin_core::Core;

/// Sets (`over`: a JSON object) or clears (`None`) the rate-limit override of the app with
/// `key`, then prints `{"app_key", "limits" (the override, or null), "effective"}` as JSON.
pub async fn set_limits(core: &Core, key: &str, over: Option<&str>) -> anyhow::Result<()> {
    let caller = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let over = over
        .map(|text| serde_json::from_str::<Value>(text).context("--json is not valid JSON"))
        .transpose()?;
    let app = core.set_limits(&caller, over).await?;
    let shown = json!({
        "app_key": app.key.as_str(),
        "limits": app.limits,
        "effective": core.limits_for(&app),
    });
    println!("{shown}");
    Ok(())
}
