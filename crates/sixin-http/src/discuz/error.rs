//! Discuz errors: the seed's `code` ("http状态码") and `result` message, always sent with HTTP
//! status 200 in the usual envelope (`count` 0, `data` `{}`). Codes follow HTTP's meanings: 400
//! bad or missing parameter, 401 no valid session, 403 banned or not allowed, 404 unknown
//! plugin id / action / conversation (a conversation the caller is not in looks the same as
//! none), 405 method, 409 conflict, 413 body too large, 414 query too long, 500 internal, 503
//! unavailable or timed out.

use axum::response::{IntoResponse, Response};
use sixin_core::Error;

use super::request::Format;
use super::response::Reply;

/// An error on its way to becoming a Discuz envelope.
#[derive(Debug)]
pub(crate) struct DiscuzError {
    pub(crate) code: u16,
    pub(crate) result: String,
    /// The core error behind it, logged once when the response is made.
    cause: Option<Error>,
}

const GENERIC_INTERNAL: &str = "internal server error";

impl DiscuzError {
    fn new(code: u16, result: impl Into<String>) -> Self {
        DiscuzError {
            code,
            result: result.into(),
            cause: None,
        }
    }

    /// Code 400: a parameter is missing or malformed.
    pub(crate) fn bad_param(result: impl Into<String>) -> Self {
        Self::new(400, result)
    }

    /// Code 404: `id` names no plugin sixin serves.
    pub(crate) fn unknown_plugin() -> Self {
        Self::new(404, "unknown plugin id")
    }

    /// Code 404: `action` is missing or names no method of the pm plugin.
    pub(crate) fn unknown_action() -> Self {
        Self::new(404, "unknown action")
    }

    /// Code 413: the request body is larger than `http.body_limit_bytes`.
    pub(crate) fn too_large() -> Self {
        Self::new(413, "request body too large")
    }

    /// A refusal by the framework (`refusal::Refusal`), with its HTTP-style code.
    pub(crate) fn refusal(code: u16, result: &str) -> Self {
        Self::new(code, result)
    }

    /// Code 405: `/plugin.php` asked with a method other than GET or POST.
    pub(crate) fn method_not_allowed() -> Self {
        Self::new(405, "method not allowed")
    }

    /// Logs the error once: server-side failures at `error` with their cause, refusals at
    /// `debug`.
    pub(crate) fn log(&self) {
        match &self.cause {
            Some(e) if self.code >= 500 => crate::middleware::log_server_error(e, "request failed"),
            _ if self.code >= 500 => {
                tracing::warn!(code = self.code, "request failed: {}", self.result)
            }
            _ => tracing::debug!(code = self.code, "request refused: {}", self.result),
        }
    }
}

/// The Discuz code for each core error kind. No `_` arm: a new kind must be decided here.
fn code_of(e: &Error) -> u16 {
    match e {
        Error::Invalid { .. } => 400,
        Error::Unauthenticated => 401,
        Error::BadCredentials => 401,
        Error::BadSignature | Error::BadAccessToken => 401,
        Error::UnknownApp => 404,
        Error::Banned => 403,
        Error::Muted { .. } => 403,
        Error::RegistrationClosed => 403,
        Error::BadServerToken(_) => 401,
        Error::NotFound(_) => 404,
        Error::Forbidden(_) => 403,
        Error::CannotReply => 403,
        Error::SelfSend => 400,
        Error::TooManyRecipients { .. } => 400,
        Error::RecallWindowPassed => 409,
        Error::TooManyStreams { .. } => 429,
        Error::NotAccepted => 403,
        Error::ContentRejected { .. } => 400,
        Error::RejectedByApp { .. } => 403,
        Error::HookFailed { .. } => 503,
        Error::RateLimited(_) => 429,
        Error::Conflict(_) => 409,
        Error::Unavailable => 503,
        Error::Internal(_) => 500,
    }
}

impl From<Error> for DiscuzError {
    fn from(e: Error) -> Self {
        let result = match &e {
            Error::Internal(_) => GENERIC_INTERNAL.to_owned(),
            other => other.to_string(),
        };
        DiscuzError {
            code: code_of(&e),
            result,
            cause: Some(e),
        }
    }
}

/// Rendered as JSON; handlers that know the requested format go through [`Reply`] instead.
impl IntoResponse for DiscuzError {
    fn into_response(self) -> Response {
        Reply::new(Err(self), Format::Json, std::time::Instant::now()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixin_core::Entity;

    #[test]
    fn core_errors_map_to_documented_codes() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::invalid("limit", "must be 1..100"), 400),
            (Error::Unauthenticated, 401),
            (Error::BadCredentials, 401),
            (Error::BadSignature, 401),
            (Error::BadAccessToken, 401),
            (Error::UnknownApp, 404),
            (Error::Banned, 403),
            (Error::Muted { until: None }, 403),
            (Error::RegistrationClosed, 403),
            (Error::NotFound(Entity::Conversation), 404),
            (Error::Forbidden("x"), 403),
            (Error::CannotReply, 403),
            (Error::NotAccepted, 403),
            (Error::ContentRejected { field: "text" }, 400),
            (
                Error::RejectedByApp {
                    code: "spam".into(),
                    message: "no".into(),
                },
                403,
            ),
            (
                Error::HookFailed {
                    reason: "down".into(),
                },
                503,
            ),
            (
                Error::RateLimited(sixin_core::Throttle {
                    policy: "logins",
                    quota: 10,
                    window_secs: 60,
                    retry_after_secs: 6,
                }),
                429,
            ),
            (Error::SelfSend, 400),
            (Error::TooManyRecipients { max: 2 }, 400),
            (Error::RecallWindowPassed, 409),
            (Error::Conflict(Entity::Username), 409),
            (Error::Unavailable, 503),
            (Error::Internal("disk on fire".into()), 500),
        ];
        for (e, code) in cases {
            assert_eq!(code_of(&e), code, "{e:?}");
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = DiscuzError::from(Error::Internal("secret path /var/db".into()));
        assert_eq!((e.code, e.result.as_str()), (500, GENERIC_INTERNAL));
        let nf = DiscuzError::from(Error::NotFound(Entity::Conversation));
        assert_eq!((nf.code, nf.result.as_str()), (404, "no such conversation"));
    }
}
