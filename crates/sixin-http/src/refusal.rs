//! Refusals made by the framework rather than by a handler — the request target is too long,
//! the request timed out, the handler panicked — answered in the envelope of the dialect whose
//! path the request asked for. (A body over the limit is refused by each dialect's own body
//! extractor, in its own envelope.)
//!
//! | refusal | native (`/v1`, ops, unknown paths) | YesApi / PhalApi | Discuz |
//! |---|---|---|---|
//! | target too long | `414 uri_too_long` | HTTP 200, `ret 400` | HTTP 200, `code 414` |
//! | timeout | `503 timeout` | HTTP 200, `ret 500` | HTTP 200, `code 503` |
//! | panic | `500 internal` | HTTP 200, `ret 500` | HTTP 200, `code 500` |

use axum::http::Uri;
use axum::response::{IntoResponse, Response};

use crate::common::envelope::{self, BAD_REQUEST, SERVER_ERROR};
use crate::native::error::ApiError;

/// The API surface a request path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `/v1/...`, and everything that is not a dialect path (`/healthz`, unknown paths).
    Native,
    YesApi,
    PhalApi,
    Discuz,
}

impl Dialect {
    /// The dialect whose route serves `path` (matched the way the router matches it).
    pub(crate) fn of_path(path: &str) -> Dialect {
        if path == "/plugin.php" {
            Dialect::Discuz
        } else if path == "/api/platform" {
            Dialect::PhalApi
        } else if path == "/" || path.starts_with("/api/") {
            Dialect::YesApi
        } else {
            Dialect::Native
        }
    }
}

/// Why the framework refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The path and query together are longer than `max` bytes.
    UriTooLong { max: usize },
    /// The request took longer than `http.request_timeout_secs`.
    Timeout,
    /// The handler panicked (already logged).
    Panic,
}

/// The answer to `uri` refused for `why`, in the envelope of the dialect of its path.
pub(crate) fn respond(uri: &Uri, why: Refusal) -> Response {
    let uri_message = |max: usize| format!("the request target is longer than {max} bytes");
    let timeout_message = "the request took too long; retry later";
    let internal_message = "internal server error";
    match Dialect::of_path(uri.path()) {
        Dialect::Native => match why {
            Refusal::UriTooLong { max } => ApiError::uri_too_long(uri_message(max)),
            Refusal::Timeout => ApiError::timeout(),
            Refusal::Panic => ApiError::internal(),
        }
        .into_response(),
        Dialect::YesApi | Dialect::PhalApi => {
            let (ret, msg) = match why {
                Refusal::UriTooLong { max } => (BAD_REQUEST, uri_message(max)),
                Refusal::Timeout => (SERVER_ERROR, timeout_message.to_owned()),
                Refusal::Panic => (SERVER_ERROR, internal_message.to_owned()),
            };
            envelope::respond(envelope::body(ret, "{}", &msg, &[]))
        }
        Dialect::Discuz => {
            let (code, msg) = match why {
                Refusal::UriTooLong { max } => (414, uri_message(max)),
                Refusal::Timeout => (503, timeout_message.to_owned()),
                Refusal::Panic => (500, internal_message.to_owned()),
            };
            crate::discuz::refusal(code, &msg, uri.query())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_belong_to_the_dialect_their_route_serves() {
        let cases = [
            ("/v1/messages", Dialect::Native),
            ("/healthz", Dialect::Native),
            ("/nowhere", Dialect::Native),
            ("/plugin.php", Dialect::Discuz),
            ("/api/platform", Dialect::PhalApi),
            ("/api/platform/x", Dialect::YesApi),
            ("/api/App/User/Login", Dialect::YesApi),
            ("/", Dialect::YesApi),
        ];
        for (path, expected) in cases {
            assert_eq!(Dialect::of_path(path), expected, "{path}");
        }
    }
}
