//! Wiring: turns validated [`Settings`] into the running parts — the store named by the
//! database URL, the event bus (NATS when `nats.url` is set, else in-process), the system clock,
//! the [`Core`] over them, and the router.

use std::sync::Arc;
use std::time::Duration;

use sixin_core::{Bus, Core, CoreConfig, LocalBus, SystemClock};
use sixin_nats::{NatsBus, NatsError};
use sixin_store::{OpenError, StoreConfig};

use crate::config::Settings;

/// How long a stopping server waits for queued events to reach NATS.
const NATS_CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// Opens (creating and migrating if needed) the store and builds a [`Core`] over it that
/// publishes on `bus`.
///
/// Every subcommand goes through here: the CLI never touches the store except to build a core.
pub async fn core(
    store: &StoreConfig,
    cfg: &CoreConfig,
    bus: Arc<dyn Bus>,
) -> Result<Core, OpenError> {
    let url = sixin_store::redact(&store.url);
    let store = sixin_store::open(store).await?;
    tracing::debug!(database.url = %url, "database {url} open and migrated");
    Ok(Core::new(store, bus, Arc::new(SystemClock), cfg.clone()))
}

/// The bus of a serving node.
pub enum NodeBus {
    /// Events reach this node's clients only.
    Local(Arc<LocalBus>),
    /// Events reach every node connected to the same NATS with the same subject prefix.
    Nats(Arc<NatsBus>),
}

impl NodeBus {
    /// Connects to NATS when `nats.url` is set (failing if it cannot be reached now), else the
    /// in-process bus. Logs which one is in use.
    pub async fn connect(settings: &Settings) -> Result<NodeBus, NatsError> {
        let Some(nats) = &settings.nats else {
            tracing::info!("event bus: in-process (nats.url not set): events stay on this node");
            return Ok(NodeBus::Local(Arc::new(LocalBus::default())));
        };
        let bus = NatsBus::connect(&nats.url, nats.options.clone()).await?;
        tracing::info!(
            nats.url = %sixin_nats::redact(&nats.url),
            nats.subject_prefix = %nats.options.subject_prefix,
            nats.node = %bus.node_id(),
            "event bus: NATS at {} (subjects {}.*), shared with the other nodes",
            sixin_nats::redact(&nats.url),
            nats.options.subject_prefix
        );
        Ok(NodeBus::Nats(Arc::new(bus)))
    }

    /// The bus, as the core takes it.
    pub fn as_bus(&self) -> Arc<dyn Bus> {
        match self {
            NodeBus::Local(bus) => bus.clone(),
            NodeBus::Nats(bus) => bus.clone(),
        }
    }

    /// Sends what is still queued for NATS (bounded wait), then disconnects.
    pub async fn close(self) {
        if let NodeBus::Nats(bus) = self {
            match bus.close(NATS_CLOSE_WITHIN).await {
                Ok(()) => tracing::debug!("NATS bus closed"),
                Err(e) => tracing::warn!(error = %e, "closing the NATS bus: {e}"),
            }
        }
    }
}

/// The HTTP router over `core`, with the HTTP limits, event-stream timings and dialect settings
/// (YesApi time zone, PhalApi debug block) from `settings`; its event streams close when
/// `shutdown` begins.
pub fn router(core: Core, settings: &Settings, shutdown: &sixin_http::Shutdown) -> axum::Router {
    sixin_http::router_with_shutdown(core, settings.http.clone(), shutdown)
}
