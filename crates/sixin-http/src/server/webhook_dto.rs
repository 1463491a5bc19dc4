//! Server API webhook bodies and query parameters, with their OpenAPI schemas. Times are Unix
//! milliseconds, as in the rest of `/v1`.

use serde::{Deserialize, Serialize};
use sixin_core::ids::OutboxId;
use sixin_core::model::Page;
use sixin_core::service::{WebhookEdit, WebhookSpec};
use sixin_core::webhook::store::Replayed;
use sixin_core::webhook::{sign, DeliveryRecord, Webhook};
use utoipa::{IntoParams, ToSchema};

/// Page size when the backend does not give `limit`.
const DEFAULT_LIMIT: u32 = 50;

/// Create an endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateWebhookRequest {
    /// Where events are posted: an absolute `http` or `https` URL (private, loopback and
    /// link-local addresses are refused unless the operator allows them).
    pub url: String,
    /// The event types wanted; `["*"]` (the default) for all, including types added later.
    pub events: Option<Vec<String>>,
    /// A note for people (at most 500 characters).
    pub description: Option<String>,
    /// `false` creates the endpoint paused. Default `true`.
    pub enabled: Option<bool>,
}

impl From<CreateWebhookRequest> for WebhookSpec {
    fn from(r: CreateWebhookRequest) -> Self {
        WebhookSpec {
            url: r.url,
            events: r.events,
            description: r.description,
            enabled: r.enabled,
        }
    }
}

/// Change an endpoint; fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `""` removes the description.
    pub description: Option<String>,
    /// `false` pauses the endpoint: no deliveries are queued for changes made while paused,
    /// and its queue waits. `true` resumes it.
    pub enabled: Option<bool>,
    /// `true` replaces the signing secret with a fresh one, shown in the answer this once.
    #[serde(default)]
    pub rotate_secret: bool,
}

impl From<UpdateWebhookRequest> for WebhookEdit {
    fn from(r: UpdateWebhookRequest) -> Self {
        WebhookEdit {
            url: r.url,
            events: r.events,
            description: r.description.map(Some),
            enabled: r.enabled,
            rotate_secret: r.rotate_secret,
        }
    }
}

/// An endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookDto {
    pub id: i64,
    pub url: String,
    /// The event types it receives; `["*"]`: all.
    pub events: Vec<String>,
    pub enabled: bool,
    pub description: Option<String>,
    /// The signing secret (`whsec_…`): only in the answer to a create or a secret rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl WebhookDto {
    /// The endpoint without its secret.
    pub(crate) fn of(w: &Webhook) -> WebhookDto {
        WebhookDto {
            id: w.id.0,
            url: w.url.clone(),
            events: w.events.types(),
            enabled: w.enabled,
            description: w.description.clone(),
            secret: None,
            created_at: w.created_at.0,
            updated_at: w.updated_at.0,
        }
    }

    /// The endpoint with its secret.
    pub(crate) fn with_secret(w: &Webhook) -> WebhookDto {
        WebhookDto {
            secret: Some(w.secret.0.clone()),
            ..WebhookDto::of(w)
        }
    }
}

/// The app's endpoints, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookListDto {
    pub webhooks: Vec<WebhookDto>,
}

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesParams {
    /// Only `pending`, `delivered`, `failed` or `skipped` ones.
    pub status: Option<String>,
    /// Only events after this outbox position (`next_after` of the previous page).
    pub after: Option<i64>,
    /// Page size, 1..=100 (default 50).
    pub limit: Option<u32>,
}

impl DeliveriesParams {
    pub(crate) fn after(&self) -> Option<OutboxId> {
        self.after.map(OutboxId)
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

/// One event's delivery to the endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryDto {
    /// The event's outbox position: deliveries to one endpoint are in this order.
    pub outbox_id: i64,
    /// The `webhook-id` header it is sent with, the same on every try and replay.
    pub webhook_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered`, `failed` or `skipped` (not subscribed: nothing sent).
    pub status: String,
    /// Tries made.
    pub attempts: u32,
    /// When the change was committed (Unix ms).
    pub created_at: i64,
    /// When it was queued for this endpoint: at the commit, or by a replay (Unix ms).
    pub queued_at: i64,
    /// While pending: not before when it is tried next (Unix ms).
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// The HTTP status the endpoint answered the last try with.
    pub last_status: Option<u16>,
    /// Why the last try failed.
    pub last_error: Option<String>,
}

impl From<&DeliveryRecord> for DeliveryDto {
    fn from(d: &DeliveryRecord) -> Self {
        DeliveryDto {
            outbox_id: d.outbox.0,
            webhook_id: sign::webhook_id(d.outbox),
            kind: d.kind.clone(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            created_at: d.created_at.0,
            queued_at: d.queued_at.0,
            next_attempt_at: d.next_attempt_at.map(|t| t.0),
            last_attempt_at: d.last_attempt_at.map(|t| t.0),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
        }
    }
}

/// A page of deliveries, in outbox order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryPageDto {
    pub deliveries: Vec<DeliveryDto>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next_after: Option<i64>,
}

impl From<&Page<DeliveryRecord>> for DeliveryPageDto {
    fn from(p: &Page<DeliveryRecord>) -> Self {
        DeliveryPageDto {
            deliveries: p.items.iter().map(DeliveryDto::from).collect(),
            next_after: p
                .has_more
                .then(|| p.items.last().map(|d| d.outbox.0))
                .flatten(),
        }
    }
}

/// Replay from an outbox position.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayRequest {
    /// The first outbox position (`outbox_id`) to deliver again.
    pub from: i64,
}

/// What a replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReplayedDto {
    /// Events queued again.
    pub queued: u64,
    /// When more events remain than one replay queues (10 000): replay again from here.
    pub next_from: Option<i64>,
}

impl From<Replayed> for ReplayedDto {
    fn from(r: Replayed) -> Self {
        ReplayedDto {
            queued: r.queued,
            next_from: r.next_from.map(|o| o.0),
        }
    }
}

/// A queued test event.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestQueuedDto {
    pub outbox_id: i64,
    /// The `webhook-id` it is sent with.
    pub webhook_id: String,
}
