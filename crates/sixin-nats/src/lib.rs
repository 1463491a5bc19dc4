//! sixin-nats: [`NatsBus`], the [`Bus`] that lets several sixin nodes sharing one database hear
//! each other's committed events, over NATS core pub/sub.
//!
//! The store stays the source of truth: every event is also in each recipient's stream, with a
//! gapless position. The bus only carries the news, at most once, so it is built to never block
//! a sender and to say [`Signal::Gap`] whenever events from other nodes may have been missed;
//! subscribers then catch up from the store.
//!
//! How one event travels:
//! 1. [`Bus::publish`] hands it to this node's subscribers at once (no NATS round trip, and it
//!    works while NATS is down), then queues it for NATS without waiting (`try_send`).
//! 2. The publisher task (`publisher`) sends it as JSON on `PREFIX.events.APP_ID` with the
//!    header `Sixin-Node: NODE_ID`.
//! 3. Every other node's subscriber task (`subscriber`) decodes it and hands it to its own
//!    subscribers. A node ignores its own messages (they are not even echoed back to it).
//!
//! Revocations (a logout or a ban ended sessions) travel the same way on `PREFIX.revoked.APP_ID`
//! and become [`Signal::Revoked`] on the other nodes, which close the matching streams at once.
//! One that is lost is not a gap: the stream's next session check (each heartbeat) ends it.
//!
//! When events may have been lost, somebody says `Gap`:
//! - this node's queue was full, or a publish failed, or its connection dropped (events in
//!   flight may be gone): as soon as it can, it publishes on `PREFIX.gap`, and every other node
//!   gives its subscribers [`Signal::Gap`];
//! - this node was disconnected: after reconnecting, and once the server has its subscriptions
//!   again, it gives its own subscribers [`Signal::Gap`];
//! - a message cannot be decoded (say, a node of another version), or the NATS client dropped
//!   messages for a slow subscription: [`Signal::Gap`] locally.
//!
//! Modules:
//! - [`servers`]: checking and redacting NATS URLs, checking subject prefixes.
//! - `publisher`: the task that publishes queued events and owed gap messages.
//! - `subscriber`: the task that turns NATS messages into signals, and reconnect handling.

mod publisher;
pub mod servers;
mod subscriber;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::ConnectOptions;
use async_trait::async_trait;
use sixin_core::ids::AppId;
use sixin_core::{Bus, Event, Revocation, Signal};
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

pub use servers::{check_subject_prefix, check_url, redact};

/// The header naming the node that published a message.
pub const NODE_HEADER: &str = "Sixin-Node";

/// Tuning for [`NatsBus::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsOptions {
    /// The first subject tokens: nodes exchange events only with nodes of the same prefix.
    pub subject_prefix: String,
    /// How many signals a local subscriber may fall behind before it lags (and catches up).
    pub local_capacity: usize,
    /// How many events may wait for NATS; beyond that they are dropped and a gap is announced.
    pub publish_queue: usize,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            subject_prefix: "sixin".into(),
            local_capacity: 4096,
            publish_queue: 8192,
        }
    }
}

/// Why the bus could not start, or did not close cleanly.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The URL is not `nats://HOST[:PORT]` or `tls://HOST[:PORT]` (comma-separated list allowed).
    #[error("invalid NATS URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid NATS subject prefix {prefix:?}: {reason}")]
    InvalidPrefix {
        prefix: String,
        reason: &'static str,
    },
    /// The server could not be reached, or refused us, when the bus started.
    #[error("cannot connect to NATS at {url}: {error}")]
    Connect {
        url: String,
        error: async_nats::ConnectError,
    },
    #[error("cannot subscribe to {subject} on NATS: {error}")]
    Subscribe {
        subject: String,
        error: async_nats::SubscribeError,
    },
    #[error("NATS did not confirm the subscriptions: {0}")]
    RoundTrip(async_nats::RequestError),
    /// [`NatsBus::close`] gave up waiting for queued events to reach the server.
    #[error("queued events did not reach NATS within {0:?}")]
    CloseTimeout(Duration),
}

/// A [`Bus`] shared by every node connected to the same NATS server (or cluster) with the
/// same subject prefix. Cheap to share behind an `Arc`; dropping it stops its tasks and closes
/// the connection (use [`NatsBus::close`] first to send what is still queued).
pub struct NatsBus {
    shared: Arc<Shared>,
    queue: mpsc::Sender<Outgoing>,
    tasks: Vec<JoinHandle<()>>,
}

/// What the tasks and the connection-event callback share.
pub(crate) struct Shared {
    pub(crate) node: String,
    pub(crate) subjects: Subjects,
    pub(crate) local: broadcast::Sender<Signal>,
    /// Set when an event of ours may not have reached NATS: the publisher owes the other nodes
    /// a message on the gap subject.
    pub(crate) owe_gap: AtomicBool,
    /// Wakes the publisher when a gap is owed and no event is coming to wake it.
    pub(crate) wake_publisher: Notify,
    /// Between a `Disconnected` and the next `Connected` event.
    pub(crate) disconnected: AtomicBool,
    /// Wakes the reconnect watcher after a reconnect.
    pub(crate) reconnected: Notify,
}

impl Shared {
    /// Records that the other nodes must be told to catch up, and wakes the publisher.
    pub(crate) fn owe_gap(&self, why: &str) {
        if !self.owe_gap.swap(true, Ordering::SeqCst) {
            tracing::warn!("{why}: other nodes will be told to catch up from the store");
        }
        self.wake_publisher.notify_one();
    }
}

/// The subjects of one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Subjects {
    prefix: String,
    /// `PREFIX.gap`: "events of the sending node may be missing".
    pub(crate) gap: String,
}

impl Subjects {
    fn new(prefix: &str) -> Result<Subjects, NatsError> {
        check_subject_prefix(prefix)?;
        Ok(Subjects {
            prefix: prefix.to_owned(),
            gap: format!("{prefix}.gap"),
        })
    }

    /// `PREFIX.events.APP_ID`: one app's events.
    pub(crate) fn event(&self, app: AppId) -> String {
        format!("{}.events.{}", self.prefix, app.0)
    }

    /// `PREFIX.events.*`: every app's events.
    pub(crate) fn events(&self) -> String {
        format!("{}.events.*", self.prefix)
    }

    /// `PREFIX.revoked.APP_ID`: one app's ended sessions.
    pub(crate) fn revoked(&self, app: AppId) -> String {
        format!("{}.revoked.{}", self.prefix, app.0)
    }

    /// `PREFIX.revoked.*`: every app's ended sessions.
    pub(crate) fn revocations(&self) -> String {
        format!("{}.revoked.*", self.prefix)
    }

    /// Whether `subject` carries revocations.
    pub(crate) fn is_revocation(&self, subject: &str) -> bool {
        subject
            .strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.starts_with(".revoked."))
    }

    /// `PREFIX.sync.NODE`: nobody subscribes here. A request to it comes back at once as "no
    /// responders", after the server has handled everything this connection sent before it.
    pub(crate) fn sync(&self, node: &str) -> String {
        format!("{}.sync.{node}", self.prefix)
    }
}

/// What the publisher task is asked to do, in order.
pub(crate) enum Outgoing {
    Event(Arc<Event>),
    Revoked(Arc<Revocation>),
    /// Answer once everything queued before has been handed to the server.
    Flush(oneshot::Sender<()>),
}

impl NatsBus {
    /// Connects to `url` (`nats://HOST:PORT`, `tls://…`, or several comma-separated servers of
    /// one cluster) and subscribes. Fails if no server can be reached now; once connected, it
    /// reconnects on its own, forever. When this returns, the server has the subscriptions: any
    /// event another node publishes from now on reaches this bus's subscribers.
    pub async fn connect(url: &str, opts: NatsOptions) -> Result<NatsBus, NatsError> {
        let servers = servers::parse(url)?;
        let subjects = Subjects::new(&opts.subject_prefix)?;
        let node = format!("{:032x}", rand::random::<u128>());
        let (local, _) = broadcast::channel(opts.local_capacity.max(1));
        let shared = Arc::new(Shared {
            node,
            subjects,
            local,
            owe_gap: AtomicBool::new(false),
            wake_publisher: Notify::new(),
            disconnected: AtomicBool::new(false),
            reconnected: Notify::new(),
        });

        let events = shared.clone();
        let client = ConnectOptions::new()
            .name(format!("sixin {}", shared.node))
            // Our own messages would only be dropped on arrival.
            .no_echo()
            .max_reconnects(None)
            .event_callback(move |event| {
                let shared = events.clone();
                async move { subscriber::on_connection_event(&shared, event) }
            })
            .connect(servers)
            .await
            .map_err(|error| NatsError::Connect {
                url: redact(url),
                error,
            })?;

        let subscribe = |subject: String| {
            let client = client.clone();
            async move {
                client
                    .subscribe(subject.clone())
                    .await
                    .map_err(|error| NatsError::Subscribe { subject, error })
            }
        };
        let event_sub = subscribe(shared.subjects.events()).await?;
        let gap_sub = subscribe(shared.subjects.gap.clone()).await?;
        let revoked_sub = subscribe(shared.subjects.revocations()).await?;
        subscriber::round_trip(&client, &shared)
            .await
            .map_err(NatsError::RoundTrip)?;

        let (queue, rx) = mpsc::channel(opts.publish_queue.max(1));
        let tasks = vec![
            tokio::spawn(publisher::run(client.clone(), shared.clone(), rx)),
            tokio::spawn(subscriber::run(
                shared.clone(),
                event_sub,
                gap_sub,
                revoked_sub,
            )),
            tokio::spawn(subscriber::watch_reconnects(client, shared.clone())),
        ];
        tracing::debug!(
            nats.url = %redact(url),
            nats.subject_prefix = %opts.subject_prefix,
            nats.node = %shared.node,
            "connected to NATS at {} as node {}",
            redact(url),
            shared.node
        );
        Ok(NatsBus {
            shared,
            queue,
            tasks,
        })
    }

    /// This bus's node id (32 hex digits, random per connect), sent in [`NODE_HEADER`].
    pub fn node_id(&self) -> &str {
        &self.shared.node
    }

    /// Sends every event queued before this call to the server (and any owed gap message),
    /// waiting at most `within`, then stops the bus's tasks. Local delivery keeps working;
    /// nothing more goes to NATS.
    pub async fn close(&self, within: Duration) -> Result<(), NatsError> {
        let (done_tx, done_rx) = oneshot::channel();
        let flushed = tokio::time::timeout(within, async {
            self.queue.send(Outgoing::Flush(done_tx)).await.ok()?;
            done_rx.await.ok()
        })
        .await;
        for task in &self.tasks {
            task.abort();
        }
        match flushed {
            Ok(Some(())) => Ok(()),
            _ => Err(NatsError::CloseTimeout(within)),
        }
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("node", &self.shared.node)
            .field("subject_prefix", &self.shared.subjects.prefix)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Bus for NatsBus {
    /// Delivers to this node's subscribers, then queues for NATS; never waits for either.
    async fn publish(&self, event: Event) {
        let event = Arc::new(event);
        // An error only means nobody on this node is subscribed right now.
        let _ = self.shared.local.send(Signal::Event(event.clone()));
        match self.queue.try_send(Outgoing::Event(event)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.shared
                    .owe_gap("the NATS publish queue is full, an event was not sent");
            }
            // Closed: the bus is closing; other nodes see our connection go away.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Delivers to this node's subscribers, then queues for NATS; a revocation that does not
    /// fit the queue is dropped (the other nodes' heartbeat checks still end those streams).
    async fn revoke(&self, revocation: Revocation) {
        let revocation = Arc::new(revocation);
        let _ = self.shared.local.send(Signal::Revoked(revocation.clone()));
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.queue.try_send(Outgoing::Revoked(revocation))
        {
            tracing::warn!(
                "the NATS publish queue is full: a revocation was not sent; other nodes end \
                 those streams at their next session check"
            );
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.shared.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_documented_layout() {
        let s = Subjects::new("prod.sixin").unwrap();
        assert_eq!(s.event(AppId(42)), "prod.sixin.events.42");
        assert_eq!(s.events(), "prod.sixin.events.*");
        assert_eq!(s.gap, "prod.sixin.gap");
        assert_eq!(s.revoked(AppId(42)), "prod.sixin.revoked.42");
        assert_eq!(s.revocations(), "prod.sixin.revoked.*");
        assert!(s.is_revocation("prod.sixin.revoked.42"));
        assert!(!s.is_revocation("prod.sixin.events.42"));
        assert_eq!(s.sync("ab12"), "prod.sixin.sync.ab12");
    }

    #[tokio::test]
    async fn connect_fails_clearly_when_nothing_listens() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("nats://user:hunter2@127.0.0.1:{port}");
        let err = NatsBus::connect(&url, NatsOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, NatsError::Connect { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn connect_rejects_bad_urls_and_prefixes_before_connecting() {
        let err = NatsBus::connect("http://127.0.0.1:4222", NatsOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, NatsError::InvalidUrl { .. }), "{err:?}");
        let opts = NatsOptions {
            subject_prefix: "a.*".into(),
            ..NatsOptions::default()
        };
        let err = NatsBus::connect("nats://127.0.0.1:4222", opts)
            .await
            .unwrap_err();
        assert!(matches!(err, NatsError::InvalidPrefix { .. }), "{err:?}");
    }
}
