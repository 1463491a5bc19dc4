//! The native error envelope, `{"error":{"code":"...","message":"..."}}`, and the one place that
//! decides which HTTP status and code each [`sixin_core::Error`] gets.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sixin_core::Error;
use utoipa::ToSchema;

/// Every native error response has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// A machine-readable code and a human-readable message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// Stable, snake_case: `invalid_request`, `unauthenticated`, `not_found`, `forbidden`, …
    pub code: String,
    /// For people; never contains internal details.
    pub message: String,
}

/// An error on its way to becoming a native error response.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// The core error behind a server-side failure, logged once when the response is made.
    cause: Option<Error>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            },
            cause: None,
        }
    }

    /// `400 invalid_request`: the request does not parse.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// `404 not_found` for a path no route serves.
    pub(crate) fn unknown_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    /// `405 method_not_allowed` for a known path with an unsupported method.
    pub(crate) fn method_not_allowed() -> Self {
        let msg = "method not allowed on this route";
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", msg)
    }

    /// `503 timeout`: the request took longer than the configured limit.
    pub(crate) fn timeout() -> Self {
        let msg = "the request took too long; retry later";
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", msg)
    }

    /// `414 uri_too_long`: the request target is longer than `http.max_uri_bytes`.
    pub(crate) fn uri_too_long(message: impl Into<String>) -> Self {
        Self::new(StatusCode::URI_TOO_LONG, "uri_too_long", message)
    }

    /// `500 internal` with the generic message (the caller logs the cause).
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            GENERIC_INTERNAL,
        )
    }

    fn rejection(status: StatusCode, text: String) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(status, "payload_too_large", text)
        } else {
            Self::invalid_request(text)
        }
    }
}

const GENERIC_INTERNAL: &str = "internal server error";

/// HTTP status and code for each core error kind. No `_` arm: a new kind must be decided here.
fn classify(e: &Error) -> (StatusCode, &'static str) {
    match e {
        Error::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
        Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        Error::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
        Error::BadSignature => (StatusCode::UNAUTHORIZED, "bad_signature"),
        Error::BadAccessToken => (StatusCode::UNAUTHORIZED, "bad_access_token"),
        Error::UnknownApp => (StatusCode::NOT_FOUND, "unknown_app"),
        Error::Banned => (StatusCode::FORBIDDEN, "banned"),
        Error::Muted { .. } => (StatusCode::FORBIDDEN, "muted"),
        Error::RegistrationClosed => (StatusCode::FORBIDDEN, "registration_closed"),
        Error::BadServerToken(_) => (StatusCode::UNAUTHORIZED, "bad_server_token"),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        Error::CannotReply => (StatusCode::FORBIDDEN, "cannot_reply"),
        Error::SelfSend => (StatusCode::BAD_REQUEST, "self_send"),
        Error::TooManyRecipients { .. } => (StatusCode::BAD_REQUEST, "too_many_recipients"),
        Error::RecallWindowPassed => (StatusCode::CONFLICT, "recall_window_passed"),
        Error::TooManyStreams { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
        Error::NotAccepted => (StatusCode::FORBIDDEN, "not_accepted"),
        Error::ContentRejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "content_rejected"),
        Error::RejectedByApp { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "rejected_by_app"),
        Error::HookFailed { .. } => (StatusCode::SERVICE_UNAVAILABLE, "hook_unavailable"),
        Error::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        Error::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// The envelope body for a core error, as a multi-send result item carries it. Internal causes
/// are logged here, because this is where they are handled.
pub(crate) fn body_of(e: &Error) -> ErrorBody {
    let (status, code) = classify(e);
    log(status, e);
    ErrorBody {
        code: code.to_owned(),
        message: public_message(e),
    }
}

fn public_message(e: &Error) -> String {
    match e {
        Error::Internal(_) => GENERIC_INTERNAL.to_owned(),
        other => other.to_string(),
    }
}

fn log(status: StatusCode, e: &Error) {
    if status.is_server_error() {
        crate::middleware::log_server_error(e, "request failed");
    } else {
        tracing::debug!(error = %e, "request refused: {e}");
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, code) = classify(&e);
        let mut out = ApiError::new(status, code, public_message(&e));
        out.cause = Some(e);
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self.cause {
            Some(e) => log(self.status, e),
            None if self.status.is_server_error() => {
                tracing::warn!(code = %self.body.code, "request failed: {}", self.body.message);
            }
            None => {
                tracing::debug!(code = %self.body.code, "request refused: {}", self.body.message)
            }
        }
        let throttle = match &self.cause {
            Some(Error::RateLimited(t)) => Some(*t),
            _ => None,
        };
        let envelope = ErrorEnvelope { error: self.body };
        let mut response = (self.status, Json(envelope)).into_response();
        if let Some(t) = throttle {
            throttle_headers(response.headers_mut(), &t);
        }
        response
    }
}

/// `Retry-After` and the IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers):
/// `RateLimit-Policy: "sends";q=200;w=20` and `RateLimit: "sends";r=0;t=3`.
pub(crate) fn throttle_headers(headers: &mut axum::http::HeaderMap, t: &sixin_core::Throttle) {
    use axum::http::{header, HeaderValue};
    let pairs = [
        (header::RETRY_AFTER.as_str(), t.retry_after_secs.to_string()),
        (
            "ratelimit-policy",
            format!(r#""{}";q={};w={}"#, t.policy, t.quota, t.window_secs),
        ),
        (
            "ratelimit",
            format!(r#""{}";r=0;t={}"#, t.policy, t.retry_after_secs),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

macro_rules! from_rejection {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(r: $t) -> Self {
                ApiError::rejection(r.status(), r.body_text())
            }
        }
    )*};
}

from_rejection!(JsonRejection, PathRejection, QueryRejection, BytesRejection);

/// Fallback for paths under `/v1` that no route serves.
pub(crate) async fn unknown_route() -> ApiError {
    ApiError::unknown_route()
}

/// Fallback for known `/v1` paths asked with a method they do not serve.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixin_core::error::ServerTokenProblem;
    use sixin_core::Entity;

    const THROTTLE: sixin_core::Throttle = sixin_core::Throttle {
        policy: "sends",
        quota: 200,
        window_secs: 20,
        retry_after_secs: 3,
    };

    #[test]
    fn a_rate_limited_refusal_carries_retry_after_and_ratelimit_headers() {
        let response = ApiError::from(Error::RateLimited(THROTTLE)).into_response();
        assert_eq!(response.status(), 429);
        let h = response.headers();
        assert_eq!(h["retry-after"], "3");
        assert_eq!(h["ratelimit-policy"], r#""sends";q=200;w=20"#);
        assert_eq!(h["ratelimit"], r#""sends";r=0;t=3"#);
    }

    #[test]
    fn core_errors_map_to_documented_statuses_and_codes() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (
                Error::invalid("limit", "must be 1..100"),
                400,
                "invalid_request",
            ),
            (Error::Unauthenticated, 401, "unauthenticated"),
            (Error::BadCredentials, 401, "bad_credentials"),
            (Error::BadSignature, 401, "bad_signature"),
            (Error::BadAccessToken, 401, "bad_access_token"),
            (Error::UnknownApp, 404, "unknown_app"),
            (Error::Banned, 403, "banned"),
            (Error::Muted { until: None }, 403, "muted"),
            (Error::RegistrationClosed, 403, "registration_closed"),
            (
                Error::BadServerToken(ServerTokenProblem::Replayed),
                401,
                "bad_server_token",
            ),
            (Error::NotFound(Entity::Conversation), 404, "not_found"),
            (Error::Forbidden("x"), 403, "forbidden"),
            (Error::CannotReply, 403, "cannot_reply"),
            (Error::NotAccepted, 403, "not_accepted"),
            (
                Error::ContentRejected { field: "text" },
                422,
                "content_rejected",
            ),
            (
                Error::RejectedByApp {
                    code: "spam".into(),
                    message: "no".into(),
                },
                422,
                "rejected_by_app",
            ),
            (
                Error::HookFailed {
                    reason: "down".into(),
                },
                503,
                "hook_unavailable",
            ),
            (Error::RateLimited(THROTTLE), 429, "rate_limited"),
            (Error::SelfSend, 400, "self_send"),
            (
                Error::TooManyRecipients { max: 2 },
                400,
                "too_many_recipients",
            ),
            (Error::RecallWindowPassed, 409, "recall_window_passed"),
            (Error::Conflict(Entity::Username), 409, "conflict"),
            (Error::Unavailable, 503, "unavailable"),
            (Error::Internal("disk on fire".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            let (s, c) = classify(&e);
            assert_eq!((s.as_u16(), c), (status, code), "{e:?}");
        }
    }

    #[test]
    fn not_found_names_the_entity_and_internal_hides_the_cause() {
        let nf = ApiError::from(Error::NotFound(Entity::Conversation));
        assert_eq!(nf.body.message, "no such conversation");
        let internal = ApiError::from(Error::Internal("secret path /var/db".into()));
        assert_eq!(internal.body.message, GENERIC_INTERNAL);
    }
}
