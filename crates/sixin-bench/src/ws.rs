//! WebSocket clients of `GET /v1/events`: opened one or many at a time ([`open`],
//! [`open_many`]), held open while something reads their frames ([`hold`]), then stopped
//! together ([`stop_all`]).
//!
//! Every wait is bounded: a handshake and its `ready` frame by [`HANDSHAKE_TIMEOUT`], holding a
//! stream by a deadline and a frame count, closing by [`CLOSE_TIMEOUT`].

use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use reqwest::Url;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::stats::{self, Latency};

/// One client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The TCP connect, the upgrade and the `ready` frame must all come within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in flight at once while opening many streams.
pub const HANDSHAKES_IN_FLIGHT: usize = 64;
/// Sending our close frame and hearing the server's reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// A held stream stops reading after this many frames (a bound; no scenario comes near it).
const MAX_FRAMES_PER_STREAM: u64 = 100_000_000;
/// File descriptors kept free for the rest of the run while opening streams.
const FD_RESERVE: usize = 32;
/// Distinct error messages kept for the report.
const KEEP_ERRORS: usize = 5;
/// `EMFILE` on Linux: this process has as many file descriptors open as RLIMIT_NOFILE allows.
const EMFILE: i32 = 24;

/// Frames from the server are small; a 4 KiB read buffer (instead of tungstenite's eager
/// 128 KiB) keeps 20,000 client streams from costing the bench 2.5 GiB.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// `ws://HOST:PORT/v1/events` for the server at `base`.
pub fn events_url(base: &Url) -> anyhow::Result<Url> {
    let mut url = base.join("/v1/events")?;
    url.set_scheme("ws")
        .map_err(|()| anyhow::anyhow!("cannot turn {base} into a ws:// URL"))?;
    Ok(url)
}

/// Why a stream could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// This process ran out of file descriptors (RLIMIT_NOFILE).
    FdLimit(String),
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::FdLimit(e) | OpenError::Other(e) => f.write_str(e),
        }
    }
}

/// Opens one stream with a Bearer token and waits for its `ready` frame; returns the socket
/// and the ready position.
pub async fn open(url: &Url, token: &str) -> Result<(Ws, i64), OpenError> {
    let req = request(url, token)?;
    let handshake = async {
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true)
                .await
                .map_err(connect_error)?;
        let position = wait_ready(&mut ws).await?;
        Ok((ws, position))
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .unwrap_or_else(|_| {
            let secs = HANDSHAKE_TIMEOUT.as_secs();
            Err(OpenError::Other(format!("no ready frame within {secs}s")))
        })
}

/// The upgrade request for `url` with `Authorization: Bearer token`.
fn request(url: &Url, token: &str) -> Result<Request, OpenError> {
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| OpenError::Other(e.to_string()))?;
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| OpenError::Other("the token is not a header value".into()))?;
    req.headers_mut().insert("authorization", bearer);
    Ok(req)
}

fn connect_error(e: WsError) -> OpenError {
    match e {
        WsError::Io(io) if io.raw_os_error() == Some(EMFILE) => OpenError::FdLimit(io.to_string()),
        WsError::Http(resp) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            OpenError::Other(format!("HTTP {}: {body}", resp.status()))
        }
        e => OpenError::Other(e.to_string()),
    }
}

/// Reads up to the first text frame, which must be `ready`; returns its position.
async fn wait_ready(ws: &mut Ws) -> Result<i64, OpenError> {
    let other = |e: String| OpenError::Other(e);
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text)
                    .map_err(|_| other(format!("a frame that is not JSON: {text}")))?;
                return match (frame["type"].as_str(), frame["position"].as_i64()) {
                    (Some("ready"), Some(position)) => Ok(position),
                    _ => Err(other(format!("first frame is not ready: {text}"))),
                };
            }
            Some(Ok(Message::Close(f))) => {
                let reason = f.map(|f| f.reason.to_string()).unwrap_or_default();
                return Err(other(format!("closed before ready: {reason}")));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(other(e.to_string())),
            None => return Err(other("connection ended before ready".into())),
        }
    }
}

/// How opening many streams went.
#[derive(Debug, Default, Serialize)]
pub struct Opened {
    pub requested: usize,
    pub established: usize,
    pub failures: usize,
    /// The first few error messages.
    pub first_errors: Vec<String>,
    /// Opening stopped because this process ran out of file descriptors.
    pub fd_limit_hit: bool,
    /// Opening stopped because its time was up.
    pub deadline_hit: bool,
    pub elapsed_secs: f64,
    /// Handshake (TCP connect, upgrade, `ready` frame) latency of the established streams.
    pub handshake: Latency,
}

impl Opened {
    /// Counts a failed open, keeping the first few distinct messages.
    fn failed(&mut self, error: String) {
        self.failures += 1;
        if self.first_errors.len() < KEEP_ERRORS && !self.first_errors.contains(&error) {
            self.first_errors.push(error);
        }
    }

    /// Counts an open that failed for want of file descriptors (warning the first time).
    fn fd_limit(&mut self, e: String) {
        if !self.fd_limit_hit {
            tracing::warn!(
                "stopped opening streams: this process ran out of file descriptors \
                 ({e}); raise RLIMIT_NOFILE or split the load over processes"
            );
        }
        self.fd_limit_hit = true;
        self.failed(format!("{e} (this bench process's RLIMIT_NOFILE)"));
    }
}

/// A handshake in flight: the stream's index, how it went, how long it took.
type Handshake = (usize, Result<(Ws, i64), OpenError>, Duration);

async fn timed_open(url: Url, token: String, i: usize) -> Handshake {
    let t = Instant::now();
    (i, open(&url, &token).await, t.elapsed())
}

/// Opens one stream per token, [`HANDSHAKES_IN_FLIGHT`] at a time, handing each established
/// one to `on_open` with its index. Stops early at `deadline` or when this process runs out
/// of file descriptors.
pub async fn open_many(
    url: &Url,
    tokens: &[String],
    deadline: Instant,
    mut on_open: impl FnMut(usize, Ws),
) -> Opened {
    // File descriptors held back while opening, so that when the streams use up RLIMIT_NOFILE
    // the rest of the run can still read /proc, send requests and close streams.
    let reserve: Vec<std::fs::File> = (0..FD_RESERVE)
        .filter_map(|_| std::fs::File::open("/dev/null").ok())
        .collect();
    let start = Instant::now();
    let mut in_flight: JoinSet<Handshake> = JoinSet::new();
    let mut next = 0;
    let mut out = Opened {
        requested: tokens.len(),
        ..Opened::default()
    };
    let mut handshake_us = Vec::new();
    loop {
        while in_flight.len() < HANDSHAKES_IN_FLIGHT && next < tokens.len() && !out.fd_limit_hit {
            if Instant::now() >= deadline {
                out.deadline_hit = true;
                break;
            }
            in_flight.spawn(timed_open(url.clone(), tokens[next].clone(), next));
            next += 1;
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        match joined {
            Ok((i, Ok((ws, _position)), took)) => {
                handshake_us.push(stats::micros(took));
                out.established += 1;
                on_open(i, ws);
            }
            Ok((_, Err(OpenError::FdLimit(e)), _)) => out.fd_limit(e),
            Ok((_, Err(e), _)) => out.failed(e.to_string()),
            Err(e) => out.failed(format!("a handshake task failed: {e}")),
        }
    }
    drop(reserve);
    out.elapsed_secs = start.elapsed().as_secs_f64();
    out.handshake = Latency::from_us(handshake_us);
    out
}

/// How a held stream ended: `None` if still open when told to stop (or at the deadline), else
/// why it closed earlier (the server's `closing` reason, a close frame, an error).
pub type Held = Option<String>;

/// Reads a stream's frames until `stop` turns true or `until` passes, handing each JSON frame
/// to `on_frame` with the instant it arrived (pings are answered while reading); then closes
/// it.
pub async fn hold(
    mut ws: Ws,
    mut stop: watch::Receiver<bool>,
    until: Instant,
    mut on_frame: impl FnMut(Instant, &Value),
) -> Held {
    let until = tokio::time::Instant::from_std(until);
    let mut closing_reason = None;
    for _ in 0..MAX_FRAMES_PER_STREAM {
        let msg = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep_until(until) => break,
            msg = ws.next() => msg,
        };
        let at = Instant::now();
        match msg {
            Some(Ok(Message::Text(text))) => {
                if let Ok(frame) = serde_json::from_str::<Value>(&text) {
                    if frame["type"] == "closing" {
                        closing_reason = frame["reason"].as_str().map(str::to_owned);
                    }
                    on_frame(at, &frame);
                }
            }
            Some(Ok(Message::Close(f))) => {
                let code = f.as_ref().map(|f| u16::from(f.code));
                let reason = closing_reason.or_else(|| f.map(|f| f.reason.to_string()));
                let reason = reason.unwrap_or_default();
                return Some(format!("closed by the server ({code:?}): {reason}"));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Some(e.to_string()),
            None => return Some("connection ended".to_owned()),
        }
    }
    close(&mut ws).await;
    None
}

/// The closing handshake: our close frame, then the server's reply, within [`CLOSE_TIMEOUT`].
async fn close(ws: &mut Ws) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if ws.send(Message::Close(None)).await.is_err() {
            return;
        }
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Held streams, tallied.
#[derive(Debug, Default, Serialize)]
pub struct HeldTally {
    pub open_at_stop: usize,
    pub closed_early: usize,
    /// The first few reasons streams closed early.
    pub first_close_reasons: Vec<String>,
}

impl HeldTally {
    fn closed(&mut self, reason: String) {
        self.closed_early += 1;
        if self.first_close_reasons.len() < KEEP_ERRORS {
            self.first_close_reasons.push(reason);
        }
    }
}

/// Tells every holder to stop and waits for them (each closes within [`CLOSE_TIMEOUT`]; the
/// whole wait is bounded by `within`).
pub async fn stop_all(
    stop: &watch::Sender<bool>,
    holders: &mut JoinSet<Held>,
    within: Duration,
) -> HeldTally {
    let _ = stop.send(true);
    let mut tally = HeldTally::default();
    let _ = tokio::time::timeout(within, async {
        while let Some(joined) = holders.join_next().await {
            match joined {
                Ok(None) => tally.open_at_stop += 1,
                Ok(Some(reason)) => tally.closed(reason),
                Err(e) => tally.closed(format!("a holder failed: {e}")),
            }
        }
    })
    .await;
    holders.abort_all();
    tally
}

/// The bench counter carried by a `message` frame: `N` from content `bench-N`.
pub fn bench_seq(frame: &Value) -> Option<u64> {
    if frame["type"] != "message" {
        return None;
    }
    frame["message"]["data"]["content"]
        .as_str()?
        .strip_prefix("bench-")?
        .parse()
        .ok()
}

/// This process's RLIMIT_NOFILE ("unlimited" or a number).
#[derive(Debug, Serialize)]
pub struct OpenFilesLimit {
    pub soft: String,
    pub hard: String,
}

/// The soft and hard RLIMIT_NOFILE of this process, from /proc (Linux).
pub fn open_files_limit() -> Option<OpenFilesLimit> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line.trim_start_matches("Max open files").split_whitespace();
    Some(OpenFilesLimit {
        soft: fields.next()?.to_owned(),
        hard: fields.next()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bench_frames_carry_their_counter() {
        let frame = json!({"type": "message", "message": {"data": {"content": "bench-42"}}});
        assert_eq!(bench_seq(&frame), Some(42));
        let other = json!({"type": "message", "message": {"data": {"content": "hello"}}});
        assert_eq!(bench_seq(&other), None);
        assert_eq!(bench_seq(&json!({"type": "ready", "position": 3})), None);
    }

    #[test]
    fn the_events_url_is_websocket() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            events_url(&base).unwrap().as_str(),
            "ws://127.0.0.1:8080/v1/events"
        );
    }
}
