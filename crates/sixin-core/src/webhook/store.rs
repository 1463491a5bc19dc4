//! [`WebhookStore`]: the store methods behind webhooks, part of every [`Store`](crate::Store).
//!
//! Besides these, every store write that makes a change an endpoint may want (see
//! [`event`](super::event)) writes that change to the outbox in its own transaction, with one
//! pending delivery per enabled endpoint of the app, and writes nothing when the app has no
//! enabled endpoint; a change that is refused or rolled back writes no outbox row.
//!
//! Delivery: each endpoint's queue is worked by one node at a time, the holder of the
//! endpoint's lease (`node`, until a time), taken when free or expired and renewed while the
//! node works. Every delivery method checks the lease in the same statement it writes with, so
//! a node that lost its lease writes nothing.

use async_trait::async_trait;

use crate::ids::{AppId, OutboxId, Timestamp, WebhookId};
use crate::model::Page;
use crate::store::StoreResult;

use super::{
    DeliveryQuery, DeliveryRecord, NewWebhook, OutboxEntry, Settle, Webhook, WebhookChange,
    WebhookQueue,
};

/// What a replay queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Events queued again.
    pub queued: u64,
    /// When the limit stopped the replay before the end of the outbox: the position to
    /// replay from for the rest.
    pub next_from: Option<OutboxId>,
}

/// Endpoints, their deliveries, and the leases of the delivery worker.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Creates an endpoint of `app`.
    async fn create_webhook(&self, app: AppId, new: NewWebhook) -> StoreResult<Webhook>;
    /// The app's endpoints, oldest first.
    async fn webhooks(&self, app: AppId) -> StoreResult<Vec<Webhook>>;
    /// One endpoint of the app; `None` if the app has no such endpoint.
    async fn webhook(&self, app: AppId, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Applies the changes given; `None` if the app has no such endpoint.
    async fn update_webhook(
        &self,
        app: AppId,
        id: WebhookId,
        change: WebhookChange,
    ) -> StoreResult<Option<Webhook>>;
    /// Deletes an endpoint with its deliveries; `false` if the app has no such endpoint.
    async fn delete_webhook(&self, app: AppId, id: WebhookId) -> StoreResult<bool>;
    /// The endpoint's deliveries in outbox order after `query.after`, with `query.status`
    /// only when given; `None` if the app has no such endpoint.
    async fn webhook_deliveries(
        &self,
        app: AppId,
        id: WebhookId,
        query: DeliveryQuery,
    ) -> StoreResult<Option<Page<DeliveryRecord>>>;
    /// Queues again for this endpoint, pending with no tries made and queued at `now`, the
    /// app's events still in the outbox from position `from` on, in order, at most `limit` of
    /// them (whatever became of them before: delivered, failed, skipped, or never queued for
    /// this endpoint); `None` if the app has no such endpoint.
    async fn replay_webhook(
        &self,
        app: AppId,
        id: WebhookId,
        from: OutboxId,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Option<Replayed>>;
    /// Writes `entry` to the outbox with a pending delivery for this one endpoint; `None`
    /// (nothing written) if the app has no such endpoint.
    async fn queue_webhook_event(
        &self,
        app: AppId,
        id: WebhookId,
        entry: OutboxEntry,
    ) -> StoreResult<Option<OutboxId>>;

    /// Takes for `node`, until `until`, the leases of at most `limit` enabled endpoints whose
    /// lease is free or expired at `now` and whose first pending delivery is due at `now`;
    /// their ids. Two nodes never both get one endpoint.
    async fn claim_webhooks(
        &self,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<WebhookId>>;
    /// Extends to `until` the leases `node` still holds among `ids`; those ids.
    async fn renew_webhooks(
        &self,
        node: &str,
        ids: &[WebhookId],
        until: Timestamp,
    ) -> StoreResult<Vec<WebhookId>>;
    /// Gives up `node`'s lease on the endpoint, if it holds it.
    async fn release_webhook(&self, node: &str, id: WebhookId) -> StoreResult<()>;
    /// While `node` holds the endpoint's lease at `now` and the endpoint is enabled: the
    /// endpoint and its first `limit` pending deliveries in outbox order. `None` otherwise.
    async fn webhook_queue(
        &self,
        node: &str,
        id: WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Option<WebhookQueue>>;
    /// Records what became of pending deliveries of the endpoint, in one transaction, only
    /// while `node` holds its lease at `now`: `false`, with nothing written, otherwise.
    async fn settle_webhook(
        &self,
        node: &str,
        id: WebhookId,
        now: Timestamp,
        settles: Vec<Settle>,
    ) -> StoreResult<bool>;
}
