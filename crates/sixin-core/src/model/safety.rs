//! Domain values of the safety controls: the app's word list and members' reports.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{ConversationId, MessageId, ReportId, Timestamp};
use crate::model::{Member, MessageType};

/// What a word of an app's list does to a text containing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WordAction {
    /// The text is refused ([`Error::ContentRejected`](crate::Error::ContentRejected)).
    Reject,
    /// The word is replaced with `*` and the text goes through.
    Mask,
}

impl WordAction {
    pub fn as_str(self) -> &'static str {
        match self {
            WordAction::Reject => "reject",
            WordAction::Mask => "mask",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(WordAction::Reject),
            "mask" => Some(WordAction::Mask),
            _ => None,
        }
    }
}

/// One word of an app's list, in its folded matching form
/// ([`filter::normalise_word`](crate::filter::normalise_word)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterWord {
    pub word: String,
    pub action: WordAction,
    pub created_at: Timestamp,
}

/// An app's whole word list and the `word_list_version` it is at, read together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WordList {
    pub version: i64,
    pub words: Vec<(String, WordAction)>,
}

/// What a change to a word list did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordsChanged {
    /// Words added, changed or removed.
    pub changed: u64,
    /// The list's `word_list_version` after the change.
    pub version: i64,
}

/// Why a member reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportCategory {
    Spam,
    Harassment,
    Inappropriate,
    #[default]
    Other,
}

impl ReportCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportCategory::Spam => "spam",
            ReportCategory::Harassment => "harassment",
            ReportCategory::Inappropriate => "inappropriate",
            ReportCategory::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ReportCategory::Spam,
            ReportCategory::Harassment,
            ReportCategory::Inappropriate,
            ReportCategory::Other,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Where a report is in the app's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    Open,
    Resolved,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ReportStatus::Open),
            "resolved" => Some(ReportStatus::Resolved),
            _ => None,
        }
    }
}

/// The reported message, with its content as it was when it was reported (a later recall or
/// erase does not change what the report shows).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedMessage {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub kind: MessageType,
    pub data: Value,
    pub sent_at: Timestamp,
}

/// A member's report of another member, or of a message (then `member` is its sender).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: ReportId,
    pub reporter: Member,
    pub member: Member,
    pub message: Option<ReportedMessage>,
    pub category: ReportCategory,
    pub reason: String,
    pub status: ReportStatus,
    /// What the app's backend decided, once resolved.
    pub resolution: Option<String>,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}
