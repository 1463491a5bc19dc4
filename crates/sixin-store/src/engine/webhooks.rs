//! [`WebhookStore`] for [`Db`]: each method one job, as in the parent module.

use async_trait::async_trait;
use sixin_core::ids::{AppId, OutboxId, Timestamp, WebhookId};
use sixin_core::model::Page;
use sixin_core::store::StoreResult;
use sixin_core::webhook::store::Replayed;
use sixin_core::webhook::{
    DeliveryQuery, DeliveryRecord, NewWebhook, OutboxEntry, Settle, Webhook, WebhookChange,
    WebhookQueue, WebhookStore,
};

use super::{job, Backend, Db};
use crate::ops::{webhook_queue, webhooks};

#[async_trait]
impl<B: Backend> WebhookStore for Db<B> {
    async fn create_webhook(&self, app: AppId, new: NewWebhook) -> StoreResult<Webhook> {
        write!(self, |ex| webhooks::create_webhook(ex, app, new))
    }
    async fn webhooks(&self, app: AppId) -> StoreResult<Vec<Webhook>> {
        read!(self, |ex| webhooks::webhooks(ex, app))
    }
    async fn webhook(&self, app: AppId, id: WebhookId) -> StoreResult<Option<Webhook>> {
        read!(self, |ex| webhooks::webhook(ex, app, id))
    }
    async fn update_webhook(
        &self,
        app: AppId,
        id: WebhookId,
        change: WebhookChange,
    ) -> StoreResult<Option<Webhook>> {
        write!(self, |ex| webhooks::update_webhook(ex, app, id, change))
    }
    async fn delete_webhook(&self, app: AppId, id: WebhookId) -> StoreResult<bool> {
        write!(self, |ex| webhooks::delete_webhook(ex, app, id))
    }
    async fn webhook_deliveries(
        &self,
        app: AppId,
        id: WebhookId,
        query: DeliveryQuery,
    ) -> StoreResult<Option<Page<DeliveryRecord>>> {
        read!(self, |ex| webhooks::deliveries(ex, app, id, query))
    }
    async fn replay_webhook(
        &self,
        app: AppId,
        id: WebhookId,
        from: OutboxId,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Option<Replayed>> {
        write!(self, |ex| webhooks::replay(ex, app, id, from, limit, now))
    }
    async fn queue_webhook_event(
        &self,
        app: AppId,
        id: WebhookId,
        entry: OutboxEntry,
    ) -> StoreResult<Option<OutboxId>> {
        write!(self, |ex| webhooks::queue_event(ex, app, id, entry))
    }

    /// A read finds the candidates, so that idle polling writes nothing; only when there are
    /// some does a write take their leases, conditionally.
    async fn claim_webhooks(
        &self,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<WebhookId>> {
        let due = read!(self, |ex| webhook_queue::due(ex, now, limit))?;
        if due.is_empty() {
            return Ok(due);
        }
        let node = node.to_owned();
        write!(self, |ex| webhook_queue::take(ex, &node, &due, now, until))
    }
    async fn renew_webhooks(
        &self,
        node: &str,
        ids: &[WebhookId],
        until: Timestamp,
    ) -> StoreResult<Vec<WebhookId>> {
        let (node, ids) = (node.to_owned(), ids.to_vec());
        write!(self, |ex| webhook_queue::renew(ex, &node, &ids, until))
    }
    async fn release_webhook(&self, node: &str, id: WebhookId) -> StoreResult<()> {
        let node = node.to_owned();
        write!(self, |ex| webhook_queue::release(ex, &node, id))
    }
    async fn webhook_queue(
        &self,
        node: &str,
        id: WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Option<WebhookQueue>> {
        let node = node.to_owned();
        read!(self, |ex| webhook_queue::queue(ex, &node, id, now, limit))
    }
    async fn settle_webhook(
        &self,
        node: &str,
        id: WebhookId,
        now: Timestamp,
        settles: Vec<Settle>,
    ) -> StoreResult<bool> {
        let node = node.to_owned();
        write!(self, |ex| webhook_queue::settle(
            ex, &node, id, now, settles
        ))
    }
}
