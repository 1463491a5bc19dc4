//! The server API under `/v1/server`, for an app's backend only: its own authentication (a
//! short-lived, single-use HS256 JWT signed with the app secret, verified by
//! [`sixin_core::Core::authenticate_server`]) and its own OpenAPI tag, `server`. Translation
//! only: every rule is in `sixin_core::service::server`. Errors use the native envelope.
//!
//! - `routes`: the route table, nested at `/v1/server`.
//! - `auth`: `Authorization: Bearer <JWT>` → [`sixin_core::AppCaller`].
//! - `dto`: request and response bodies.
//! - `members`, `app`, `secret`: the handlers.
//! - `acts`: messages and groups, the backend acting in its members' place.
//! - `export`: a member's data as streamed NDJSON.
//! - `words`: the app's sensitive-word list; `reports`: members' reports to review.
//! - `webhooks`, `webhook_dto`: the app's webhook endpoints, deliveries, replays, test events.

pub(crate) mod acts;
pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod before_send;
pub(crate) mod dto;
pub(crate) mod export;
pub(crate) mod members;
pub(crate) mod reports;
pub(crate) mod routes;
pub(crate) mod secret;
pub(crate) mod webhook_dto;
pub(crate) mod webhooks;
pub(crate) mod words;
