//! [`AppState`]: what every handler and middleware shares. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use sixin_core::Core;
use tokio::sync::watch;

use crate::ops::Metrics;

/// Shared by every request: the core, request metrics, and settings the middleware needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) core: Core,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) request_timeout: Duration,
    /// Access lines at `info` (else `debug`).
    pub(crate) access_log: bool,
    /// The longest request target (path and query) accepted.
    pub(crate) max_uri_bytes: usize,
    /// Heartbeat and timeouts of event streams.
    pub(crate) events: crate::EventStreamConfig,
    /// Flips to `true` when the node begins shutting down; event streams then close.
    pub(crate) shutdown: watch::Sender<bool>,
    /// Peers whose `X-Forwarded-For` is believed (see `client_ip`).
    pub(crate) trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl AppState {
    pub(crate) fn new(core: Core, cfg: &crate::HttpConfig, shutdown: &crate::Shutdown) -> Self {
        AppState {
            core,
            metrics: Arc::new(Metrics::default()),
            request_timeout: cfg.request_timeout,
            access_log: cfg.access_log,
            max_uri_bytes: cfg.max_uri_bytes,
            events: cfg.events.clone(),
            shutdown: shutdown.0.clone(),
            trusted_proxies: cfg.trusted_proxies.iter().copied().collect(),
        }
    }
}
