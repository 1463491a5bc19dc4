//! [`Worker`]: the node's delivery loop and its per-endpoint tasks.

use std::collections::HashMap;
use std::time::Duration;

use rand::RngCore;
use sixin_core::ids::WebhookId;
use sixin_core::service::Next;
use sixin_core::{Core, Signal};
use tokio::sync::{broadcast, watch};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::{http, DeliveryConfig};

/// The delivery worker of one node. Dropping it without [`Worker::stop`] aborts it; its
/// leases then run out by themselves and other nodes take the queues over.
pub struct Worker {
    node: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts delivering for `core`'s store under a fresh random node id.
    pub fn start(core: Core, cfg: DeliveryConfig) -> Worker {
        let mut id = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id);
        let node: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(core, cfg, node.clone(), stopped));
        tracing::info!(webhooks.node = %node, "webhook delivery worker started (node {node})");
        Worker {
            node,
            stop,
            task: Some(task),
        }
    }

    /// This node's id, as its leases name it.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Stops claiming, abandons the tries in flight (they stay pending and are sent again,
    /// with the same `webhook-id`) and gives up this node's leases, so other nodes take the
    /// queues over at once.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The shortest time between two claims woken by committed events: a burst of sends costs one
/// claim per this much time, not one per send.
const WAKE_GAP: Duration = Duration::from_millis(10);

/// The endpoints this node is delivering to.
struct Active {
    tasks: JoinSet<WebhookId>,
    handles: HashMap<WebhookId, AbortHandle>,
    /// Whether the last claim failed: a database outage is logged once, not every poll.
    claim_failing: bool,
}

async fn run(core: Core, cfg: DeliveryConfig, node: String, mut stopped: watch::Receiver<bool>) {
    let client = http::client(&core, cfg.timeout);
    let mut active = Active {
        tasks: JoinSet::new(),
        handles: HashMap::new(),
        claim_failing: false,
    };
    let mut poll = tokio::time::interval(cfg.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renew = tokio::time::interval(core.config().webhooks.lease / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Committed changes wake the worker at once (on every node, with a shared bus), so an
    // event does not wait for the next poll; the poll still finds what no signal announced
    // (member changes, retries coming due, other nodes' queues whose lease ran out).
    let mut news = Some(core.bus().subscribe());
    let mut wake: Option<Instant> = None;
    let mut last_claim = Instant::now();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            Some(done) = active.tasks.join_next() => {
                if let Ok(id) = done {
                    active.handles.remove(&id);
                }
                // Its queue looked empty just before it gave the lease up: an event committed
                // in between would otherwise wait for the poll.
                wake.get_or_insert(last_claim + WAKE_GAP);
            }
            signal = recv(&mut news) => match signal {
                Ok(Signal::Event(_) | Signal::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    wake.get_or_insert(last_claim + WAKE_GAP);
                }
                Ok(Signal::Revoked(_)) => {}
                Err(broadcast::error::RecvError::Closed) => news = None,
            },
            _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                wake = None;
                last_claim = Instant::now();
                claim(&core, &cfg, &node, &client, &mut active).await;
            }
            _ = poll.tick() => {
                last_claim = Instant::now();
                claim(&core, &cfg, &node, &client, &mut active).await;
            }
            _ = renew.tick() => {
                let held: Vec<WebhookId> = active.handles.keys().copied().collect();
                if !held.is_empty() {
                    if let Err(e) = core.renew_webhooks(&node, &held).await {
                        tracing::warn!(error = %e, "renewing webhook leases: {e}");
                    }
                }
            }
        }
    }
    active.tasks.abort_all();
    for id in active.handles.keys() {
        if let Err(e) = core.release_webhook(&node, *id).await {
            tracing::debug!(error = %e, "releasing the lease of webhook {id}: {e}");
        }
    }
    tracing::info!(webhooks.node = %node, "webhook delivery worker stopped");
}

/// The next signal of the bus, or never once it closed.
async fn recv(
    news: &mut Option<broadcast::Receiver<Signal>>,
) -> Result<Signal, broadcast::error::RecvError> {
    match news {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Claims endpoints with a delivery due, up to the free capacity, and starts their tasks.
async fn claim(
    core: &Core,
    cfg: &DeliveryConfig,
    node: &str,
    client: &reqwest::Client,
    active: &mut Active,
) {
    let free = cfg.max_endpoints.saturating_sub(active.handles.len());
    if free == 0 {
        return;
    }
    let claimed = match core
        .claim_webhooks(node, u32::try_from(free).unwrap_or(u32::MAX))
        .await
    {
        Ok(ids) => {
            if std::mem::take(&mut active.claim_failing) {
                tracing::info!("webhook delivery: the store answers again");
            }
            ids
        }
        Err(e) if active.claim_failing => {
            tracing::debug!(error = %e, "claiming webhook endpoints: {e}");
            return;
        }
        Err(e) => {
            active.claim_failing = true;
            tracing::warn!(error = %e, "claiming webhook endpoints: {e} (retrying every poll)");
            return;
        }
    };
    for id in claimed {
        if active.handles.contains_key(&id) {
            continue;
        }
        let work = deliver(
            core.clone(),
            client.clone(),
            node.to_owned(),
            id,
            cfg.clone(),
        );
        let handle = active.tasks.spawn(work);
        active.handles.insert(id, handle);
    }
}

/// Delivers one endpoint's queue in order while this node holds its lease.
async fn deliver(
    core: Core,
    client: reqwest::Client,
    node: String,
    id: WebhookId,
    cfg: DeliveryConfig,
) -> WebhookId {
    // A wait is cut short this often to notice replays, test events, pauses and lease loss.
    let recheck = cfg.poll_interval * 4;
    let pause = cfg.poll_interval.max(Duration::from_millis(100));
    // Store errors are logged once per outage, not once per retry.
    let mut failing = false;
    loop {
        match core.next_webhook_attempt(&node, id).await {
            Ok(Next::Send(attempt)) => {
                let outcome = http::post(&client, &core, &attempt).await;
                tracing::debug!(
                    webhook.id = id.0,
                    outbox.id = attempt.outbox.0,
                    outcome = ?outcome,
                    "webhook {id}: event {} tried: {outcome:?}",
                    attempt.outbox
                );
                match core.settle_webhook_attempt(&node, &attempt, outcome).await {
                    Ok(true) => failing = false,
                    Ok(false) => break,
                    Err(e) => {
                        store_error(id, &e, &mut failing);
                        tokio::time::sleep(pause).await;
                    }
                }
            }
            Ok(Next::Wait(wait)) => {
                failing = false;
                tokio::time::sleep(wait.min(recheck)).await;
            }
            Ok(Next::Idle | Next::Lost) => break,
            Err(e) => {
                store_error(id, &e, &mut failing);
                tokio::time::sleep(pause).await;
            }
        }
    }
    id
}

/// Logs a store error of endpoint `id`'s task: a warning the first time in a row, then debug.
fn store_error(id: WebhookId, e: &sixin_core::Error, failing: &mut bool) {
    if std::mem::replace(failing, true) {
        tracing::debug!(webhook.id = id.0, error = %e, "webhook {id}: {e}");
    } else {
        tracing::warn!(webhook.id = id.0, error = %e, "webhook {id}: the store failed: {e}");
    }
}
