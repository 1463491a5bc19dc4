//! The publisher task: takes events from the bounded queue that [`NatsBus::publish`] fills
//! without waiting, and publishes each as JSON on `PREFIX.events.APP_ID` (revocations on
//! `PREFIX.revoked.APP_ID`). When an event did not
//! make it (queue full, publish failed, connection lost), it publishes on `PREFIX.gap` as soon
//! as it can, so the other nodes tell their subscribers to catch up from the store.
//!
//! While NATS is unreachable, the client buffers what we publish and sends it after
//! reconnecting; once its buffer is full this task waits, the queue fills, and what does not fit
//! is dropped — which is announced as a gap.
//!
//! [`NatsBus::publish`]: crate::NatsBus

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_nats::{Client, HeaderMap};
use sixin_core::{Event, Revocation};
use tokio::sync::mpsc;

use crate::{Outgoing, Shared, NODE_HEADER};

/// Runs until the queue closes (the bus was dropped) or the task is aborted.
pub(crate) async fn run(client: Client, shared: Arc<Shared>, mut queue: mpsc::Receiver<Outgoing>) {
    loop {
        let job = tokio::select! {
            job = queue.recv() => match job {
                Some(job) => Some(job),
                None => break,
            },
            () = shared.wake_publisher.notified() => None,
        };
        let flush = match job {
            Some(Outgoing::Event(event)) => {
                if let Err(why) = publish_event(&client, &shared, &event).await {
                    shared.owe_gap(&why);
                }
                None
            }
            Some(Outgoing::Revoked(r)) => {
                if let Err(why) = publish_revocation(&client, &shared, &r).await {
                    tracing::warn!("{why}; other nodes end those streams at their next check");
                }
                None
            }
            Some(Outgoing::Flush(done)) => Some(done),
            None => None,
        };
        if shared.owe_gap.swap(false, Ordering::SeqCst) {
            if let Err(e) = publish(&client, &shared, shared.subjects.gap.clone(), Vec::new()).await
            {
                // Only when the client is gone or misconfigured; try again on the next wake-up.
                tracing::warn!(error = %e, "cannot publish a gap message to NATS: {e}");
                shared.owe_gap.store(true, Ordering::SeqCst);
            } else {
                tracing::info!("told the other nodes to catch up from the store");
            }
        }
        if let Some(done) = flush {
            if let Err(e) = client.flush().await {
                tracing::warn!(error = %e, "flushing to NATS failed: {e}");
            }
            let _ = done.send(());
        }
    }
    tracing::debug!("NATS publisher stopped");
}

/// Publishes one event; `Err` says why it did not reach the client.
async fn publish_event(client: &Client, shared: &Shared, event: &Event) -> Result<(), String> {
    let payload = serde_json::to_vec(event)
        .map_err(|e| format!("an event of app {} could not be encoded ({e})", event.app))?;
    publish(client, shared, shared.subjects.event(event.app), payload)
        .await
        .map_err(|e| format!("an event of app {} was not published ({e})", event.app))
}

/// Publishes one revocation; `Err` says why it did not reach the client.
async fn publish_revocation(
    client: &Client,
    shared: &Shared,
    r: &Revocation,
) -> Result<(), String> {
    let payload = serde_json::to_vec(r)
        .map_err(|e| format!("a revocation of app {} could not be encoded ({e})", r.app))?;
    publish(client, shared, shared.subjects.revoked(r.app), payload)
        .await
        .map_err(|e| format!("a revocation of app {} was not published ({e})", r.app))
}

async fn publish(
    client: &Client,
    shared: &Shared,
    subject: String,
    payload: Vec<u8>,
) -> Result<(), async_nats::PublishError> {
    let mut headers = HeaderMap::new();
    headers.insert(NODE_HEADER, shared.node.as_str());
    client
        .publish_with_headers(subject, headers, payload.into())
        .await
}
