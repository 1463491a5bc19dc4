//! Webhook endpoints, what they subscribe to, and the deliveries of outbox events to them.

use std::fmt;

use crate::error::{Error, Result};
use crate::ids::{AppId, OutboxId, Timestamp, WebhookId};

use super::event;

/// An endpoint's signing secret: `whsec_` followed by the base64 of 32 random bytes, the form
/// the Standard Webhooks libraries take. Shown to the app's backend when the endpoint is
/// created and when the secret is rotated, never otherwise.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(pub String);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Which event types an endpoint wants. Stored as `*` or as a JSON array of type names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every event type, including ones added in later versions.
    All,
    /// Only these types (known ones, no duplicates, in the order given).
    Only(Vec<String>),
}

impl Subscription {
    /// The subscription a client asked for: `["*"]` (or nothing) for every type, else a list
    /// of known types ([`event::TYPES`]). [`Error::Invalid`] (`events`) otherwise.
    pub fn from_request(types: Option<&[String]>) -> Result<Subscription> {
        let Some(types) = types else {
            return Ok(Subscription::All);
        };
        if types.len() == 1 && types[0] == "*" {
            return Ok(Subscription::All);
        }
        if types.is_empty() {
            return Err(Error::invalid(
                "events",
                "must list at least one event type, or be [\"*\"] for all",
            ));
        }
        let mut wanted: Vec<String> = Vec::with_capacity(types.len());
        for t in types {
            if !event::TYPES.contains(&t.as_str()) {
                return Err(Error::invalid(
                    "events",
                    format!(
                        "unknown event type {t:?} (known: {})",
                        event::TYPES.join(", ")
                    ),
                ));
            }
            if !wanted.contains(t) {
                wanted.push(t.clone());
            }
        }
        Ok(Subscription::Only(wanted))
    }

    /// The stored form: `*`, or a JSON array of type names.
    pub fn stored(&self) -> String {
        match self {
            Subscription::All => "*".to_owned(),
            Subscription::Only(types) => serde_json::Value::from(types.clone()).to_string(),
        }
    }

    /// Reads the stored form back; `None` if it is neither `*` nor an array of strings.
    pub fn from_stored(s: &str) -> Option<Subscription> {
        if s == "*" {
            return Some(Subscription::All);
        }
        let types: Vec<String> = serde_json::from_str(s).ok()?;
        Some(Subscription::Only(types))
    }

    /// The types as a list (`["*"]` for all).
    pub fn types(&self) -> Vec<String> {
        match self {
            Subscription::All => vec!["*".to_owned()],
            Subscription::Only(types) => types.clone(),
        }
    }

    /// Whether an endpoint with this subscription receives events of type `kind`. A test
    /// event ([`event::TEST`]) is always wanted: the backend asked for it.
    pub fn wants(&self, kind: &str) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(types) => kind == event::TEST || types.iter().any(|t| t == kind),
        }
    }
}

/// A webhook endpoint of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub app: AppId,
    pub url: String,
    pub secret: WebhookSecret,
    pub events: Subscription,
    /// A paused endpoint (`false`) gets no deliveries queued for the changes made meanwhile
    /// and has its queue left as it is until resumed.
    pub enabled: bool,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new endpoint, its URL and description already checked and its secret generated.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub secret: WebhookSecret,
    pub events: Subscription,
    pub enabled: bool,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Subscription>,
    pub enabled: Option<bool>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    /// A new secret (rotation).
    pub secret: Option<WebhookSecret>,
    pub updated_at: Timestamp,
}

/// Where one event stands with one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its turn or for its next try.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every try failed until the retry time ran out.
    Failed,
    /// The endpoint does not subscribe to the event's type: nothing was sent.
    Skipped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One event's delivery to one endpoint, as the deliveries API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub outbox: OutboxId,
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the event was committed.
    pub created_at: Timestamp,
    /// When it was queued for this endpoint (at the commit, or by a replay).
    pub queued_at: Timestamp,
    /// While pending: not before when it is tried (next).
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last try, if the endpoint answered.
    pub last_status: Option<u16>,
    /// Why the last try failed, if it did.
    pub last_error: Option<String>,
}

/// A page of an endpoint's deliveries: by outbox position, after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub after: Option<OutboxId>,
    pub limit: u32,
}

/// A pending delivery of an endpoint's queue, with what posting it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedDelivery {
    pub outbox: OutboxId,
    pub kind: String,
    /// The request body, exactly as signed and sent.
    pub payload: String,
    pub attempts: u32,
    pub queued_at: Timestamp,
    pub next_attempt_at: Timestamp,
}

/// An endpoint whose queue this node holds, and the first pending deliveries of the queue in
/// outbox order.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookQueue {
    pub endpoint: Webhook,
    pub head: Vec<QueuedDelivery>,
}

/// What becomes of a pending delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Delivered,
    Skipped,
    Failed,
    /// Still pending; try again at this time.
    Retry(Timestamp),
}

/// The outcome of one delivery step, as the store records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settle {
    pub outbox: OutboxId,
    pub settlement: Settlement,
    /// The try that led here (`None` for a skip): when, and what came back.
    pub attempt: Option<AttemptRecord>,
}

/// One try at posting an event.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub at: Timestamp,
    pub status: Option<u16>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn subscriptions_are_all_or_known_types() {
        assert_eq!(Subscription::from_request(None).unwrap(), Subscription::All);
        let star = strings(&["*"]);
        assert_eq!(
            Subscription::from_request(Some(&star)).unwrap(),
            Subscription::All
        );
        let some = strings(&["message.created", "member.banned", "message.created"]);
        let sub = Subscription::from_request(Some(&some)).unwrap();
        assert_eq!(
            sub,
            Subscription::Only(strings(&["message.created", "member.banned"]))
        );
        assert!(Subscription::from_request(Some(&[])).is_err());
        assert!(Subscription::from_request(Some(&strings(&["message.sent"]))).is_err());
        assert!(Subscription::from_request(Some(&strings(&["*", "member.banned"]))).is_err());
        let stored = sub.stored();
        assert_eq!(Subscription::from_stored(&stored), Some(sub));
        assert_eq!(Subscription::from_stored("*"), Some(Subscription::All));
        assert_eq!(Subscription::from_stored("nonsense"), None);
    }

    #[test]
    fn an_endpoint_wants_what_it_subscribed_to_and_test_events() {
        let sub = Subscription::Only(strings(&["message.created"]));
        assert!(sub.wants("message.created"));
        assert!(!sub.wants("message.recalled"));
        assert!(sub.wants(event::TEST));
        assert!(Subscription::All.wants("member.erased"));
    }
}
