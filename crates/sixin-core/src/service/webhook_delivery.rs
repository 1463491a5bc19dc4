//! The delivery worker's calls. The worker (an adapter: `sixin-webhooks`) only moves bytes
//! over HTTP; the core decides which endpoint queues a node works ([`Core::claim_webhooks`]),
//! what to send next and how it is signed ([`Core::next_webhook_attempt`]), and what an answer
//! means ([`Core::settle_webhook_attempt`]): 2xx delivered, anything else tried again on the
//! retry schedule until its time runs out.
//!
//! Each endpoint's queue is delivered strictly in outbox order: the first pending delivery is
//! tried until it is settled, and only then the next; events the endpoint does not subscribe
//! to are marked `skipped` without a request.

use std::time::Duration;

use crate::error::Result;
use crate::ids::{OutboxId, Timestamp, WebhookId};
use crate::webhook::model::AttemptRecord;
use crate::webhook::{sign, QueuedDelivery, Settle, Settlement, Webhook};
use crate::Core;

/// How many pending deliveries one look at a queue reads.
const HEAD: u32 = 32;

/// One POST the worker is to make.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub webhook: WebhookId,
    pub outbox: OutboxId,
    pub url: String,
    /// The request body, sent as `application/json`.
    pub body: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: [(&'static str, String); 3],
    attempts: u32,
    queued_at: Timestamp,
}

impl Attempt {
    fn new(endpoint: &Webhook, d: QueuedDelivery, now: Timestamp) -> Attempt {
        let id = sign::webhook_id(d.outbox);
        let ts = now.unix_seconds();
        let signature = sign::signature(&endpoint.secret, &id, ts, &d.payload);
        Attempt {
            webhook: endpoint.id,
            outbox: d.outbox,
            url: endpoint.url.clone(),
            body: d.payload,
            headers: [
                ("webhook-id", id),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", signature),
            ],
            attempts: d.attempts,
            queued_at: d.queued_at,
        }
    }
}

/// What to do next for an endpoint whose lease this node holds.
#[derive(Debug, Clone)]
pub enum Next {
    /// Make this request, then settle it.
    Send(Attempt),
    /// The first pending delivery is not due yet: look again after this long.
    Wait(Duration),
    /// Nothing is pending: the lease has been given up.
    Idle,
    /// The lease is gone (expired and taken, or the endpoint was paused or deleted): stop.
    Lost,
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered with this HTTP status.
    Answered(u16),
    /// No answer: the connection failed, the request timed out, or the target was refused.
    NoAnswer(String),
}

/// The longest error text recorded for a delivery.
const MAX_ERROR_CHARS: usize = 500;

impl Core {
    /// Takes for `node` the leases of at most `limit` endpoints that have a delivery due and
    /// no live lease, for [`WebhookPolicy::lease`](crate::webhook::WebhookPolicy::lease).
    pub async fn claim_webhooks(&self, node: &str, limit: u32) -> Result<Vec<WebhookId>> {
        let now = self.now();
        let until = now.plus(self.config().webhooks.lease);
        Ok(self.store().claim_webhooks(node, now, until, limit).await?)
    }

    /// Extends the leases `node` still holds among `ids`; those ids.
    pub async fn renew_webhooks(&self, node: &str, ids: &[WebhookId]) -> Result<Vec<WebhookId>> {
        let until = self.now().plus(self.config().webhooks.lease);
        Ok(self.store().renew_webhooks(node, ids, until).await?)
    }

    /// Gives up `node`'s lease on an endpoint (another node may take it at once).
    pub async fn release_webhook(&self, node: &str, id: WebhookId) -> Result<()> {
        Ok(self.store().release_webhook(node, id).await?)
    }

    /// The next step for an endpoint whose lease `node` holds: skips the deliveries at the head
    /// of the queue the endpoint does not subscribe to, then the first wanted one is sent when
    /// due, or waited for.
    pub async fn next_webhook_attempt(&self, node: &str, id: WebhookId) -> Result<Next> {
        loop {
            let now = self.now();
            let Some(queue) = self.store().webhook_queue(node, id, now, HEAD).await? else {
                return Ok(Next::Lost);
            };
            if queue.head.is_empty() {
                self.release_webhook(node, id).await?;
                return Ok(Next::Idle);
            }
            let wants = |d: &QueuedDelivery| queue.endpoint.events.wants(&d.kind);
            let skipped: Vec<Settle> = queue
                .head
                .iter()
                .take_while(|d| !wants(d))
                .map(|d| Settle {
                    outbox: d.outbox,
                    settlement: Settlement::Skipped,
                    attempt: None,
                })
                .collect();
            if !skipped.is_empty() {
                if !self.store().settle_webhook(node, id, now, skipped).await? {
                    return Ok(Next::Lost);
                }
                continue;
            }
            let first = queue
                .head
                .into_iter()
                .next()
                .expect("the head is not empty");
            if first.next_attempt_at > now {
                let ms = u64::try_from(first.next_attempt_at.0 - now.0).unwrap_or(0);
                return Ok(Next::Wait(Duration::from_millis(ms)));
            }
            return Ok(Next::Send(Attempt::new(&queue.endpoint, first, now)));
        }
    }

    /// Records what came of `attempt`: a 2xx answer delivers it; anything else schedules the
    /// next try ([`RetrySchedule`](crate::webhook::RetrySchedule)) or, once its retry time is
    /// over, marks it failed. `false` when `node` no longer holds the lease (nothing recorded:
    /// the new holder tries it again).
    pub async fn settle_webhook_attempt(
        &self,
        node: &str,
        attempt: &Attempt,
        outcome: Outcome,
    ) -> Result<bool> {
        let now = self.now();
        let (status, error) = match &outcome {
            Outcome::Answered(s) if (200..300).contains(s) => (Some(*s), None),
            Outcome::Answered(s) => (Some(*s), Some(format!("the endpoint answered {s}"))),
            Outcome::NoAnswer(why) => (None, Some(why.chars().take(MAX_ERROR_CHARS).collect())),
        };
        let settlement = if error.is_none() {
            Settlement::Delivered
        } else {
            let tries = attempt.attempts.saturating_add(1);
            let retry = self.config().webhooks.retry;
            match retry.after_failure(tries, attempt.queued_at, now, rand::random::<f64>()) {
                Some(at) => Settlement::Retry(at),
                None => Settlement::Failed,
            }
        };
        let settle = Settle {
            outbox: attempt.outbox,
            settlement,
            attempt: Some(AttemptRecord {
                at: now,
                status,
                error,
            }),
        };
        Ok(self
            .store()
            .settle_webhook(node, attempt.webhook, now, vec![settle])
            .await?)
    }

    /// Whether the worker may connect to `ip` for a delivery
    /// ([`target::address_allowed`](crate::webhook::target::address_allowed) under the
    /// configured policy).
    pub fn webhook_address_allowed(&self, ip: std::net::IpAddr) -> bool {
        crate::webhook::target::address_allowed(ip, self.config().webhooks.allow_private_targets)
    }
}
