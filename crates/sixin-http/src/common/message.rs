//! The message parameters YesApi and APIUSB share: `chat_message_type` (text/html/image/link/
//! custom) and `chat_message_data` (a JSON object; for text, any other value is the content, as
//! the APIUSB example sends `chat_message_data=hello word`).

use serde_json::Value;
use sixin_core::model::MessageType;
use sixin_core::Error;

/// `chat_message_type`, or `default` when absent; `Invalid` for anything outside the enum.
pub(crate) fn kind(raw: Option<&str>, default: Option<MessageType>) -> Result<MessageType, Error> {
    match raw {
        Some(s) => MessageType::parse(s).ok_or_else(|| {
            Error::invalid(
                "chat_message_type",
                "must be one of text/html/image/link/custom",
            )
        }),
        None => default.ok_or_else(|| Error::invalid("chat_message_type", "is required")),
    }
}

/// `chat_message_data` as the core's message data. A JSON object is passed on as it is; for a
/// text message anything else is the text itself. Other types get the value as parsed, and the
/// core rejects what is not an object.
pub(crate) fn data(kind: MessageType, raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(obj @ Value::Object(_)) => obj,
        _ if kind == MessageType::Text => serde_json::json!({ "content": raw }),
        Ok(other) => other,
        Err(_) => Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_that_is_not_an_object_is_the_content() {
        assert_eq!(
            data(MessageType::Text, "hello word"),
            json!({"content": "hello word"})
        );
        assert_eq!(data(MessageType::Text, "123"), json!({"content": "123"}));
        assert_eq!(
            data(MessageType::Text, r#"{"content":"x"}"#),
            json!({"content": "x"})
        );
        assert_eq!(data(MessageType::Image, "oops"), json!("oops"));
    }

    #[test]
    fn type_defaults_and_enum() {
        assert_eq!(
            kind(None, Some(MessageType::Text)).unwrap(),
            MessageType::Text
        );
        assert_eq!(kind(Some("link"), None).unwrap(), MessageType::Link);
        assert!(kind(Some("video"), None).is_err());
        assert!(kind(None, None).is_err());
    }
}
