//! The native multi-send answer: one result per recipient, in request order.

use serde::Serialize;
use sixin_core::model::MultiSendItem;
use sixin_core::Error;
use utoipa::ToSchema;

use super::response::MessageDto;
use crate::native::error::{body_of, ErrorBody};

/// One recipient's outcome in a multi-send: `message` or `error`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MultiSendResultDto {
    /// The recipient as given (upper-cased when it is a well-formed uuid).
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageDto>,
    /// Why this recipient got nothing: `self_send`, `not_found`, `cannot_reply`,
    /// `not_accepted` (they block the sender, or their who-may-message-me setting leaves the
    /// sender out) or `rate_limited` (the sends bucket or the daily cap on new direct
    /// conversations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// With `rate_limited`: seconds to wait before retrying (what `Retry-After` says on a
    /// refused single send): under the sends bucket, until every recipient of this call it
    /// refused can be sent to at once; under the daily cap, until a new conversation can be
    /// opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// Per-recipient outcomes, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MultiSendDto {
    pub results: Vec<MultiSendResultDto>,
}

impl From<Vec<MultiSendItem>> for MultiSendDto {
    fn from(items: Vec<MultiSendItem>) -> Self {
        let results = items
            .into_iter()
            .map(|item| match item.result {
                Ok(sent) => MultiSendResultDto {
                    to: item.to,
                    message: Some(MessageDto::from(&sent.message)),
                    error: None,
                    retry_after_secs: None,
                },
                Err(e) => MultiSendResultDto {
                    to: item.to,
                    message: None,
                    retry_after_secs: match &e {
                        Error::RateLimited(t) => Some(t.retry_after_secs),
                        _ => None,
                    },
                    error: Some(body_of(&e)),
                },
            })
            .collect();
        MultiSendDto { results }
    }
}
