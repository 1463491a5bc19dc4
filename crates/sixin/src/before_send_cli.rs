//! `sixin app before-send`: the operator's side of `PUT/DELETE /v1/server/app/before-send`,
//! through the same core operations (checked there: URL targets, timeout bounds).

use anyhow::Context as _;
use serde_json::json;
use sixin_core::service::{before_send_json, BeforeSendSpec};
use sixin_core::webhook::OnFailure;
use sixin_core::Core;

/// `allow` or `reject`.
pub fn parse_on_failure(s: &str) -> Result<OnFailure, String> {
    match s {
        "allow" => Ok(OnFailure::Allow),
        "reject" => Ok(OnFailure::Reject),
        _ => Err("must be allow or reject".to_owned()),
    }
}

/// Sets (`Some`) or removes (`None`) the hook of the app with `key`; prints
/// `{"app_key", "before_send"}` (with the new secret when set; `null` when removed).
pub async fn run(core: &Core, key: &str, spec: Option<BeforeSendSpec>) -> anyhow::Result<()> {
    let caller = core
        .act_for_app(key)
        .await
        .with_context(|| format!("app {key}"))?;
    let app = match spec {
        Some(spec) => core.set_before_send(&caller, spec).await?,
        None => core.clear_before_send(&caller).await?,
    };
    let hook = app.before_send.as_ref().map(|h| before_send_json(h, true));
    println!(
        "{}",
        json!({"app_key": app.key.as_str(), "before_send": hook})
    );
    Ok(())
}
