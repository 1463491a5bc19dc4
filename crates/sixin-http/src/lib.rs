//! sixin-http: every HTTP surface of sixin. Handlers translate HTTP into calls on
//! [`sixin_core::Core`] and render the results; no rule is decided here.
//!
//! Map of the crate:
//! - [`router`] and [`HttpConfig`]: the whole HTTP surface as one axum [`Router`].
//! - `state`: what every handler shares (the core, metrics, the OpenAPI document).
//! - `middleware`: request ids, one trace span per request, the timeout, the request-target
//!   limit, the panic guard, request metrics; `refusal` answers their refusals in the envelope of
//!   the dialect whose path was asked.
//! - `client_ip`: the client's IP address, from the peer and, behind trusted proxies,
//!   `X-Forwarded-For`; registration and login pass it to the core for the per-IP limits.
//! - `cors`: cross-origin access for browsers to `/v1` (`http.cors_allowed_origins`).
//! - `ops`: `GET /healthz` and `GET /metrics` (Prometheus text).
//! - `native`: the native REST/JSON API under `/v1`, split into `routes` (the route table),
//!   `auth` (Bearer token → [`sixin_core::Caller`]), `extract` (JSON/path/query extractors whose
//!   rejections use the error envelope), `cursor` (opaque page cursors), `dto` (request and
//!   response bodies), `error` (core errors → status + envelope) and one handler module per
//!   capability (`members`, `messages`, `conversations`, `events` — the WebSocket/SSE stream).
//! - `server`: the server API for an app's backend under `/v1/server` (its own JWT auth and
//!   OpenAPI tag; the native error envelope).
//! - `discuz`: the Discuz! pm plugin dialect at `/plugin.php` (`action=pm_get`), JSON with
//!   `\uXXXX` escapes or XML, the outcome in `code` with HTTP 200.
//! - `yesapi`: the YesApi dialect (`App.Market_ChatMessage.*`, `App.User.*`) at `/` and
//!   `/api/App/...`; `phalapi`: the APIUSB dialect at `/api/platform`. Both answer HTTP 200
//!   with a PhalApi `ret` code; `common` holds their shared parameter, signature, envelope and
//!   time-format mechanics.
//! - `openapi`: the OpenAPI 3.1 document generated from the native handlers
//!   ([`openapi_json`]); `openapi.json` at the repository root is a snapshot of it, checked
//!   by a test.

mod client_ip;
mod common;
mod cors;
mod discuz;
mod middleware;
mod native;
mod openapi;
mod ops;
mod phalapi;
mod refusal;
mod server;
mod state;
mod yesapi;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use sixin_core::Core;

pub use client_ip::parse_trusted_proxy;
pub use cors::check_origin;
pub use ipnet::IpNet;
pub use openapi::openapi_json;
pub use server::export::export_line;

/// HTTP-level settings. Everything about messaging lives in [`sixin_core::CoreConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The largest request body accepted; larger bodies get `413 payload_too_large`.
    pub body_limit_bytes: usize,
    /// How long a request may take end to end; slower ones get `503 timeout` (dialects: their
    /// own envelope).
    pub request_timeout: Duration,
    /// The longest request target (path and `?query`) accepted, in bytes; longer ones get
    /// `414 uri_too_long` (dialects: their own envelope).
    pub max_uri_bytes: usize,
    /// Origins whose browser pages may call `/v1` (CORS), exactly as browsers send `Origin`
    /// (`https://app.example.com`), or the single entry `*` for any origin. Empty: no CORS
    /// headers at all, so browsers on other origins are refused.
    pub cors_allowed_origins: Vec<String>,
    /// The time zone the YesApi dialect shows times in (`add_time`, `YYYY-MM-DD HH:MM:SS`).
    pub time_zone: jiff::tz::TimeZone,
    /// Whether PhalApi requests that ask with `__debug__=1` get the `debug` block.
    pub phalapi_debug: bool,
    /// Heartbeats and timeouts of `GET /v1/events`.
    pub events: EventStreamConfig,
    /// Whether every request gets an `info` access line (method, route, status, duration);
    /// otherwise those lines are `debug`.
    pub access_log: bool,
    /// Peers whose `X-Forwarded-For` is believed when working out a request's client IP
    /// (load balancers, reverse proxies). Empty: the peer itself is the client.
    pub trusted_proxies: Vec<IpNet>,
}

/// How event streams (`GET /v1/events`) are kept alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStreamConfig {
    /// How often a WebSocket ping (SSE: a comment) is sent and the session re-checked.
    pub heartbeat: Duration,
    /// A WebSocket client that sends nothing (not even a pong) for this long is closed.
    pub idle_timeout: Duration,
    /// A frame the client does not take within this long drops the connection.
    pub write_timeout: Duration,
}

impl Default for EventStreamConfig {
    fn default() -> Self {
        EventStreamConfig {
            heartbeat: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Tells open event streams that this node is going away: each gets a `closing` frame with
/// reason `shutdown` and is closed, so clients reconnect (elsewhere). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Sender<bool>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(tokio::sync::watch::Sender::new(false))
    }
}

impl Shutdown {
    /// Closes every event stream of routers built with this handle, now and from now on.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_uri_bytes: 32 * 1024,
            cors_allowed_origins: Vec::new(),
            time_zone: common::time::default_zone(),
            phalapi_debug: false,
            events: EventStreamConfig::default(),
            access_log: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Every HTTP route of sixin over `core`: the native API under `/v1`, `/healthz` and
/// `/metrics`, with request ids, per-request spans, the body limit, the timeout and metrics.
/// Unknown paths under `/v1` answer `404` in the native error envelope; the router sets no
/// fallback outside `/v1`, so it can be merged with other routers.
pub fn router(core: Core, cfg: HttpConfig) -> Router {
    router_with_shutdown(core, cfg, &Shutdown::default())
}

/// [`router`], with event streams that close when `shutdown` begins.
pub fn router_with_shutdown(core: Core, cfg: HttpConfig, shutdown: &Shutdown) -> Router {
    let state = state::AppState::new(core, &cfg, shutdown);
    let router = Router::new()
        .merge(ops::routes())
        .nest("/v1", native::routes::routes())
        .merge(yesapi::routes(state.core.clone(), &cfg))
        .merge(phalapi::routes(state.core.clone(), &cfg))
        .merge(discuz::routes())
        .layer(DefaultBodyLimit::max(cfg.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state);
    match cors::cors_layer(&cfg.cors_allowed_origins) {
        Some(cors) => router.layer(axum::middleware::from_fn_with_state(cors, cors::v1_only)),
        None => router,
    }
}
