//! sixin-webhooks: the delivery worker, an adapter that posts the apps' outbox events to their
//! webhook endpoints over HTTP. It decides nothing: the core says which endpoint queues this
//! node works, what to send next and how it is signed, and what an answer means
//! (`sixin_core::service::webhook_delivery`).
//!
//! - [`Worker`]: the node's loop: every `poll_interval` it claims endpoints with a delivery
//!   due (each held by one node at a time through a lease in the database), renews the leases
//!   it holds, and runs one task per claimed endpoint that delivers its queue in order.
//! - [`HookClient`]: calls the apps' before-send hooks (the core decides what they answer).
//! - `http`: the HTTP client: one POST per try, with a per-try timeout, no redirects, and
//!   every address a host name resolves to checked against the target policy.
//!
//! Delivery is at least once: a node that dies between a request and recording its answer
//! leaves the delivery pending, and the node that takes the queue over sends it again with
//! the same `webhook-id`.

mod hook;
mod http;
mod worker;

use std::time::Duration;

pub use hook::HookClient;
pub use worker::Worker;

/// How the worker delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// How long one try may take (connecting, sending, and the endpoint's answer).
    pub timeout: Duration,
    /// How often the node looks for endpoints with a delivery due.
    pub poll_interval: Duration,
    /// The most endpoints this node delivers to at once.
    pub max_endpoints: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            max_endpoints: 64,
        }
    }
}
