//! [`Error`]: what went wrong, by meaning. Adapters map each kind to their own codes with an
//! exhaustive `match`, so a new kind fails to compile until every dialect has decided.

use crate::store::{Refusal, StoreError};

/// Things a client can ask about that may not exist (or may not be visible to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    App,
    Member,
    Conversation,
    Message,
    Username,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::App => "app",
            Entity::Member => "member",
            Entity::Conversation => "conversation",
            Entity::Message => "message",
            Entity::Username => "username",
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
    /// The thing does not exist, or the caller may not see it: the two look the same.
    #[error("no such {}", .0.as_str())]
    NotFound(Entity),
    /// The caller may see the thing but not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
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
            Error::NotFound(e) => Error::NotFound(*e),
            Error::Forbidden(w) => Error::Forbidden(w),
            Error::SelfSend => Error::SelfSend,
            Error::TooManyRecipients { max } => Error::TooManyRecipients { max: *max },
            Error::RecallWindowPassed => Error::RecallWindowPassed,
            Error::TooManyStreams { max } => Error::TooManyStreams { max: *max },
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
