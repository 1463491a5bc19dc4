//! Rows of the safety controls: word-list entries and reports.

use std::collections::HashMap;

use sixin_core::ids::ReportId;
use sixin_core::model::{
    FilterWord, Report, ReportCategory, ReportStatus, ReportedMessage, WordAction,
};

use super::*;

pub(crate) fn word_action(s: &str) -> StoreResult<WordAction> {
    WordAction::parse(s).ok_or_else(|| corrupt("word action"))
}

pub(crate) struct WordRow {
    word: String,
    action: String,
    created_at: i64,
}

impl WordRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            WordRow {
                word,
                action,
                created_at
            }
        )
    }

    pub(crate) fn into_word(self) -> StoreResult<FilterWord> {
        Ok(FilterWord {
            action: word_action(&self.action)?,
            word: self.word,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// A report with its message's place and time (the message row outlives every report: messages
/// are never deleted, only emptied).
pub(crate) const REPORT_SELECT: &str = "SELECT r.id, r.reporter_id, r.member_id, r.message_id, \
    r.message_kind, r.message_data, r.category, r.reason, r.status, r.resolution, r.created_at, \
    r.resolved_at, m.conversation_id AS message_conversation_id, \
    m.created_at AS message_sent_at \
    FROM reports r LEFT JOIN messages m ON m.id = r.message_id";

pub(crate) struct ReportRow {
    id: i64,
    pub(crate) reporter_id: i64,
    pub(crate) member_id: i64,
    message_id: Option<i64>,
    message_kind: Option<String>,
    message_data: Option<String>,
    category: String,
    reason: String,
    status: String,
    resolution: Option<String>,
    created_at: i64,
    resolved_at: Option<i64>,
    message_conversation_id: Option<i64>,
    message_sent_at: Option<i64>,
}

impl ReportRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            ReportRow {
                id,
                reporter_id,
                member_id,
                message_id,
                message_kind,
                message_data,
                category,
                reason,
                status,
                resolution,
                created_at,
                resolved_at,
                message_conversation_id,
                message_sent_at
            }
        )
    }

    /// The report, with its two members taken from `members` (by id).
    pub(crate) fn into_report(self, members: &HashMap<i64, Member>) -> StoreResult<Report> {
        let member = |id: i64| {
            members
                .get(&id)
                .cloned()
                .ok_or_else(|| corrupt("report member"))
        };
        let message = match (
            self.message_id,
            self.message_kind,
            self.message_data,
            self.message_conversation_id,
            self.message_sent_at,
        ) {
            (None, ..) => None,
            (Some(id), Some(kind), Some(data), Some(conversation), Some(sent_at)) => {
                Some(ReportedMessage {
                    id: MessageId(id),
                    conversation: ConversationId(conversation),
                    kind: MessageType::parse(&kind).ok_or_else(|| corrupt("message type"))?,
                    data: json(&data)?,
                    sent_at: Timestamp(sent_at),
                })
            }
            _ => return Err(corrupt("reported message")),
        };
        Ok(Report {
            id: ReportId(self.id),
            reporter: member(self.reporter_id)?,
            member: member(self.member_id)?,
            message,
            category: ReportCategory::parse(&self.category)
                .ok_or_else(|| corrupt("report category"))?,
            reason: self.reason,
            status: ReportStatus::parse(&self.status).ok_or_else(|| corrupt("report status"))?,
            resolution: self.resolution,
            created_at: Timestamp(self.created_at),
            resolved_at: self.resolved_at.map(Timestamp),
        })
    }
}
