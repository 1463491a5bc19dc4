//! `sixin serve`: bind, start the webhook delivery worker (unless `webhooks.deliver = false`),
//! serve until SIGINT/SIGTERM, tell every event stream to reconnect elsewhere, let in-flight
//! requests finish (bounded by `http.shutdown_grace_secs`), stop the worker (its leases are given
//! up, so other nodes take its queues over at once), remove this node's presence rows, then
//! close the store (SQLite: queued writes
//! commit, the WAL is checkpointed into the database file).

use std::net::SocketAddr;
use std::time::Duration;

use sixin_core::Core;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Settings;
use crate::{listener, wiring};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr} (http.listen): {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the {0} handler: {1}")]
    Signal(&'static str, #[source] std::io::Error),
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Serves HTTP on `settings.listen` until a shutdown signal; consumes the core so that, when
/// this returns, the store has been released.
pub async fn run(settings: &Settings, core: Core) -> Result<(), ServeError> {
    let fd_limit = listener::raise_open_file_limit();
    let cap = listener::connection_cap(settings.connections.max_connections, fd_limit);
    // Before the "listening" line: a signal sent as soon as it appears must stop us cleanly.
    let signals = Signals::install()?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let fds = fd_limit.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    tracing::info!(
        http.max_connections = cap,
        "accepting up to {cap} connections at once (http.max_connections {}, open-file limit {fds})",
        settings.connections.max_connections
    );
    // The one startup line: what runs, where, on what (passwords redacted).
    let nats = settings
        .nats
        .as_ref()
        .map_or_else(|| "none".to_owned(), |n| sixin_nats::redact(&n.url));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %sixin_store::redact(&settings.store.url),
        nats = %nats,
        "listening on http://{addr}"
    );

    let (stopping_tx, mut stopping_rx) = watch::channel(false);
    let streams = sixin_http::Shutdown::default();
    // Kept to count the event streams still closing after the server stops; dropped below.
    let counting = core.clone();
    // Every minute, events no client can replay and settled webhook history past its retention
    // are deleted in small batches (every node does it; the deletes are idempotent).
    let pruning = {
        let core = core.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match core.prune().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "pruned {n} rows"),
                    Err(e) => tracing::warn!(error = %e, "pruning failed: {e}"),
                }
            }
        })
    };
    // Members' sends are put to their app's before-send hook, if it has one.
    core.set_hook_caller(std::sync::Arc::new(sixin_webhooks::HookClient::new(&core)));
    let worker = settings
        .webhooks
        .clone()
        .map(|cfg| sixin_webhooks::Worker::start(core.clone(), cfg));
    let router = wiring::router(core, settings, &streams);
    let closing = streams.clone();
    let server = listener::serve(listener, router, settings.connections, cap, async move {
        let name = signals.recv().await;
        tracing::info!("{name} received: closing event streams, finishing in-flight requests");
        // Every event stream gets `closing` (reason `shutdown`) and reconnects elsewhere.
        closing.begin();
        let _ = stopping_tx.send(true);
    });
    let grace = settings.shutdown_grace;
    let deadline = async move {
        // Only starts counting once shutdown has begun; never completes otherwise.
        if stopping_rx.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    let started = tokio::time::Instant::now();
    tokio::select! {
        () = server => {}
        () = deadline => tracing::warn!(
            shutdown_grace_secs = grace.as_secs(),
            "connections still open after {}s (http.shutdown_grace_secs); closing them",
            grace.as_secs()
        ),
    }
    // WebSocket streams run outside the server's connection tracking: give them what is left
    // of the grace period to send their `closing` frame.
    while counting.open_streams() > 0 && started.elapsed() < grace {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pruning.abort();
    if let Some(worker) = worker {
        worker.stop().await;
    }
    // Its members no longer count as online for the offline hint of webhooks.
    if let Err(e) = counting.leave_node().await {
        tracing::warn!(error = %e, "removing this node's presence: {e}");
    }
    // Requests have drained: close the store. Writes still queued commit; SQLite then
    // checkpoints its WAL so the database file alone holds everything.
    match counting.close().await {
        Ok(()) => tracing::info!("database closed"),
        Err(e) => tracing::warn!(error = %e, "closing the database: {e}"),
    }
    drop(counting);
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT and SIGTERM, installed before serving so an early signal is not lost.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, ServeError> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt()).map_err(|e| ServeError::Signal("SIGINT", e))?,
            term: signal(SignalKind::terminate()).map_err(|e| ServeError::Signal("SIGTERM", e))?,
        })
    }

    async fn recv(mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}
