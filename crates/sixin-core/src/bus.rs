//! The [`Bus`]: after a write commits, the core publishes an [`Event`] so connected clients hear
//! of it. The store is the source of truth: every event is also appended, in the write's own
//! transaction, to the stream of each member it concerns, with that member's next
//! [`Position`]. The bus only carries the news; a subscriber that sees a position gap, lags, or
//! gets [`Signal::Gap`] catches up from the store. [`LocalBus`] serves one node; a NATS
//! implementation lets several nodes share events.
//!
//! The bus also carries [`Revocation`]s: after a logout or a ban commits, the open event
//! streams of the sessions it ended close at once, on every node. A lost revocation only
//! delays that until the stream's next session check (each heartbeat).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::ids::{
    AppId, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp, TokenHash,
};
use crate::model::{Delivery, Message};

/// Something that happened, and the stream position it took for each member it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub app: AppId,
    pub kind: EventKind,
    /// One entry per member who may receive this event; nobody else may.
    pub deliveries: Vec<Delivery>,
    pub created_at: Timestamp,
}

/// What happened. The same value is stored in each member's stream and sent live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A new message was committed.
    Message { message: Message },
    /// A member read one message (`message`) or everything up to `last_read`.
    Read {
        conversation: ConversationId,
        reader: MemberUuid,
        last_read: MessageId,
        message: Option<MessageId>,
    },
    /// The sender recalled a message; it now has empty data and `recalled_at`.
    Recalled { message: Message },
    /// The member hid a message for themself (on another device).
    Hidden {
        conversation: ConversationId,
        message: MessageId,
    },
    /// Group membership changed.
    Membership {
        conversation: ConversationId,
        added: Vec<MemberUuid>,
        removed: Vec<MemberUuid>,
    },
}

/// An event in the form a store keeps it: the kind's name, the conversation, the message it
/// concerns, and the rest as JSON. [`EventKind::record`] and [`EventKind::from_record`] are
/// the only translation between the two, so the store never names or interprets an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub name: &'static str,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub data: Value,
}

/// A stored event that does not decode: an unknown name or data of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt `{name}` event: {what}")]
pub struct CorruptEvent {
    pub name: String,
    pub what: &'static str,
}

impl EventKind {
    /// The names events are stored under.
    pub const NAMES: [&'static str; 5] = ["message", "read", "recalled", "hidden", "membership"];

    /// The stored form of this event.
    pub fn record(&self) -> EventRecord {
        let (name, conversation, message, data) = match self {
            EventKind::Message { message } => {
                ("message", message.conversation, Some(message.id), json!({}))
            }
            EventKind::Recalled { message } => (
                "recalled",
                message.conversation,
                Some(message.id),
                json!({}),
            ),
            EventKind::Hidden {
                conversation,
                message,
            } => ("hidden", *conversation, Some(*message), json!({})),
            EventKind::Read {
                conversation,
                reader,
                last_read,
                message,
            } => (
                "read",
                *conversation,
                *message,
                json!({ "reader": reader, "last_read": last_read.0 }),
            ),
            EventKind::Membership {
                conversation,
                added,
                removed,
            } => (
                "membership",
                *conversation,
                None,
                json!({ "added": added, "removed": removed }),
            ),
        };
        EventRecord {
            name,
            conversation,
            message,
            data,
        }
    }

    /// Decodes a stored event. `message` is the stored message `record.message` names, as it
    /// now is (message and recall events carry it).
    pub fn from_record(
        name: &str,
        conversation: ConversationId,
        message_id: Option<MessageId>,
        data: &Value,
        message: Option<Message>,
    ) -> Result<EventKind, CorruptEvent> {
        let corrupt = |what| CorruptEvent {
            name: name.to_owned(),
            what,
        };
        let uuid = |v: &Value| {
            v.as_str()
                .and_then(MemberUuid::parse)
                .ok_or_else(|| corrupt("uuid"))
        };
        let uuids = |v: &Value| -> Result<Vec<MemberUuid>, CorruptEvent> {
            v.as_array()
                .ok_or_else(|| corrupt("member list"))?
                .iter()
                .map(uuid)
                .collect()
        };
        Ok(match name {
            "message" => EventKind::Message {
                message: message.ok_or_else(|| corrupt("message"))?,
            },
            "recalled" => EventKind::Recalled {
                message: message.ok_or_else(|| corrupt("message"))?,
            },
            "hidden" => EventKind::Hidden {
                conversation,
                message: message_id.ok_or_else(|| corrupt("message id"))?,
            },
            "read" => EventKind::Read {
                conversation,
                reader: uuid(&data["reader"])?,
                last_read: MessageId(
                    data["last_read"]
                        .as_i64()
                        .ok_or_else(|| corrupt("last_read"))?,
                ),
                message: message_id,
            },
            "membership" => EventKind::Membership {
                conversation,
                added: uuids(&data["added"])?,
                removed: uuids(&data["removed"])?,
            },
            _ => return Err(corrupt("name")),
        })
    }
}

/// One event as one member sees it in their stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberEvent {
    pub position: Position,
    /// The member's total unread count right after this event.
    pub unread_total: u64,
    pub created_at: Timestamp,
    pub kind: EventKind,
}

impl Event {
    /// This event as `member` sees it, if it concerns them.
    pub fn for_member(&self, member: crate::ids::MemberId) -> Option<MemberEvent> {
        let d = self.deliveries.iter().find(|d| d.member == member)?;
        Some(MemberEvent {
            position: d.position,
            unread_total: d.unread_total,
            created_at: self.created_at,
            kind: self.kind.clone(),
        })
    }
}

/// Sessions that have ended (already committed to the store): their event streams must close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub app: AppId,
    pub member: MemberId,
    /// The one session that ended (logout), or `None` for every session of the member (ban).
    pub session: Option<TokenHash>,
}

impl Revocation {
    /// Whether a stream opened with session `token` of `member` in `app` has ended.
    pub fn ends(&self, app: AppId, member: MemberId, token: &TokenHash) -> bool {
        self.app == app && self.member == member && self.session.as_ref().is_none_or(|s| s == token)
    }
}

/// What subscribers receive.
#[derive(Debug, Clone)]
pub enum Signal {
    Event(Arc<Event>),
    /// Events may have been missed (for example the bus reconnected): catch up from the store.
    Gap,
    /// Sessions ended: their streams close.
    Revoked(Arc<Revocation>),
}

/// Publishes committed events to subscribers, on this node or across nodes.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event. Never blocks on slow subscribers; one that falls behind lags and
    /// catches up from the store.
    async fn publish(&self, event: Event);
    /// Publishes a committed revocation to every node, never blocking. Best effort: a stream
    /// that misses it still ends at its next session check.
    async fn revoke(&self, revocation: Revocation);
    /// Receives every signal from now on.
    fn subscribe(&self) -> broadcast::Receiver<Signal>;
}

/// An in-process bus over a bounded tokio broadcast channel.
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<Signal>,
}

impl LocalBus {
    /// A bus whose subscribers may fall `capacity` signals behind before they lag.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        LocalBus { tx }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus::new(4096)
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, event: Event) {
        // An error only means nobody is subscribed right now, which is fine.
        let _ = self.tx.send(Signal::Event(Arc::new(event)));
    }

    async fn revoke(&self, revocation: Revocation) {
        let _ = self.tx.send(Signal::Revoked(Arc::new(revocation)));
    }

    fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }
}
