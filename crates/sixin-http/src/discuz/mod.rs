//! The Discuz! pm plugin dialect (shared/seeds/003): `GET|POST /plugin.php?id=xinxiu_network:pm`
//! with `action=pm_get`, answering in JSON (non-ASCII as `\uXXXX`) or, with `output=xml`, the
//! same tree as XML. Every answer is HTTP 200 with the outcome in `code`.
//!
//! - `routes`: the route, the `id`/`action` dispatch table and the handlers.
//! - `request`: the parameters (query string and form body), their defaults and syntax.
//! - `auth`: the `token` parameter → [`sixin_core::Caller`] (the core verifies it).
//! - `response`: core results → the seed's tree (field names, numbers as strings, summaries).
//! - `response_json`: the tree as JSON with every non-ASCII character escaped.
//! - `response_xml`: the tree as well-formed UTF-8 XML.
//! - `error`: [`sixin_core::Error`] → `code` and `result`, one exhaustive match.

mod auth;
mod error;
mod request;
mod response;
mod response_json;
mod response_xml;
mod routes;

pub(crate) use routes::routes;

/// A framework-level refusal (timeout, panic, query too long) in the Discuz envelope: HTTP 200,
/// the outcome in `code`, in the format the query asks for.
pub(crate) fn refusal(code: u16, result: &str, query: Option<&str>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let format = request::Format::of_query(query);
    response::Reply::new(
        Err(error::DiscuzError::refusal(code, result)),
        format,
        std::time::Instant::now(),
    )
    .into_response()
}
