//! Clients of `GET /v1/events` for tests: [`WsClient`] (a real WebSocket, tokio-tungstenite)
//! and [`SseClient`] (a real HTTP response read chunk by chunk). Every wait is bounded, so a
//! missing frame fails the test instead of hanging it.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one wait for a frame may take.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

/// `ws://…/v1/events?after=…` for a server at `base` (`http://HOST:PORT`).
pub fn events_url(base: &str, after: Option<i64>) -> String {
    let ws = base.replacen("http://", "ws://", 1);
    match after {
        Some(a) => format!("{ws}/v1/events?after={a}"),
        None => format!("{ws}/v1/events"),
    }
}

/// A WebSocket event-stream client.
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a WebSocket stream ended.
#[derive(Debug, PartialEq)]
pub struct Closed {
    pub code: Option<u16>,
    pub reason: String,
}

impl WsClient {
    /// Connects with a Bearer header; panics with the HTTP answer if the upgrade is refused.
    pub async fn connect(base: &str, token: &str, after: Option<i64>) -> WsClient {
        Self::try_connect(base, token, after)
            .await
            .unwrap_or_else(|e| panic!("websocket refused: {e:?}"))
    }

    /// Connects with a Bearer header; the refusal (status and body) on failure.
    pub async fn try_connect(
        base: &str,
        token: &str,
        after: Option<i64>,
    ) -> Result<WsClient, (u16, String)> {
        let mut req = events_url(base, after)
            .into_client_request()
            .expect("a ws:// url");
        let bearer = format!("Bearer {token}").parse().expect("header value");
        req.headers_mut().insert("authorization", bearer);
        Self::open(req).await
    }

    /// Connects with the token in `access_token` (as a browser does).
    pub async fn connect_with_query_token(base: &str, token: &str) -> WsClient {
        let url = format!("{}?access_token={token}", events_url(base, None));
        let req = url.into_client_request().expect("a ws:// url");
        Self::open(req)
            .await
            .unwrap_or_else(|e| panic!("websocket refused: {e:?}"))
    }

    async fn open(
        req: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<WsClient, (u16, String)> {
        use tokio_tungstenite::tungstenite::Error;
        let connect = tokio_tungstenite::connect_async(req);
        match tokio::time::timeout(FRAME_WAIT, connect)
            .await
            .expect("handshake within the wait")
        {
            Ok((ws, _)) => Ok(WsClient { ws }),
            Err(Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((resp.status().as_u16(), body))
            }
            Err(e) => panic!("websocket handshake failed: {e}"),
        }
    }

    /// The next JSON frame (pings are answered and skipped). Panics if the stream closes.
    pub async fn frame(&mut self) -> Value {
        match self.next().await {
            Ok(v) => v,
            Err(closed) => panic!("stream closed while a frame was expected: {closed:?}"),
        }
    }

    /// The next JSON frame, or how the stream closed.
    pub async fn next(&mut self) -> Result<Value, Closed> {
        loop {
            let msg = tokio::time::timeout(FRAME_WAIT, self.ws.next())
                .await
                .expect("a frame within the wait");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Ok(serde_json::from_str(&t).expect("frames are JSON"))
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(Closed {
                        code: frame.as_ref().map(|f| u16::from(f.code)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    })
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(Closed {
                        code: None,
                        reason: e.to_string(),
                    })
                }
                None => {
                    return Err(Closed {
                        code: None,
                        reason: "eof".into(),
                    })
                }
            }
        }
    }

    /// The next frame, which must be an event (not `ready` or `closing`); returns it.
    pub async fn event(&mut self) -> Value {
        let f = self.frame().await;
        assert!(
            f.get("unread_total").is_some(),
            "expected an event frame, got {f}"
        );
        f
    }

    /// Whether a ping arrives within the wait (it is answered, as browsers do).
    pub async fn ping(&mut self) -> bool {
        loop {
            match tokio::time::timeout(FRAME_WAIT, self.ws.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                _ => return false,
            }
        }
    }

    /// Sends a ping and reads until the server's pong (skipping the server's pings, which are
    /// answered): afterwards the server has read everything this client sent before, pong
    /// replies included. A test on a paused clock calls this before moving the clock, so that
    /// no message of the client's races the heartbeat the move sets off.
    pub async fn sync(&mut self) {
        self.ws
            .send(Message::Ping(Default::default()))
            .await
            .expect("send a ping");
        loop {
            match tokio::time::timeout(FRAME_WAIT, self.ws.next()).await {
                Ok(Some(Ok(Message::Pong(_)))) => return,
                Ok(Some(Ok(Message::Ping(_)))) => continue,
                other => panic!("expected the server's pong, got {other:?}"),
            }
        }
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Sends a text frame (the server ignores it, but it counts as a sign of life).
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    /// A message event: its `id` and its `data` as JSON.
    Frame { id: Option<String>, data: Value },
    /// A comment line (heartbeat).
    Comment(String),
}

/// An SSE event-stream client over a real HTTP response.
pub struct SseClient {
    resp: reqwest::Response,
    buf: String,
    pending: std::collections::VecDeque<Sse>,
}

impl SseClient {
    /// `GET /v1/events` with a Bearer token and, if given, `Last-Event-ID`.
    pub async fn connect(
        client: &reqwest::Client,
        base: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> SseClient {
        let mut req = client
            .get(format!("{base}/v1/events"))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = tokio::time::timeout(FRAME_WAIT, req.send())
            .await
            .expect("answer within the wait")
            .expect("request");
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap_or_default();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        SseClient {
            resp,
            buf: String::new(),
            pending: Default::default(),
        }
    }

    /// The next event or comment; `None` when the body ends.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            let chunk = tokio::time::timeout(FRAME_WAIT, self.resp.chunk())
                .await
                .expect("a chunk within the wait")
                .expect("body");
            let chunk = chunk?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                self.pending.extend(parse_block(&block));
            }
        }
    }

    /// The next frame, skipping comments. Panics if the body ends.
    pub async fn frame(&mut self) -> (Option<String>, Value) {
        loop {
            match self.next().await {
                Some(Sse::Frame { id, data }) => return (id, data),
                Some(Sse::Comment(_)) => continue,
                None => panic!("the event stream ended while a frame was expected"),
            }
        }
    }
}

/// The events of one SSE block (comments each count as one).
fn parse_block(block: &str) -> Vec<Sse> {
    let mut out = Vec::new();
    let (mut id, mut data): (Option<String>, Option<String>) = (None, None);
    for line in block.lines() {
        if let Some(c) = line.strip_prefix(':') {
            out.push(Sse::Comment(c.trim().to_owned()));
        } else if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            let v = v.strip_prefix(' ').unwrap_or(v);
            data = Some(match data {
                Some(d) => format!("{d}\n{v}"),
                None => v.to_owned(),
            });
        }
    }
    if let Some(d) = data {
        out.push(Sse::Frame {
            id,
            data: serde_json::from_str(&d).expect("SSE data is JSON"),
        });
    }
    out
}
