//! Wiring: turns validated [`Settings`] into the running parts — the store named by the
//! database URL, the in-process bus, the system clock, the [`Core`] over them, and the router.

use std::sync::Arc;

use sixin_core::{Core, CoreConfig, LocalBus, SystemClock};
use sixin_store::{OpenError, StoreConfig};

use crate::config::Settings;

/// Opens (creating and migrating if needed) the store and builds a [`Core`] over it.
///
/// Every subcommand goes through here: the CLI never touches the store except to build a core.
pub async fn core(store: &StoreConfig, cfg: &CoreConfig) -> Result<Core, OpenError> {
    let url = sixin_store::redact(&store.url);
    let store = sixin_store::open(store).await?;
    tracing::debug!(database.url = %url, "database {url} open and migrated");
    Ok(Core::new(
        store,
        Arc::new(LocalBus::default()),
        Arc::new(SystemClock),
        cfg.clone(),
    ))
}

/// The HTTP router over `core`, with the HTTP limits and the dialect settings (YesApi time
/// zone, PhalApi debug block) from `settings`.
pub fn router(core: Core, settings: &Settings) -> axum::Router {
    sixin_http::router(core, settings.http.clone())
}
