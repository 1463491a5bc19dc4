//! Opaque page cursors: base64url (no padding) of a short text, so clients cannot come to rely
//! on what is inside. History cursors hold a message id; list cursors hold
//! `activity_at:conversation_id` of the last entry of a page; block-list cursors
//! `b:created_at:member_id`; unread-list cursors `u:conversation_id`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sixin_core::ids::{ConversationId, MemberId, MessageId, Timestamp};
use sixin_core::store::BlockCursor;
use sixin_core::Error;

/// The cursor for a position next to message `id`.
pub(crate) fn message(id: MessageId) -> String {
    URL_SAFE_NO_PAD.encode(id.0.to_string())
}

/// The message id inside a history cursor; `400 invalid_request` naming `field` if malformed.
pub(crate) fn parse_message(field: &'static str, cursor: &str) -> Result<MessageId, Error> {
    let text = decode(field, cursor)?;
    text.parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .map(MessageId)
        .ok_or_else(|| malformed(field))
}

/// The cursor after a conversation-list entry.
pub(crate) fn conversation(activity_at: Timestamp, id: ConversationId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", activity_at.0, id.0))
}

/// The activity time and id inside a list cursor; `400 invalid_request` if malformed.
pub(crate) fn parse_conversation(
    field: &'static str,
    cursor: &str,
) -> Result<(Timestamp, ConversationId), Error> {
    let text = decode(field, cursor)?;
    let (at, id) = text.split_once(':').ok_or_else(|| malformed(field))?;
    let at = at.parse::<i64>().map_err(|_| malformed(field))?;
    let id = id.parse::<i64>().map_err(|_| malformed(field))?;
    Ok((Timestamp(at), ConversationId(id)))
}

/// The cursor after an unread-list entry.
pub(crate) fn unread(id: ConversationId) -> String {
    URL_SAFE_NO_PAD.encode(format!("u:{}", id.0))
}

/// The conversation id inside an unread-list cursor; `400 invalid_request` if malformed.
pub(crate) fn parse_unread(field: &'static str, cursor: &str) -> Result<ConversationId, Error> {
    let text = decode(field, cursor)?;
    text.strip_prefix("u:")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .map(ConversationId)
        .ok_or_else(|| malformed(field))
}

/// The cursor after a block-list entry.
pub(crate) fn block(at: BlockCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("b:{}:{}", at.created_at.0, at.member.0))
}

/// The entry inside a block-list cursor; `400 invalid_request` if malformed.
pub(crate) fn parse_block(field: &'static str, cursor: &str) -> Result<BlockCursor, Error> {
    let text = decode(field, cursor)?;
    let rest = text.strip_prefix("b:").ok_or_else(|| malformed(field))?;
    let (at, id) = rest.split_once(':').ok_or_else(|| malformed(field))?;
    Ok(BlockCursor {
        created_at: Timestamp(at.parse::<i64>().map_err(|_| malformed(field))?),
        member: MemberId(id.parse::<i64>().map_err(|_| malformed(field))?),
    })
}

fn decode(field: &'static str, cursor: &str) -> Result<String, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| malformed(field))?;
    String::from_utf8(bytes).map_err(|_| malformed(field))
}

fn malformed(field: &'static str) -> Error {
    Error::invalid(field, "malformed cursor")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = message(MessageId(42));
        assert_eq!(parse_message("before", &c).unwrap(), MessageId(42));
        let c = conversation(Timestamp(1_700_000_000_123), ConversationId(7));
        assert_eq!(
            parse_conversation("cursor", &c).unwrap(),
            (Timestamp(1_700_000_000_123), ConversationId(7))
        );
        let at = BlockCursor {
            created_at: Timestamp(1_700_000_000_123),
            member: MemberId(9),
        };
        assert_eq!(parse_block("cursor", &block(at)).unwrap(), at);
        let c = unread(ConversationId(12));
        assert_eq!(parse_unread("cursor", &c).unwrap(), ConversationId(12));
    }

    #[test]
    fn malformed_cursors_are_invalid_requests() {
        for bad in ["", "!!!", "bm90LWEtbnVtYmVy", "LTE"] {
            assert!(
                matches!(
                    parse_message("after", bad),
                    Err(Error::Invalid { field: "after", .. })
                ),
                "{bad}"
            );
        }
        let no_colon = URL_SAFE_NO_PAD.encode("123");
        assert!(parse_conversation("cursor", &no_colon).is_err());
        assert!(parse_conversation("cursor", "%%").is_err());
        let list = conversation(Timestamp(1), ConversationId(2));
        assert!(
            parse_block("cursor", &list).is_err(),
            "a list cursor is no block cursor"
        );
        assert!(parse_block("cursor", &URL_SAFE_NO_PAD.encode("b:1:x")).is_err());
        assert!(
            parse_unread("cursor", &list).is_err(),
            "a list cursor is no unread cursor"
        );
        assert!(parse_unread("cursor", &URL_SAFE_NO_PAD.encode("u:-1")).is_err());
    }
}
