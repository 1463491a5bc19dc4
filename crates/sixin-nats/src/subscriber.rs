//! The receiving side: the subscriber task turns messages on `PREFIX.events.*`, `PREFIX.gap` and
//! `PREFIX.revoked.*` into [`Signal`]s for this node's subscribers, and the connection events of the NATS client
//! decide when this node itself may have missed something.
//!
//! After a reconnect the client re-subscribes on its own, but other nodes' events published
//! while we were away are gone. So once the server has our subscriptions again (proved by a
//! round trip), the reconnect watcher gives local subscribers [`Signal::Gap`]; anything
//! published after that reaches us.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_nats::{Client, Message, RequestErrorKind, Subscriber};
use futures::StreamExt as _;
use sixin_core::{Event, Revocation, Signal};

use crate::{Shared, NODE_HEADER};

/// Runs until the subscriptions end (the client closed) or the task is aborted.
pub(crate) async fn run(
    shared: Arc<Shared>,
    events: Subscriber,
    gaps: Subscriber,
    revocations: Subscriber,
) {
    let mut incoming = futures::stream::select(futures::stream::select(events, gaps), revocations);
    while let Some(msg) = incoming.next().await {
        if let Some(signal) = decode(&shared, &msg) {
            // An error only means nobody on this node is subscribed right now.
            let _ = shared.local.send(signal);
        }
    }
    tracing::debug!("NATS subscriptions ended");
}

/// The signal a message means for this node, if any (our own messages mean nothing).
fn decode(shared: &Shared, msg: &Message) -> Option<Signal> {
    let from = msg
        .headers
        .as_ref()
        .and_then(|h| h.get(NODE_HEADER))
        .map(|v| v.as_str());
    if from == Some(shared.node.as_str()) {
        return None;
    }
    if msg.subject.as_str() == shared.subjects.gap {
        tracing::info!(
            nats.node = from.unwrap_or("?"),
            "node {} may have lost events: subscribers catch up from the store",
            from.unwrap_or("?")
        );
        return Some(Signal::Gap);
    }
    if shared.subjects.is_revocation(msg.subject.as_str()) {
        return match serde_json::from_slice::<Revocation>(&msg.payload) {
            Ok(r) => Some(Signal::Revoked(Arc::new(r))),
            Err(e) => {
                // Not a gap: no event is missing; the streams' session checks still run.
                tracing::warn!(nats.subject = %msg.subject, error = %e,
                    "undecodable revocation on {} ({e})", msg.subject);
                None
            }
        };
    }
    match serde_json::from_slice::<Event>(&msg.payload) {
        Ok(event) => Some(Signal::Event(Arc::new(event))),
        Err(e) => {
            tracing::warn!(
                nats.subject = %msg.subject,
                nats.node = from.unwrap_or("?"),
                error = %e,
                "undecodable event on {} ({e}): subscribers catch up from the store",
                msg.subject
            );
            Some(Signal::Gap)
        }
    }
}

/// Called by the NATS client, in order, for each connection event.
pub(crate) fn on_connection_event(shared: &Shared, event: async_nats::Event) {
    use async_nats::Event as E;
    match event {
        E::Connected => {
            if shared.disconnected.swap(false, Ordering::SeqCst) {
                tracing::info!("reconnected to NATS");
                shared.reconnected.notify_one();
            }
        }
        E::Disconnected => {
            shared.disconnected.store(true, Ordering::SeqCst);
            tracing::warn!("lost the NATS connection; reconnecting until it is back");
            // Events written just before the connection broke may never have arrived.
            shared.owe_gap("the NATS connection was lost");
        }
        E::SlowConsumer(sid) => {
            tracing::warn!(
                nats.sid = sid,
                "the NATS client dropped messages for a slow subscription: subscribers catch \
                 up from the store"
            );
            let _ = shared.local.send(Signal::Gap);
        }
        E::LameDuckMode => tracing::info!("the NATS server is shutting down (lame duck mode)"),
        E::ServerError(e) => tracing::warn!(error = %e, "NATS server error: {e}"),
        // Each failed reconnect attempt says so here; the Disconnected warning covers them.
        E::ClientError(e) => tracing::debug!(error = %e, "NATS client: {e}"),
        E::Draining | E::Closed => tracing::debug!("NATS connection {event}"),
    }
}

/// After each reconnect: wait until the server has our subscriptions again, then say `Gap`.
pub(crate) async fn watch_reconnects(client: Client, shared: Arc<Shared>) {
    loop {
        shared.reconnected.notified().await;
        if let Err(e) = round_trip(&client, &shared).await {
            tracing::warn!(error = %e, "NATS did not confirm the subscriptions: {e}");
        }
        let _ = shared.local.send(Signal::Gap);
    }
}

/// Returns once the server has handled everything this client sent before (subscriptions
/// included): a request nobody answers comes back as "no responders" after exactly that.
pub(crate) async fn round_trip(
    client: &Client,
    shared: &Shared,
) -> Result<(), async_nats::RequestError> {
    match client
        .request(shared.subjects.sync(&shared.node), Vec::new().into())
        .await
    {
        Err(e) if e.kind() != RequestErrorKind::NoResponders => Err(e),
        _ => Ok(()),
    }
}
