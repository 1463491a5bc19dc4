//! [`Error`]: what went wrong, by meaning. Adapters map each kind to their own codes with an
//! exhaustive `match`, so a new kind fails to compile until every dialect has decided.

use crate::ids::Timestamp;
use crate::store::{Refusal, StoreError};

/// Things a client can ask about that may not exist (or may not be visible to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    App,
    Member,
    Conversation,
    Message,
    Username,
    Report,
    Webhook,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::App => "app",
            Entity::Member => "member",
            Entity::Conversation => "conversation",
            Entity::Message => "message",
            Entity::Username => "username",
            Entity::Report => "report",
            Entity::Webhook => "webhook",
        }
    }
}

/// Every way a core call can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is missing, malformed or out of range. Nothing was written.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// No valid session: missing, unknown, expired or revoked token.
    #[error("not logged in or session expired")]
    Unauthenticated,
    /// Username and password do not match.
    #[error("wrong username or password")]
    BadCredentials,
    /// A request signature (or a token derived from one) did not verify.
    #[error("signature check failed")]
    BadSignature,
    /// An app access token is missing, forged or expired.
    #[error("access_token is missing, invalid or expired")]
    BadAccessToken,
    /// No app has this key.
    #[error("unknown app")]
    UnknownApp,
    /// The member is banned.
    #[error("member is banned")]
    Banned,
    /// The member is muted: they may read, but every send is refused until `until` (for good
    /// when `None`).
    #[error("{}", muted_message(*.until))]
    Muted { until: Option<Timestamp> },
    /// The app's registration is closed: its members come from its backend (the server API)
    /// and the operator's CLI only.
    #[error("registration is closed for this app: members are created by the app's backend")]
    RegistrationClosed,
    /// A server API token (the app backend's JWT) was refused, and why. The reason never
    /// contains the secret or the token.
    #[error("server token refused: {}", .0.as_str())]
    BadServerToken(ServerTokenProblem),
    /// The thing does not exist, or the caller may not see it: the two look the same.
    #[error("no such {}", .0.as_str())]
    NotFound(Entity),
    /// The caller may see the thing but not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Writing to the app's system sender: its messages are notices, which cannot be answered.
    #[error("this conversation carries notices from the app: replies are not accepted")]
    CannotReply,
    /// Sending to (or talking with) yourself.
    #[error("cannot send to yourself")]
    SelfSend,
    /// A multi-send or group change names too many members.
    #[error("too many recipients (at most {max})")]
    TooManyRecipients { max: usize },
    /// The recall window has passed.
    #[error("the recall window has passed")]
    RecallWindowPassed,
    /// The member already has the most event streams allowed open at once.
    #[error("too many open event streams (at most {max} per member)")]
    TooManyStreams { max: usize },
    /// The recipient does not accept messages from the caller: they blocked the caller, or
    /// their who-may-message-me setting excludes them. The two look the same on purpose, so a
    /// sender cannot tell a block from a setting.
    #[error("this member does not accept messages from you")]
    NotAccepted,
    /// A text field contains a word the app's word list rejects. The word is not named.
    #[error("{} contains a word this app does not allow", .field)]
    ContentRejected { field: &'static str },
    /// The app's before-send hook rejected the message, with the app's own code and text.
    #[error("rejected by the app ({code}): {message}")]
    RejectedByApp { code: String, message: String },
    /// The app's before-send hook is down, slow or answering nonsense, and the app asked for
    /// sends to be refused then (`on_failure: reject`). Retrying later may work.
    #[error("the app's before-send check is unavailable ({reason}); retry later")]
    HookFailed { reason: String },
    /// A rate limit is exhausted: retry after `throttle.retry_after_secs`.
    #[error("{}", rate_limited_message(.0))]
    RateLimited(Throttle),
    /// Already exists (a username taken in this app).
    #[error("{} already exists", .0.as_str())]
    Conflict(Entity),
    /// The store is overloaded or unreachable; retrying later may work.
    #[error("service temporarily unavailable")]
    Unavailable,
    /// A bug or an unexpected failure. The cause is logged where it is handled, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a server API token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTokenProblem {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a JWT (three base64url parts, JSON header and claims) of a sane size.
    Malformed,
    /// The header names an algorithm other than HS256 (`none`, RS256, …).
    Algorithm,
    /// A required claim (`iss`, `aud`, `iat`, `exp`, `jti`) is missing or of the wrong type.
    MissingClaim(&'static str),
    /// `iss` names no app.
    UnknownApp,
    /// The signature does not verify with the app's secret.
    Signature,
    /// `aud` is not `sixin-server` (a member token, or a token meant for something else).
    Audience,
    /// `exp` has passed.
    Expired,
    /// `iat` is further in the future than the allowed clock skew.
    IssuedInFuture,
    /// `exp - iat` is longer than the configured maximum lifetime.
    TooLong,
    /// This `jti` was already used: tokens are single-use.
    Replayed,
}

impl ServerTokenProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerTokenProblem::Missing => "missing Authorization: Bearer <JWT>",
            ServerTokenProblem::Malformed => "malformed token",
            ServerTokenProblem::Algorithm => "unsupported algorithm (only HS256 is accepted)",
            ServerTokenProblem::MissingClaim("iss") => "missing or malformed claim iss",
            ServerTokenProblem::MissingClaim("aud") => "missing or malformed claim aud",
            ServerTokenProblem::MissingClaim("iat") => "missing or malformed claim iat",
            ServerTokenProblem::MissingClaim("exp") => "missing or malformed claim exp",
            ServerTokenProblem::MissingClaim(_) => "missing or malformed claim jti",
            ServerTokenProblem::UnknownApp => "unknown app (iss)",
            ServerTokenProblem::Signature => "bad signature",
            ServerTokenProblem::Audience => "wrong audience (aud must be sixin-server)",
            ServerTokenProblem::Expired => "expired",
            ServerTokenProblem::IssuedInFuture => "issued in the future (iat)",
            ServerTokenProblem::TooLong => "lifetime too long (exp - iat)",
            ServerTokenProblem::Replayed => "replayed (jti already used)",
        }
    }
}

/// A refused request under a rate limit: which policy, its quota, and when to retry. Native
/// responses carry it as `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// The policy's name, as the `RateLimit-Policy` header shows it (`sends`, `logins`, …).
    pub policy: &'static str,
    /// Its quota: this many units …
    pub quota: u64,
    /// … per this many seconds.
    pub window_secs: u64,
    /// Whole seconds until a retry can succeed (at least 1).
    pub retry_after_secs: u64,
}

fn rate_limited_message(t: &Throttle) -> String {
    format!(
        "too many requests ({}: {} per {} s); retry in {} s",
        t.policy, t.quota, t.window_secs, t.retry_after_secs
    )
}

fn muted_message(until: Option<Timestamp>) -> String {
    match until {
        None => "member is muted: reading is allowed, sending is not".to_owned(),
        Some(t) => format!(
            "member is muted until {} (Unix ms {}): reading is allowed, sending is not",
            rfc3339(t),
            t.0
        ),
    }
}

pub(crate) fn rfc3339(t: Timestamp) -> String {
    let nanos = i128::from(t.0) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.0.to_string())
}

/// The result of every core call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::Invalid { field, reason } => Error::Invalid {
                field,
                reason: reason.clone(),
            },
            Error::Unauthenticated => Error::Unauthenticated,
            Error::BadCredentials => Error::BadCredentials,
            Error::BadSignature => Error::BadSignature,
            Error::BadAccessToken => Error::BadAccessToken,
            Error::UnknownApp => Error::UnknownApp,
            Error::Banned => Error::Banned,
            Error::Muted { until } => Error::Muted { until: *until },
            Error::RegistrationClosed => Error::RegistrationClosed,
            Error::BadServerToken(p) => Error::BadServerToken(*p),
            Error::NotFound(e) => Error::NotFound(*e),
            Error::Forbidden(w) => Error::Forbidden(w),
            Error::CannotReply => Error::CannotReply,
            Error::SelfSend => Error::SelfSend,
            Error::TooManyRecipients { max } => Error::TooManyRecipients { max: *max },
            Error::RecallWindowPassed => Error::RecallWindowPassed,
            Error::TooManyStreams { max } => Error::TooManyStreams { max: *max },
            Error::NotAccepted => Error::NotAccepted,
            Error::ContentRejected { field } => Error::ContentRejected { field },
            Error::RejectedByApp { code, message } => Error::RejectedByApp {
                code: code.clone(),
                message: message.clone(),
            },
            Error::HookFailed { reason } => Error::HookFailed {
                reason: reason.clone(),
            },
            Error::RateLimited(t) => Error::RateLimited(*t),
            Error::Conflict(e) => Error::Conflict(*e),
            Error::Unavailable => Error::Unavailable,
            Error::Internal(e) => Error::Internal(e.to_string().into()),
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotMember => Error::NotFound(Entity::Conversation),
            Refusal::NotOwner => Error::Forbidden("only the group owner may do this"),
            Refusal::NotGroup => Error::Forbidden("this is not a group conversation"),
            Refusal::NotSender => Error::Forbidden("only the sender may recall a message"),
            Refusal::RecallWindowPassed => Error::RecallWindowPassed,
            Refusal::GroupFull { max } => Error::TooManyRecipients { max },
            Refusal::NoticesOnly => Error::CannotReply,
            Refusal::OwnReport => {
                Error::Forbidden("members cannot report themselves or their own messages")
            }
            Refusal::TooManyReports { retry_after_secs } => Error::RateLimited(Throttle {
                policy: "reports",
                quota: u64::from(crate::rules::REPORTS_PER_DAY),
                window_secs: 24 * 3600,
                retry_after_secs,
            }),
            Refusal::WordListFull { max } => Error::invalid(
                "words",
                format!("an app's word list holds at most {max} words"),
            ),
            Refusal::NotAccepted => Error::NotAccepted,
            Refusal::NewDirectCap {
                cap,
                retry_after_secs,
            } => Error::RateLimited(Throttle {
                policy: crate::rules::NEW_DIRECT_POLICY,
                quota: u64::from(cap),
                window_secs: crate::rules::NEW_DIRECT_WINDOW.as_secs(),
                retry_after_secs,
            }),
            Refusal::SelfTarget => Error::SelfSend,
            Refusal::SystemSender => Error::invalid(
                "uuid",
                "the app's system sender cannot be blocked: its notices are the app's own",
            ),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Error::Conflict(what),
            StoreError::NotFound(what) => Error::NotFound(what),
            StoreError::Refused(r) => r.into(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                Error::Unavailable
            }
            StoreError::Other(cause) => Error::Internal(cause),
        }
    }
}
