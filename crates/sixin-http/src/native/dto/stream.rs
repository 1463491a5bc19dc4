//! The frames of `GET /v1/events`, and why a stream closes.

use serde::Serialize;
use utoipa::ToSchema;

use super::response::*;

/// Why the server is closing an event stream. After any of them, reconnect with the last
/// position (`after`, or `Last-Event-ID`) and nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CloseReason {
    /// The client read too slowly and fell behind; reconnect (the missed events come from the
    /// store).
    Lagged,
    /// This node is shutting down; reconnect, to another node if there is one.
    Shutdown,
    /// The session was logged out or expired, or the member banned; log in again.
    SessionEnded,
    /// No sign of life from the client (WebSocket: no pong) within the idle timeout.
    Idle,
    /// The store could not be read; reconnect after a moment.
    Unavailable,
}

impl CloseReason {
    /// The WebSocket close code sent with this reason.
    pub(crate) fn ws_code(self) -> u16 {
        match self {
            CloseReason::Lagged => 1013,       // try again later
            CloseReason::Shutdown => 1012,     // service restart
            CloseReason::SessionEnded => 1008, // policy violation
            CloseReason::Idle => 1001,         // going away
            CloseReason::Unavailable => 1011,  // internal error
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CloseReason::Lagged => "lagged",
            CloseReason::Shutdown => "shutdown",
            CloseReason::SessionEnded => "session_ended",
            CloseReason::Idle => "idle",
            CloseReason::Unavailable => "unavailable",
        }
    }
}

/// One frame of `GET /v1/events`: a WebSocket text message, or the `data` of a Server-Sent
/// Event (whose `id` is the frame's `position`). Frames that carry `unread_total` are events of
/// the member's stream: `position` grows by exactly one from each to the next.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamFrameDto {
    /// First frame of every connection: the position the stream continues from.
    Ready {
        position: i64,
        /// How often the server pings (WebSocket) or sends an SSE comment, in milliseconds.
        heartbeat_ms: u64,
    },
    /// A new message in one of the member's conversations (their own sends included, so other
    /// devices see them).
    Message {
        position: i64,
        /// The member's total unread count right after this event.
        unread_total: u64,
        /// Unix milliseconds.
        created_at: i64,
        message: MessageDto,
    },
    /// A member read a conversation: the member themself (on any device), or in a direct
    /// conversation the peer. `message_id` is set when one message was marked, else everything
    /// up to `last_read_id` was.
    Read {
        position: i64,
        unread_total: u64,
        created_at: i64,
        conversation_id: i64,
        reader_uuid: String,
        last_read_id: i64,
        message_id: Option<i64>,
    },
    /// The sender recalled a message: `message` has `{}` data and `recalled: true`.
    Recalled {
        position: i64,
        unread_total: u64,
        created_at: i64,
        message: MessageDto,
    },
    /// The member deleted a message for themself (on another device).
    Hidden {
        position: i64,
        unread_total: u64,
        created_at: i64,
        conversation_id: i64,
        message_id: i64,
    },
    /// A group was created or its members changed (uuids).
    Membership {
        position: i64,
        unread_total: u64,
        created_at: i64,
        conversation_id: i64,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The events since the requested position cannot be replayed (too far behind, or a
    /// position the stream never reached): reload the conversation list and unread counts,
    /// then carry on; the stream continues from `position`.
    Resync { position: i64 },
    /// Last frame before the server closes the stream; see `reason`.
    Closing {
        reason: CloseReason,
        /// The last position sent: reconnect with it.
        position: i64,
    },
}

impl From<&sixin_core::MemberEvent> for StreamFrameDto {
    fn from(e: &sixin_core::MemberEvent) -> Self {
        use sixin_core::EventKind;
        let (position, unread_total, created_at) = (e.position.0, e.unread_total, e.created_at.0);
        let uuids = |v: &[sixin_core::ids::MemberUuid]| v.iter().map(ToString::to_string).collect();
        match &e.kind {
            EventKind::Message { message } => StreamFrameDto::Message {
                position,
                unread_total,
                created_at,
                message: MessageDto::from(message),
            },
            EventKind::Read {
                conversation,
                reader,
                last_read,
                message,
            } => StreamFrameDto::Read {
                position,
                unread_total,
                created_at,
                conversation_id: conversation.0,
                reader_uuid: reader.to_string(),
                last_read_id: last_read.0,
                message_id: message.map(|m| m.0),
            },
            EventKind::Recalled { message } => StreamFrameDto::Recalled {
                position,
                unread_total,
                created_at,
                message: MessageDto::from(message),
            },
            EventKind::Hidden {
                conversation,
                message,
            } => StreamFrameDto::Hidden {
                position,
                unread_total,
                created_at,
                conversation_id: conversation.0,
                message_id: message.0,
            },
            EventKind::Membership {
                conversation,
                added,
                removed,
            } => StreamFrameDto::Membership {
                position,
                unread_total,
                created_at,
                conversation_id: conversation.0,
                added: uuids(added),
                removed: uuids(removed),
            },
        }
    }
}
