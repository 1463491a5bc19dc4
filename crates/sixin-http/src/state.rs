//! [`AppState`]: what every handler and middleware shares. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use sixin_core::Core;

use crate::ops::Metrics;

/// Shared by every request: the core, request metrics, and settings the middleware needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) core: Core,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) request_timeout: Duration,
}

impl AppState {
    pub(crate) fn new(core: Core, request_timeout: Duration) -> Self {
        AppState {
            core,
            metrics: Arc::new(Metrics::default()),
            request_timeout,
        }
    }
}
