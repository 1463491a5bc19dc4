//! The [`Bus`]: after a write commits, the core publishes an [`Event`] so connected clients can
//! hear of it. The store is the source of truth; the bus is only a doorbell. [`LocalBus`] serves
//! a single node; a NATS implementation lets several nodes share events.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::ids::{AppId, ConversationId, MemberId, MessageId};
use crate::model::{Conversation, Message};

/// Something that happened, and who should hear of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub app: AppId,
    /// The members this event concerns; only they may receive it.
    pub audience: Vec<MemberId>,
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A new message was committed.
    Message(Message),
    /// A member's read state in a conversation changed.
    Read {
        conversation: ConversationId,
        reader: MemberId,
        unread: u32,
    },
    /// A message was recalled by its sender.
    Recalled(Message),
    /// A member hid a message for themself.
    Hidden {
        member: MemberId,
        message: MessageId,
    },
    /// Group membership changed.
    Membership {
        conversation: Conversation,
        changed: Vec<MemberId>,
    },
}

/// Publishes committed events to subscribers, on this node or across nodes.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event. Never blocks the caller on slow subscribers; a subscriber that
    /// falls behind learns it lagged and must catch up from the store.
    async fn publish(&self, event: Event);
    /// Receives every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
}

/// An in-process bus over a bounded tokio broadcast channel.
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl LocalBus {
    /// A bus whose subscribers may fall `capacity` events behind before they lag.
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
        let _ = self.tx.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
