//! The [`Bus`]: after a write commits, the core publishes an [`Event`] so connected clients hear
//! of it. The store is the source of truth: every event is also appended, in the write's own
//! transaction, to the stream of each member it concerns, with that member's next
//! [`Position`]. The bus only carries the news; a subscriber that sees a position gap, lags, or
//! gets [`Signal::Gap`] catches up from the store. [`LocalBus`] serves one node; a NATS
//! implementation lets several nodes share events.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::ids::{AppId, ConversationId, MemberUuid, MessageId, Position, Timestamp};
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

/// What subscribers receive.
#[derive(Debug, Clone)]
pub enum Signal {
    Event(Arc<Event>),
    /// Events may have been missed (for example the bus reconnected): catch up from the store.
    Gap,
}

/// Publishes committed events to subscribers, on this node or across nodes.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event. Never blocks on slow subscribers; one that falls behind lags and
    /// catches up from the store.
    async fn publish(&self, event: Event);
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

    fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }
}
