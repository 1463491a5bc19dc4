//! Opaque page cursors: base64url (no padding) of a short text, so clients cannot come to rely
//! on what is inside. History cursors hold a message id; list cursors hold
//! `activity_at:conversation_id` of the last entry of a page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sixin_core::ids::{ConversationId, MessageId, Timestamp};
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
    }
}
