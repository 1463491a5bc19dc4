//! The PhalApi-family envelope: HTTP 200 always, the outcome in `ret`, business data in `data`,
//! a message in `msg`. The `ret` table is PhalApi's, shared by YesApi and APIUSB:
//!
//! | ret | meaning |
//! |---|---|
//! | 200 | success |
//! | 400 | bad or missing parameter (invalid message data included) |
//! | 404 | unknown service |
//! | 406 | signature, access_token or session token check failed |
//! | 407 | unknown app_key, or no permission (a muted member sending, closed registration, a send the app's before-send hook rejected) |
//! | 408 | member not logged in, or banned |
//! | 429 | a rate limit is exhausted (`msg` says which and when to retry) |
//! | 500 | server error |

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use sixin_core::Error;

pub(crate) const OK: u16 = 200;
pub(crate) const BAD_REQUEST: u16 = 400;
pub(crate) const UNKNOWN_SERVICE: u16 = 404;
pub(crate) const CHECK_FAILED: u16 = 406;
pub(crate) const NO_PERMISSION: u16 = 407;
pub(crate) const NOT_LOGGED_IN: u16 = 408;
pub(crate) const RATE_LIMITED: u16 = 429;
pub(crate) const SERVER_ERROR: u16 = 500;

/// An error as the PhalApi family shows it: a `ret` code and a message for developers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub ret: u16,
    pub msg: String,
}

impl Failure {
    pub(crate) fn new(ret: u16, msg: impl Into<String>) -> Self {
        Failure {
            ret,
            msg: msg.into(),
        }
    }

    /// `ret 404` for a service name that no method answers.
    pub(crate) fn unknown_service(name: Option<&str>) -> Self {
        match name {
            Some(n) => Failure::new(UNKNOWN_SERVICE, format!("unknown service: {n}")),
            None => Failure::new(UNKNOWN_SERVICE, "missing service (s=Class.Method)"),
        }
    }

    /// `ret 408` when `uuid` or `token` is missing.
    pub(crate) fn not_logged_in() -> Self {
        Failure::new(NOT_LOGGED_IN, "not logged in: uuid and token are required")
    }
}

/// `ret` for each core error kind. No `_` arm: a new kind must be decided here.
pub(crate) fn ret_of(e: &Error) -> u16 {
    match e {
        Error::Invalid { .. } => BAD_REQUEST,
        Error::Unauthenticated => CHECK_FAILED,
        Error::BadCredentials => CHECK_FAILED,
        Error::BadSignature | Error::BadAccessToken => CHECK_FAILED,
        Error::UnknownApp => NO_PERMISSION,
        Error::Banned => NOT_LOGGED_IN,
        Error::Muted { .. } => NO_PERMISSION,
        Error::RegistrationClosed => NO_PERMISSION,
        Error::BadServerToken(_) => CHECK_FAILED,
        Error::NotFound(_) => BAD_REQUEST,
        Error::Forbidden(_) => NO_PERMISSION,
        Error::CannotReply => NO_PERMISSION,
        Error::SelfSend => BAD_REQUEST,
        Error::TooManyRecipients { .. } => BAD_REQUEST,
        Error::RecallWindowPassed => BAD_REQUEST,
        Error::TooManyStreams { .. } => NO_PERMISSION,
        Error::NotAccepted => NO_PERMISSION,
        Error::ContentRejected { .. } => BAD_REQUEST,
        Error::RejectedByApp { .. } => NO_PERMISSION,
        Error::HookFailed { .. } => SERVER_ERROR,
        Error::RateLimited(_) => RATE_LIMITED,
        Error::Conflict(_) => BAD_REQUEST,
        Error::Unavailable => SERVER_ERROR,
        Error::Internal(_) => SERVER_ERROR,
    }
}

impl From<Error> for Failure {
    /// Logs the error once (server errors with their cause at `error`, the rest at `debug`)
    /// and keeps internal details out of the message.
    fn from(e: Error) -> Self {
        let ret = ret_of(&e);
        if ret >= SERVER_ERROR {
            crate::middleware::log_server_error(&e, "request failed");
        } else {
            tracing::debug!(error = %e, "request refused: {e}");
        }
        let msg = match &e {
            Error::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        };
        Failure { ret, msg }
    }
}

/// The body text `{"ret":…,"data":…,"msg":…}` followed by `tail` members (name and raw JSON
/// text), with `data_json` inserted exactly as given so a tag computed over it stays valid.
pub(crate) fn body(ret: u16, data_json: &str, msg: &str, tail: &[(&str, String)]) -> String {
    let msg = serde_json::Value::String(msg.to_owned());
    let mut out = format!(r#"{{"ret":{ret},"data":{data_json},"msg":{msg}"#);
    for (name, value) in tail {
        out.push_str(&format!(r#","{name}":{value}"#));
    }
    out.push('}');
    out
}

/// An HTTP 200 JSON response with this body text.
pub(crate) fn respond(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixin_core::Entity;

    #[test]
    fn core_errors_map_to_the_phalapi_table() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::invalid("x", "y"), 400),
            (Error::Unauthenticated, 406),
            (Error::BadCredentials, 406),
            (Error::BadSignature, 406),
            (Error::BadAccessToken, 406),
            (Error::UnknownApp, 407),
            (Error::Banned, 408),
            (Error::Muted { until: None }, 407),
            (Error::RegistrationClosed, 407),
            (Error::NotFound(Entity::Member), 400),
            (Error::Forbidden("x"), 407),
            (Error::CannotReply, 407),
            (Error::NotAccepted, 407),
            (Error::ContentRejected { field: "text" }, 400),
            (
                Error::RejectedByApp {
                    code: "spam".into(),
                    message: "no".into(),
                },
                407,
            ),
            (
                Error::HookFailed {
                    reason: "down".into(),
                },
                500,
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
            (Error::TooManyRecipients { max: 200 }, 400),
            (Error::RecallWindowPassed, 400),
            (Error::Conflict(Entity::Username), 400),
            (Error::Unavailable, 500),
            (Error::Internal("disk on fire".into()), 500),
        ];
        for (e, ret) in cases {
            assert_eq!(ret_of(&e), ret, "{e:?}");
        }
        assert_eq!(
            Failure::from(Error::Internal("secret".into())).msg,
            "internal server error"
        );
    }

    #[test]
    fn body_keeps_data_text_verbatim() {
        let text = body(200, r#"{"b":1,"a":"é"}"#, "ok \"q\"", &[("_t", "5".into())]);
        assert_eq!(
            text,
            r#"{"ret":200,"data":{"b":1,"a":"é"},"msg":"ok \"q\"","_t":5}"#
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["msg"], "ok \"q\"");
    }
}
