//! Presence, for the offline hint of `message.created` webhooks: which members have an event
//! stream open on this node, kept in the store so that a send on any node reads, in its own
//! transaction, who had a stream open on some live node (see the store's `set_presence`).
//!
//! One task per core writes it. The hub tells it when a member's streams on this node may have
//! changed ([`Presence::touch`]); the task looks at the hub, writes what changed in one
//! transaction (several changes batch into one), and renews this node's lease on life every
//! [`HEARTBEAT`]. A stream waits for its member's row before it reads the store, so a message
//! committed after a stream opened never names that member offline. A stream that closed is
//! forgotten a moment later; a node that dies without saying so stops counting when its lease
//! runs out ([`ALIVE_FOR`]), so for that long its members still count as online. A failed write
//! is retried at the next heartbeat; until then the hint may be wrong, never a stream.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::events::Hub;
use crate::clock::Clock;
use crate::ids::{AppId, MemberId};
use crate::store::Store;

/// How often a node renews its lease on life.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long a node's presence rows count after its last renewal.
pub const ALIVE_FOR: Duration = Duration::from_secs(20);

type Key = (AppId, MemberId);

/// A member whose streams on this node may have changed, and who waits for the write.
struct Touch {
    key: Key,
    done: Option<oneshot::Sender<()>>,
}

/// The handle the hub holds: the presence task's inbox.
pub(crate) struct Presence {
    tx: mpsc::UnboundedSender<Touch>,
}

impl Presence {
    /// Starts the presence task of node `node` for `hub`; it ends when the hub is dropped.
    pub(crate) fn start(
        hub: Weak<Hub>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        node: String,
    ) -> Presence {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(hub, store, clock, node, rx));
        Presence { tx }
    }

    /// The streams of `key` may have changed; resolves once that is written (or failed to be).
    pub(crate) fn touch(&self, key: Key) -> oneshot::Receiver<()> {
        let (done, rx) = oneshot::channel();
        // A closed inbox means the core is going away: nothing is left to record.
        let _ = self.tx.send(Touch {
            key,
            done: Some(done),
        });
        rx
    }

    /// Like [`touch`](Self::touch), without waiting.
    pub(crate) fn touch_later(&self, key: Key) {
        let _ = self.tx.send(Touch { key, done: None });
    }
}

async fn run(
    hub: Weak<Hub>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    node: String,
    mut rx: mpsc::UnboundedReceiver<Touch>,
) {
    // Members written as online, and members whose change is not written yet.
    let mut written: HashSet<Key> = HashSet::new();
    let mut dirty: HashSet<Key> = HashSet::new();
    let mut waiting = Vec::new();
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            touch = rx.recv() => {
                let Some(touch) = touch else { return };
                let mut take = |t: Touch| {
                    dirty.insert(t.key);
                    waiting.extend(t.done);
                };
                take(touch);
                while let Ok(t) = rx.try_recv() {
                    take(t);
                }
            }
            _ = beat.tick() => {}
        }
        let Some(hub) = hub.upgrade() else { return };
        let (mut online, mut offline) = (Vec::new(), Vec::new());
        for key in &dirty {
            match (hub.has_streams(*key), written.contains(key)) {
                (true, false) => online.push(*key),
                (false, true) => offline.push(*key),
                _ => {}
            }
        }
        drop(hub);
        let until = clock.now().plus(ALIVE_FOR);
        let ids = |keys: &[Key]| keys.iter().map(|k| k.1).collect::<Vec<_>>();
        match store
            .set_presence(&node, until, ids(&online), ids(&offline))
            .await
        {
            Ok(()) => {
                written.extend(online);
                for key in &offline {
                    written.remove(key);
                }
                dirty.clear();
            }
            Err(e) => tracing::warn!(error = %e, "could not record presence; retrying shortly"),
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
