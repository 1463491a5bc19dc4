//! Webhook endpoints, as the app's backend (server API) and the operator (CLI) manage them:
//! create, list, change (pause, resume, rotate the secret), delete; each endpoint's deliveries,
//! replays from a position, and test events. Every call is confined to the caller's app: another
//! app's endpoint is [`Error::NotFound`], as an unknown one.

use crate::caller::AppCaller;
use crate::error::{Entity, Error, Result};
use crate::ids::{OutboxId, WebhookId};
use crate::model::Page;
use crate::webhook::store::Replayed;
use crate::webhook::{
    event, target, DeliveryQuery, DeliveryRecord, DeliveryStatus, NewWebhook, Subscription,
    Webhook, WebhookChange, WebhookSecret,
};
use crate::Core;

/// The most endpoints one app may have.
pub const MAX_WEBHOOKS_PER_APP: usize = 20;
/// The most events one replay call queues; replay again from `next_from` for the rest.
pub const MAX_REPLAY: u32 = 10_000;

/// A new endpoint, as the backend describes it.
#[derive(Debug, Clone, Default)]
pub struct WebhookSpec {
    pub url: String,
    /// Event types; `None` or `["*"]`: every type.
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// `false` creates it paused.
    pub enabled: Option<bool>,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookEdit {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// Replace the signing secret with a fresh one (shown in the answer, this once).
    pub rotate_secret: bool,
}

impl Core {
    /// Creates an endpoint of the caller's app, with a fresh signing secret. [`Error::Invalid`]
    /// for a URL sixin may not call (see [`target`]), unknown event types, a bad description,
    /// or more than [`MAX_WEBHOOKS_PER_APP`] endpoints.
    pub async fn create_webhook(&self, caller: &AppCaller, spec: WebhookSpec) -> Result<Webhook> {
        let url = target::check_url(&spec.url, self.config().webhooks.allow_private_targets)?;
        let events = Subscription::from_request(spec.events.as_deref())?;
        let description = description(spec.description)?;
        let existing = self.store().webhooks(caller.app_id()).await?;
        if existing.len() >= MAX_WEBHOOKS_PER_APP {
            return Err(Error::invalid(
                "url",
                format!("an app may have at most {MAX_WEBHOOKS_PER_APP} webhook endpoints"),
            ));
        }
        let new = NewWebhook {
            url,
            secret: WebhookSecret::generate(),
            events,
            enabled: spec.enabled.unwrap_or(true),
            description,
            created_at: self.now(),
        };
        Ok(self.store().create_webhook(caller.app_id(), new).await?)
    }

    /// The app's endpoints, oldest first.
    pub async fn list_webhooks(&self, caller: &AppCaller) -> Result<Vec<Webhook>> {
        Ok(self.store().webhooks(caller.app_id()).await?)
    }

    /// One endpoint of the app.
    pub async fn get_webhook(&self, caller: &AppCaller, id: WebhookId) -> Result<Webhook> {
        self.store()
            .webhook(caller.app_id(), id)
            .await?
            .ok_or(Error::NotFound(Entity::Webhook))
    }

    /// Applies the changes given, checked as on creation. Pausing (`enabled: false`) stops
    /// queueing deliveries for later changes and leaves the queue as it is; resuming delivers
    /// it on.
    pub async fn update_webhook(
        &self,
        caller: &AppCaller,
        id: WebhookId,
        edit: WebhookEdit,
    ) -> Result<Webhook> {
        let allow = self.config().webhooks.allow_private_targets;
        let change = WebhookChange {
            url: edit.url.map(|u| target::check_url(&u, allow)).transpose()?,
            events: edit
                .events
                .map(|e| Subscription::from_request(Some(&e)))
                .transpose()?,
            enabled: edit.enabled,
            description: edit.description.map(description).transpose()?,
            secret: edit.rotate_secret.then(WebhookSecret::generate),
            updated_at: self.now(),
        };
        self.store()
            .update_webhook(caller.app_id(), id, change)
            .await?
            .ok_or(Error::NotFound(Entity::Webhook))
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_webhook(&self, caller: &AppCaller, id: WebhookId) -> Result<()> {
        if self.store().delete_webhook(caller.app_id(), id).await? {
            Ok(())
        } else {
            Err(Error::NotFound(Entity::Webhook))
        }
    }

    /// The endpoint's deliveries by outbox position after `after`, `status` only when given
    /// (`pending`, `delivered`, `failed`, `skipped`), `limit` 1..=100.
    pub async fn webhook_deliveries(
        &self,
        caller: &AppCaller,
        id: WebhookId,
        status: Option<&str>,
        after: Option<OutboxId>,
        limit: u32,
    ) -> Result<Page<DeliveryRecord>> {
        let status = status
            .map(|s| {
                DeliveryStatus::parse(s).ok_or_else(|| {
                    Error::invalid("status", "must be pending, delivered, failed or skipped")
                })
            })
            .transpose()?;
        let query = DeliveryQuery {
            status,
            after,
            limit: super::page_limit("limit", limit)?,
        };
        self.store()
            .webhook_deliveries(caller.app_id(), id, query)
            .await?
            .ok_or(Error::NotFound(Entity::Webhook))
    }

    /// Queues again for this endpoint the app's events still in the outbox from position
    /// `from` on (at most [`MAX_REPLAY`] per call), delivered in order before the rest of its
    /// queue, with the same `webhook-id`s as before and a fresh retry time.
    pub async fn replay_webhook(
        &self,
        caller: &AppCaller,
        id: WebhookId,
        from: OutboxId,
    ) -> Result<Replayed> {
        if from.0 < 0 {
            return Err(Error::invalid(
                "from",
                "must be an outbox position (0 or more)",
            ));
        }
        self.store()
            .replay_webhook(caller.app_id(), id, from, MAX_REPLAY, self.now())
            .await?
            .ok_or(Error::NotFound(Entity::Webhook))
    }

    /// Queues a `webhook.test` event for this endpoint only, delivered like any other; its
    /// outbox position.
    pub async fn test_webhook(&self, caller: &AppCaller, id: WebhookId) -> Result<OutboxId> {
        let entry = event::test_event(id, self.now());
        self.store()
            .queue_webhook_event(caller.app_id(), id, entry)
            .await?
            .ok_or(Error::NotFound(Entity::Webhook))
    }
}

/// A description: blank is none; else at most 500 characters without control characters.
fn description(d: Option<String>) -> Result<Option<String>> {
    match d {
        Some(d) if d.trim().is_empty() => Ok(None),
        Some(d) if d.chars().count() > 500 || d.chars().any(char::is_control) => {
            Err(Error::invalid(
                "description",
                "must be at most 500 characters without control characters",
            ))
        }
        other => Ok(other),
    }
}
