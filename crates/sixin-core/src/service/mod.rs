//! [`Core`]: the use cases. Each file adds an `impl Core` block for one capability:
//! - `apps`: create apps, look them up by key, toggle signing.
//! - `members`: register, log in and out, authenticate tokens, profiles, bans.
//! - `logins`: password logins under the per-IP limit and the failed-login lockout, and the
//!   per-IP registration limit.
//! - `messages`: send, history, delete-for-me, recall; `multi_send`: multi-send.
//! - `blocks`: the block list and the who-may-message-me settings.
//! - `reads`: mark read, unread counts.
//! - `conversations`: the conversation list and detail, groups.
//! - `server`: the app backend's operations (server API): its JWT, members by the app's own
//!   ids, their sessions, bans and mutes, the registration policy.
//! - `events`: event streams (store catch-up, then live delivery through the node's hub);
//!   `presence`: which members have a stream open on this node, recorded in the store.
//! - `words`: the sensitive-word filter (one matcher per app, hot-reloaded) and the app's list.
//! - `reports`: members' reports, and their review by the app's backend.
//! - `webhooks`: the app's webhook endpoints, their deliveries, replays and test events.
//! - `webhook_delivery`: the delivery worker's calls (leases, the next request, its outcome).
//!
//! Every member-scoped method takes a [`Caller`](crate::Caller), validates its input, lets the
//! store commit, then publishes the event on the bus.

mod app_acts;
mod apps;
mod before_send;
mod blocks;
mod conversations;
mod events;
mod export;
mod logins;
mod member_tokens;
mod members;
mod messages;
mod multi_send;
mod presence;
mod prune;
mod reads;
mod reports;
mod server;
mod webhook_delivery;
mod webhooks;
mod words;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::bus::{Bus, Event};
use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::error::Result;
use crate::ids::Timestamp;
use crate::store::Store;

pub use app_acts::{AppMember, AppRecipients, AppSend, AppSender, AppSent};
pub use apps::Signing;
pub use before_send::{before_send_json, BeforeSendSpec};
pub use blocks::DmSetting;
pub use conversations::GroupMembers;
pub use events::{EventStream, StreamItem};
pub use export::{Erased, Export, ExportRecord};
pub use messages::{MultiSend, Recipient, SendMessage};
pub use reports::{FileReport, Filed, MAX_REPORT_TEXT};
pub use server::{MemberLookup, SERVER_AUDIENCE};
pub use webhook_delivery::{Attempt, Next, Outcome};
pub use webhooks::{WebhookEdit, WebhookSpec, MAX_REPLAY, MAX_WEBHOOKS_PER_APP};
pub use words::MAX_WORDS_PER_CALL;

/// The sixin core: cheap to clone, shared by every adapter.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    cfg: CoreConfig,
    messages_sent: AtomicU64,
    /// Bounds concurrent password hashes (each holds `argon2_memory_kib` of memory and a CPU)
    /// to the number of CPUs, so a burst of logins cannot exhaust memory.
    hashing: tokio::sync::Semaphore,
    /// The event streams open on this node, fed by one dispatcher task.
    hub: Arc<events::Hub>,
    /// The apps' word matchers on this node.
    matchers: words::Matchers,
    /// This node's token buckets (sends per member, registrations and logins per IP: counted
    /// in memory, per node; see [`crate::limits::Buckets`]).
    buckets: crate::limits::Buckets,
    /// Calls the apps' before-send hooks (set by `sixin serve`; see [`Core::set_hook_caller`]).
    hook_caller: std::sync::OnceLock<Arc<dyn crate::webhook::HookCaller>>,
    /// This node's id (random, per core), as its presence rows name it.
    node: String,
}

impl Core {
    /// A core over the given store, bus and clock.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        clock: Arc<dyn Clock>,
        cfg: CoreConfig,
    ) -> Self {
        Core {
            inner: Arc::new(Inner {
                store,
                bus,
                clock,
                cfg,
                messages_sent: AtomicU64::new(0),
                hashing: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                ),
                hub: Arc::default(),
                matchers: words::Matchers::default(),
                buckets: crate::limits::Buckets::default(),
                hook_caller: std::sync::OnceLock::new(),
                node: {
                    let id: [u8; 8] = rand::random();
                    id.iter().map(|b| format!("{b:02x}")).collect()
                },
            }),
        }
    }

    /// The settings this core enforces.
    pub fn config(&self) -> &CoreConfig {
        &self.inner.cfg
    }

    /// The bus events are published on (the event stream subscribes here).
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.inner.bus
    }

    /// This node's id: random, new for each core.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Says this node is leaving: its presence rows are deleted, so its members no longer
    /// count as online (otherwise they would until its lease ran out). For a clean shutdown,
    /// after the event streams have closed and before the store closes.
    pub async fn leave_node(&self) -> Result<()> {
        let node = self.node();
        self.store()
            .remove_nodes(Some(node), Timestamp(i64::MIN))
            .await?;
        Ok(())
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Messages committed by this process since start (multi-send counts each recipient).
    pub fn messages_sent(&self) -> u64 {
        self.inner.messages_sent.load(Ordering::Relaxed)
    }

    /// Whether the store answers (one cheap lookup).
    pub async fn health(&self) -> Result<()> {
        let probe = crate::ids::AppKey::parse("00000000000000000000000000000000")
            .expect("32 zeros are 32 hex digits");
        self.store().app_by_key(&probe).await?;
        Ok(())
    }

    /// Closes the store ([`Store::close`]): call it once the adapters have stopped taking
    /// requests. Every clone of this core shares the closed store; later calls fail with
    /// `Unavailable`.
    pub async fn close(&self) -> crate::store::StoreResult<()> {
        self.store().close().await
    }

    /// The limits in force for `app`: the configuration's, with the app's overrides.
    pub fn limits_for(&self, app: &crate::model::App) -> crate::limits::Limits {
        self.inner.cfg.limits.for_app(app)
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// This node's token buckets.
    fn buckets(&self) -> &crate::limits::Buckets {
        &self.inner.buckets
    }

    /// Publishes a committed event to the members it was appended for (none: nothing to say).
    async fn publish(
        &self,
        caller: &crate::Caller,
        kind: crate::EventKind,
        deliveries: Vec<crate::model::Delivery>,
        created_at: Timestamp,
    ) {
        if deliveries.is_empty() {
            return;
        }
        let event = Event {
            app: caller.app_id(),
            kind,
            deliveries,
            created_at,
        };
        self.inner.bus.publish(event).await;
    }

    /// Runs a password hash or verification on the blocking pool, at most one per CPU at once.
    async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|e| crate::Error::Internal(Box::new(e)))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| crate::Error::Internal(Box::new(e)))
    }

    fn count_sent(&self, n: u64) {
        self.inner.messages_sent.fetch_add(n, Ordering::Relaxed);
    }
}

/// Checks a page size against 1..=[`MAX_PAGE`](crate::config::MAX_PAGE).
pub(crate) fn page_limit(field: &'static str, limit: u32) -> Result<u32> {
    if (1..=crate::config::MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::Error::invalid(
            field,
            format!("must be 1..{}", crate::config::MAX_PAGE),
        ))
    }
}
