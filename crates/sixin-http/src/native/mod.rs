//! The native REST/JSON API under `/v1`: Bearer tokens, cursors, one JSON error envelope.
//!
//! - `routes`: the route table (and the `/v1` fallbacks).
//! - `auth`: Bearer token → [`sixin_core::Caller`].
//! - `extract`: JSON, path and query extractors whose rejections use the error envelope.
//! - `cursor`: opaque page cursors.
//! - `dto`: request and response bodies (serde + OpenAPI schemas) and their conversions.
//! - `error`: [`sixin_core::Error`] → HTTP status and envelope, one exhaustive match.
//! - `members`, `messages`, `conversations`, `blocks`, `reports`: the handlers, one module per
//!   capability.
//! - `events`: `GET /v1/events`, the event stream over WebSocket or Server-Sent Events.

pub(crate) mod auth;
pub(crate) mod blocks;
pub(crate) mod conversations;
pub(crate) mod cursor;
pub(crate) mod dto;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod extract;
pub(crate) mod members;
pub(crate) mod messages;
pub(crate) mod reports;
pub(crate) mod routes;
