//! The HTTP listener under `sixin serve`: accepts TCP connections and serves HTTP/1.1 on each
//! (WebSocket upgrades included) with the router, within limits that keep a crowd of idle or
//! slow clients from taking the server away from everyone else:
//!
//! - `http.max_connections` (lowered to fit the open-file limit): at the cap, a new connection
//!   makes room by closing the oldest *idle* connection (no request in progress); if every
//!   connection is busy the new one is closed at once. So idle sockets cannot keep `/healthz`
//!   or anyone else out. Running out of file descriptors (`EMFILE`) is handled the same way:
//!   the oldest idle connection is closed, accepting resumes after a short pause, and the
//!   condition is logged at most once every 10 s.
//! - `http.header_read_timeout_secs`: a connection must deliver a complete request head within
//!   this long of opening (or of its first byte after an idle pause), else it is closed
//!   (slow-header clients, "slowloris").
//! - `http.keep_alive_idle_secs`: a keep-alive connection with no request for this long is
//!   closed.
//!
//! Each request carries its connection's peer address (axum's `ConnectInfo<SocketAddr>`), from
//! which sixin-http works out the client IP.
//!
//! Connections stop being counted once upgraded to WebSocket; event streams are bounded by
//! `events.max_streams_per_member`. On shutdown the listener closes, connections with nothing
//! in progress close at once, and in-flight requests finish (then their connections close).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt as _;

/// The connection limits of `[http]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// The most client connections open at once (before fitting it to the open-file limit).
    pub max_connections: usize,
    /// How long a connection may take to deliver a complete request head.
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub keep_alive_idle: Duration,
}

/// File descriptors kept back from client connections: the listener, the database, NATS, logs.
const FD_RESERVE: u64 = 64;
/// The pause before accepting again after running out of file descriptors.
const EXHAUSTED_PAUSE: Duration = Duration::from_millis(10);
/// Running out of file descriptors, or reaching the cap, is logged at most this often.
const EXHAUSTED_LOG_EVERY: Duration = Duration::from_secs(10);

/// Raises the open-file soft limit to the hard limit and logs the result once; the soft limit
/// now in force, if it could be read.
pub fn raise_open_file_limit() -> Option<u64> {
    let (before, hard) = match rlimit::Resource::NOFILE.get() {
        Ok(limits) => limits,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit: {e}");
            return None;
        }
    };
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) if now > before => {
            tracing::info!(
                fd.soft_before = before,
                fd.soft = now,
                "open-file limit raised from {before} to {now}"
            );
            Some(now)
        }
        Ok(now) => {
            tracing::info!(
                fd.soft = now,
                fd.hard = hard,
                "open-file limit {now} (already the hard limit)"
            );
            Some(now)
        }
        Err(e) => {
            tracing::warn!(error = %e, fd.soft = before, "open-file limit stays {before}: {e}");
            Some(before)
        }
    }
}

/// `configured`, lowered so client connections leave [`FD_RESERVE`] descriptors of `fd_limit`.
pub fn connection_cap(configured: usize, fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(limit) => {
            let room = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
            configured.min(room.max(1))
        }
        None => configured,
    }
}

/// Serves `router` on `listener` with at most `cap` connections until `shutdown` completes,
/// then stops accepting, lets in-flight requests finish and returns once every connection has
/// closed. Dropping the returned future closes every connection at once.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    cap: usize,
    shutdown: impl Future<Output = ()>,
) {
    let table = Arc::new(Table::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut exhausted_logged: Option<Instant> = None;
    let mut cap_logged: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors (or memory): make room and pause; never spin or stop.
                if exhausted_logged.is_none_or(|at| at.elapsed() >= EXHAUSTED_LOG_EVERY) {
                    tracing::warn!(error = %e, http.connections = table.len(),
                        "cannot accept connections: {e}; closing the oldest idle ones");
                    exhausted_logged = Some(Instant::now());
                }
                table.evict_oldest_idle();
                tokio::time::sleep(EXHAUSTED_PAUSE).await;
                continue;
            }
        };
        if table.len() >= cap {
            if cap_logged.is_none_or(|at| at.elapsed() >= EXHAUSTED_LOG_EVERY) {
                tracing::warn!(
                    http.max_connections = cap,
                    "at {cap} connections (http.max_connections): closing the oldest idle ones \
                     to make room, refusing new ones while all are busy"
                );
                cap_logged = Some(Instant::now());
            }
            if !table.evict_oldest_idle() {
                tracing::debug!(
                    http.max_connections = cap,
                    "every connection is busy: refusing one"
                );
                continue;
            }
        }
        let _ = stream.set_nodelay(true);
        let (id, activity, evicted) = table.insert();
        let conn = Connection {
            table: table.clone(),
            id,
            activity,
            limits,
        };
        tasks.spawn(conn.run(stream, peer, router.clone(), evicted, stop_rx.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Errors of one incoming connection (it went away before being accepted), not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The open connections, oldest first (ids only grow).
#[derive(Default)]
struct Table {
    inner: Mutex<TableInner>,
}

type Entry = (Arc<Activity>, oneshot::Sender<()>);

#[derive(Default)]
struct TableInner {
    next_id: u64,
    conns: BTreeMap<u64, Entry>,
}

impl Table {
    fn lock(&self) -> std::sync::MutexGuard<'_, TableInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.lock().conns.len()
    }

    fn insert(&self) -> (u64, Arc<Activity>, oneshot::Receiver<()>) {
        let mut t = self.lock();
        let id = t.next_id;
        t.next_id += 1;
        let activity = Arc::new(Activity::new());
        let (tx, rx) = oneshot::channel();
        t.conns.insert(id, (activity.clone(), tx));
        (id, activity, rx)
    }

    fn remove(&self, id: u64) {
        self.lock().conns.remove(&id);
    }

    /// Tells the oldest connection without a request in progress to close; whether there was one.
    fn evict_oldest_idle(&self) -> bool {
        let mut t = self.lock();
        let victim = t
            .conns
            .iter()
            .find(|(_, (a, _))| a.in_flight.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match victim.and_then(|id| t.conns.remove(&id)) {
            Some((_, tx)) => {
                let _ = tx.send(());
                true
            }
            None => false,
        }
    }
}

/// What a connection is doing, shared by its task, its socket wrapper and its requests.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` that the last response ended.
    idle_since_ms: AtomicU64,
    /// Milliseconds after `opened` that the request head now being read began; [`NONE`] when
    /// none is being read. A new connection owes its first head at once.
    head_since_ms: AtomicU64,
}

const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            head_since_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    /// Bytes arrived: on an idle connection, a request head has begun.
    fn on_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since_ms.load(Ordering::Acquire) == NONE
        {
            self.head_since_ms.store(self.now_ms(), Ordering::Release);
        }
    }

    /// When the connection is to be closed, and why; `None` while a request is in progress.
    fn deadline(&self, limits: &ConnLimits) -> Option<(Instant, &'static str)> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ms = |v: &AtomicU64| Duration::from_millis(v.load(Ordering::Acquire));
        match self.head_since_ms.load(Ordering::Acquire) {
            NONE => Some((
                self.opened + ms(&self.idle_since_ms) + limits.keep_alive_idle,
                "idle longer than http.keep_alive_idle_secs",
            )),
            _ => Some((
                self.opened + ms(&self.head_since_ms) + limits.header_read_timeout,
                "no complete request head within http.header_read_timeout_secs",
            )),
        }
    }
}

/// A request in progress on a connection, from its head until its response body is done.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head_since_ms.store(NONE, Ordering::Release);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since_ms.store(a.now_ms(), Ordering::Release);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One accepted connection.
struct Connection {
    table: Arc<Table>,
    id: u64,
    activity: Arc<Activity>,
    limits: ConnLimits,
}

impl Connection {
    async fn run(
        self,
        stream: TcpStream,
        peer: SocketAddr,
        router: Router,
        mut evicted: oneshot::Receiver<()>,
        mut stopping: watch::Receiver<bool>,
    ) {
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: self.activity.clone(),
        });
        let activity = self.activity.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // The peer's address, as axum's own server gives it: the client IP starts here.
            req.extensions_mut().insert(ConnectInfo(peer));
            let guard = InFlight::begin(&activity);
            let router = router.clone();
            async move {
                let response = match router.oneshot(req).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                // The request stays in progress until its body (an event stream, say) is done.
                let response = response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _in_flight = &guard;
                        frame
                    }))
                });
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        // Head and idle deadlines are kept here, not by hyper (whose timer would also cut idle
        // keep-alive connections at the head deadline).
        builder.header_read_timeout(None);
        let conn = builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(conn);
        let mut draining = false;
        // Requests and bytes do not wake this task (that would cost every request a wakeup):
        // it wakes at its deadline, and at least every `recheck`. A deadline that starts while
        // it sleeps (a head begun, a response ended) ends at least `recheck` later, so it is
        // never missed nor late.
        let recheck = self
            .limits
            .header_read_timeout
            .min(self.limits.keep_alive_idle);
        loop {
            let deadline = self.activity.deadline(&self.limits);
            let next_check = Instant::now() + recheck;
            let wake_at = deadline.map_or(next_check, |(at, _)| at.min(next_check));
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended: {e}");
                    }
                    break;
                }
                _ = &mut evicted => {
                    tracing::debug!("closing an idle connection to make room (http.max_connections)");
                    break;
                }
                _ = stopping.changed(), if !draining => {
                    // Nothing in progress: close now. Else finish the request, then close.
                    if self.activity.in_flight.load(Ordering::Acquire) == 0 {
                        break;
                    }
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = tokio::time::sleep_until(wake_at) => {
                    if let Some((at, why)) = self.activity.deadline(&self.limits) {
                        if at <= Instant::now() {
                            tracing::debug!("closing a connection: {why}");
                            break;
                        }
                    }
                }
            }
        }
        self.table.remove(self.id);
    }
}

/// A client socket that tells its [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_descriptors_for_the_rest() {
        assert_eq!(connection_cap(10_000, Some(1024)), 960);
        assert_eq!(connection_cap(100, Some(1024)), 100);
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(10)), 1);
    }

    #[test]
    fn the_oldest_idle_connection_is_the_one_to_go() {
        let table = Table::default();
        let (_, busy, _busy_rx) = table.insert();
        let (_, _idle, mut idle_rx) = table.insert();
        let (_, _newer, mut newer_rx) = table.insert();
        let _request = InFlight::begin(&busy);
        assert!(table.evict_oldest_idle());
        assert!(idle_rx.try_recv().is_ok(), "the oldest idle one is told");
        assert!(newer_rx.try_recv().is_err());
        assert_eq!(table.len(), 2);
        assert!(table.evict_oldest_idle());
        assert!(
            !table.evict_oldest_idle(),
            "a busy connection is never evicted"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_what_the_connection_is_doing() {
        let limits = ConnLimits {
            max_connections: 10,
            header_read_timeout: Duration::from_secs(2),
            keep_alive_idle: Duration::from_secs(60),
        };
        let a = Arc::new(Activity::new());
        let opened = a.opened;
        let (at, _) = a.deadline(&limits).unwrap();
        assert_eq!(
            at,
            opened + Duration::from_secs(2),
            "a new connection owes a head"
        );
        let request = InFlight::begin(&a);
        assert!(
            a.deadline(&limits).is_none(),
            "no deadline while a request runs"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(request);
        let (at, why) = a.deadline(&limits).unwrap();
        assert_eq!(at, opened + Duration::from_secs(65));
        assert!(why.contains("keep_alive_idle"));
        tokio::time::advance(Duration::from_secs(1)).await;
        a.on_read();
        let (at, why) = a.deadline(&limits).unwrap();
        assert_eq!(at, opened + Duration::from_secs(8));
        assert!(why.contains("header_read_timeout"));
    }
}
