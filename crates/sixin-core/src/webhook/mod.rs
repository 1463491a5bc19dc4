//! Webhooks: what an app's backend hears of the changes in its app, delivered from a durable
//! outbox. Every change an endpoint may want is written to the outbox in the same store
//! transaction as the change itself (with one pending delivery per enabled endpoint of the
//! app); a delivery worker then posts each event to each endpoint, in outbox order, signed as
//! the Standard Webhooks specification describes, retrying until delivered or out of time.
//!
//! Everything decided about webhooks is decided here, as pure functions the store and the
//! worker call:
//! - [`event`]: the event types and the JSON payload of each ([`OutboxEntry`]).
//! - [`model`]: endpoints, their subscriptions ([`Subscription::wants`]) and deliveries.
//! - [`sign`]: endpoint secrets (`whsec_…`) and the `webhook-signature` header.
//! - [`retry`]: when a failed delivery is tried again, or given up ([`RetrySchedule`]).
//! - [`target`]: which URLs an endpoint may have (http(s), no private addresses by default).
//! - [`store`]: [`WebhookStore`], the store methods behind endpoints, the outbox and leases.

pub mod before_send;
pub mod event;
pub mod model;
pub mod retry;
pub mod sign;
pub mod store;
pub mod target;

use std::time::Duration;

pub use before_send::{BeforeSendHook, HookAnswer, HookCaller, HookRequest, OnFailure};
pub use event::{MemberChange, MemberFacts, OutboxEntry};
pub use model::{
    AttemptRecord, DeliveryQuery, DeliveryRecord, DeliveryStatus, NewWebhook, QueuedDelivery,
    Settle, Settlement, Subscription, Webhook, WebhookChange, WebhookQueue, WebhookSecret,
};
pub use retry::RetrySchedule;
pub use store::WebhookStore;

/// The operator's webhook settings the core applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Whether endpoint URLs may name private, loopback or link-local addresses (refused by
    /// default, so an app's backend cannot make sixin call into the operator's network).
    pub allow_private_targets: bool,
    /// When failed deliveries are tried again, and for how long.
    pub retry: RetrySchedule,
    /// How long a node's claim on an endpoint's queue lasts unless renewed: how soon another
    /// node takes over the queue of a node that died.
    pub lease: Duration,
    /// How long settled deliveries (delivered, failed, skipped) and their outbox entries are
    /// kept before [`Core::prune`](crate::Core::prune) deletes them; pending ones are kept.
    pub retention: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        WebhookPolicy {
            allow_private_targets: false,
            retry: RetrySchedule::default(),
            lease: Duration::from_secs(10),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}
