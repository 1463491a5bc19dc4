//! `GET /v1/events`: a member's event stream over WebSocket (when the request asks to upgrade)
//! or Server-Sent Events (otherwise). The core decides what the stream holds
//! ([`sixin_core::Core::subscribe`]); this module only frames it and keeps the connection
//! alive:
//! - the first frame is `ready` with the position the stream continues from;
//! - every heartbeat the session is re-checked and a WebSocket ping (SSE: a comment) is sent;
//!   a WebSocket client silent for longer than the idle timeout is closed;
//! - a frame that cannot be written within the write timeout drops the connection (the client
//!   resumes by position); a stream that lags in the core is closed with `lagged`;
//! - on shutdown every stream gets a `closing` frame with reason `shutdown`;
//! - when its session ends (logout, ban) the stream is closed at once with `session_ended`,
//!   and the heartbeat's session check catches the case where that news was lost.
//!
//! The token comes from `Authorization: Bearer`, or `access_token` in the query for clients
//! that cannot set headers (browser `WebSocket` and `EventSource`). The position to resume after
//! is `after` in the query or, for SSE, the `Last-Event-ID` header (which wins).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::header::{AUTHORIZATION, UPGRADE};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sixin_core::ids::Position;
use sixin_core::service::{EventStream, StreamItem};
use sixin_core::Error;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use super::dto::{CloseReason, StreamFrameDto};
use super::error::ApiError;
use crate::state::AppState;
use crate::EventStreamConfig;

/// Query parameters of `GET /v1/events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Resume after this position (the last one the client saw). Absent: from now.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
    /// The session token, for clients that cannot send an `Authorization` header.
    pub access_token: Option<String>,
}

/// The largest frame a client may send (clients need not send anything; pongs are small).
const MAX_CLIENT_FRAME: usize = 4096;

/// `GET /v1/events` — the caller's live event stream.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery,
        ("Last-Event-ID" = Option<String>, Header,
            description = "SSE: resume after this position (set by EventSource on reconnect)")),
    responses(
        (status = 101, description = "WebSocket (request sent `Upgrade: websocket`): one \
            JSON `StreamFrame` per text message"),
        (status = 200, description = "Server-Sent Events: each event's `data` is a JSON \
            `StreamFrame` and its `id` the frame's position", body = StreamFrameDto,
            content_type = "text/event-stream"),
        (status = 400, description = "`after` is not a position", body = crate::native::error::ErrorEnvelope),
        (status = 401, description = "No valid session", body = crate::native::error::ErrorEnvelope),
        (status = 429, description = "Too many open streams for this member (`too_many_streams`)",
            body = crate::native::error::ErrorEnvelope),
    ),
    security(("bearer" = [])))]
pub(crate) async fn events(State(s): State<AppState>, req: Request) -> Response {
    match open(&s, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn open(s: &AppState, req: Request) -> Result<Response, ApiError> {
    let (mut parts, _body) = req.into_parts();
    let q = Query::<EventsQuery>::try_from_uri(&parts.uri)
        .map_err(|e| ApiError::invalid_request(e.body_text()))?
        .0;
    let websocket = parts
        .headers
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let after = match (websocket, parts.headers.get("last-event-id")) {
        (false, Some(id)) => Some(id.to_str().unwrap_or("-").to_owned()),
        _ => q.after,
    };
    let after = after
        .map(|a| {
            a.trim()
                .parse::<i64>()
                .map(Position)
                .map_err(|_| Error::invalid("after", "must be a position (0 or more)"))
        })
        .transpose()?;
    let token = token(&parts.headers, q.access_token.as_deref())?;
    let stream = s.core.subscribe(token, after).await?;
    let span = tracing::Span::current();
    let cfg = s.events.clone();
    let shutdown = s.shutdown.subscribe();
    if websocket {
        let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, s)
            .await
            .map_err(|e| ApiError::invalid_request(e.body_text()))?;
        let upgrade = upgrade
            .read_buffer_size(MAX_CLIENT_FRAME)
            .write_buffer_size(0)
            .max_message_size(MAX_CLIENT_FRAME)
            .max_frame_size(MAX_CLIENT_FRAME);
        Ok(upgrade.on_upgrade(move |socket| {
            websocket_loop(socket, stream, cfg, shutdown).instrument(span)
        }))
    } else {
        Ok(sse(stream, cfg, shutdown).into_response())
    }
}

/// The session token: the Bearer header, else the `access_token` query parameter.
fn token<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Result<&'a str, Error> {
    if headers.contains_key(AUTHORIZATION) {
        return super::auth::bearer(headers);
    }
    query.ok_or(Error::Unauthenticated)
}

fn json(frame: &StreamFrameDto) -> String {
    serde_json::to_string(frame).expect("stream frames are plain data")
}

/// What the connection loop does next, whatever the transport.
enum Step {
    /// A frame, as JSON.
    Send(String),
    Heartbeat,
    Close(CloseReason),
}

/// Waits for the next thing to do: an item of the stream, a heartbeat (after re-checking the
/// session), or shutdown.
async fn step(
    stream: &mut EventStream,
    heartbeat: &mut tokio::time::Interval,
    shutdown: &mut watch::Receiver<bool>,
) -> Step {
    if *shutdown.borrow() {
        return Step::Close(CloseReason::Shutdown);
    }
    tokio::select! {
        item = stream.next() => match item {
            Ok(StreamItem::Event(e)) => Step::Send(json(&StreamFrameDto::from(&e))),
            Ok(StreamItem::Resync { latest }) => {
                Step::Send(json(&StreamFrameDto::Resync { position: latest.0 }))
            }
            Ok(StreamItem::Lagged) => Step::Close(CloseReason::Lagged),
            Ok(StreamItem::SessionEnded) => Step::Close(CloseReason::SessionEnded),
            Err(e) => {
                tracing::warn!(error = %e, "event stream could not read the store");
                Step::Close(CloseReason::Unavailable)
            }
        },
        _ = heartbeat.tick() => match stream.check_session().await {
            Ok(()) => Step::Heartbeat,
            Err(Error::Unauthenticated | Error::Banned) => Step::Close(CloseReason::SessionEnded),
            Err(e) => {
                tracing::warn!(error = %e, "event stream could not check its session");
                Step::Heartbeat
            }
        },
        _ = shutdown.changed() => Step::Close(CloseReason::Shutdown),
    }
}

fn ready(stream: &EventStream, cfg: &EventStreamConfig) -> StreamFrameDto {
    StreamFrameDto::Ready {
        position: stream.position().0,
        heartbeat_ms: u64::try_from(cfg.heartbeat.as_millis()).unwrap_or(u64::MAX),
    }
}

fn heartbeat(every: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(Instant::now() + every, every);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

async fn websocket_loop(
    mut socket: WebSocket,
    mut stream: EventStream,
    cfg: EventStreamConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = heartbeat(cfg.heartbeat);
    let mut last_heard = Instant::now();
    let mut next = Some(json(&ready(&stream, &cfg)));
    loop {
        if let Some(text) = next.take() {
            let sent = tokio::time::timeout(cfg.write_timeout, socket.send(Message::text(text)));
            if !matches!(sent.await, Ok(Ok(()))) {
                tracing::debug!("event stream dropped: the client did not take a frame in time");
                return;
            }
        }
        tokio::select! {
            step = step(&mut stream, &mut ticks, &mut shutdown) => match step {
                Step::Send(frame) => next = Some(frame),
                Step::Heartbeat => {
                    if last_heard.elapsed() > cfg.idle_timeout {
                        close(socket, &stream, CloseReason::Idle, cfg.write_timeout).await;
                        return;
                    }
                    let ping = socket.send(Message::Ping(Default::default()));
                    if !matches!(tokio::time::timeout(cfg.write_timeout, ping).await, Ok(Ok(()))) {
                        return;
                    }
                }
                Step::Close(reason) => {
                    close(socket, &stream, reason, cfg.write_timeout).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                // Pongs, and anything else the client sends, only show it is alive.
                Some(Ok(_)) => last_heard = Instant::now(),
            },
        }
    }
}

/// Sends the `closing` frame and the close frame, then waits for the client's close reply (the
/// WebSocket closing handshake), all within the write timeout.
async fn close(mut socket: WebSocket, stream: &EventStream, reason: CloseReason, within: Duration) {
    let frame = json(&StreamFrameDto::Closing {
        reason,
        position: stream.position().0,
    });
    let _ = tokio::time::timeout(within, async {
        socket.send(Message::text(frame)).await?;
        socket
            .send(Message::Close(Some(CloseFrame {
                code: reason.ws_code(),
                reason: reason.as_str().into(),
            })))
            .await?;
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    })
    .await;
}

/// The SSE response: frames as events (`id` = position where there is one), heartbeats as
/// comments, and a final `closing` frame before the body ends.
fn sse(
    stream: EventStream,
    cfg: EventStreamConfig,
    shutdown: watch::Receiver<bool>,
) -> Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>> {
    struct State {
        stream: EventStream,
        ticks: tokio::time::Interval,
        shutdown: watch::Receiver<bool>,
        first: Option<String>,
        done: bool,
    }
    let retry = cfg.heartbeat.min(Duration::from_secs(2));
    let state = State {
        first: Some(json(&ready(&stream, &cfg))),
        ticks: heartbeat(cfg.heartbeat),
        stream,
        shutdown,
        done: false,
    };
    let events = futures::stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(frame) = st.first.take() {
            let event = sse_event(frame, st.stream.position()).retry(retry);
            return Some((Ok(event), st));
        }
        let event = match step(&mut st.stream, &mut st.ticks, &mut st.shutdown).await {
            Step::Send(frame) => sse_event(frame, st.stream.position()),
            Step::Heartbeat => SseEvent::default().comment("ping"),
            Step::Close(reason) => {
                st.done = true;
                let frame = StreamFrameDto::Closing {
                    reason,
                    position: st.stream.position().0,
                };
                sse_event(json(&frame), st.stream.position())
            }
        };
        Some((Ok(event), st))
    });
    Sse::new(events)
}

fn sse_event(frame: String, position: Position) -> SseEvent {
    SseEvent::default().id(position.0.to_string()).data(frame)
}
