//! Seed parameter names (seeds/001) → core commands. Only presence and the type enum are
//! checked here; the recipient and the data are the core's to judge.

use sixin_core::service::{Recipient, SendMessage};
use sixin_core::Error;

use crate::common::message;
use crate::common::params::Params;

/// `Platform.ChatMessage.Send`: `chat_message_to_uuid`, `chat_message_type` and
/// `chat_message_data` required, `ext_data` optional (and sixin's optional `client_msg_id`).
pub(super) fn send(p: &Params) -> Result<SendMessage, Error> {
    let to = Recipient::Member(p.required("chat_message_to_uuid")?.to_owned());
    let kind = message::kind(p.get("chat_message_type"), None)?;
    let data = message::data(kind, p.required("chat_message_data")?);
    Ok(SendMessage {
        to,
        kind,
        data,
        ext_data: p.get("ext_data").map(str::to_owned),
        client_msg_id: p.get("client_msg_id").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixin_core::model::MessageType;

    #[test]
    fn the_seed_example_is_a_text_message() {
        let p = Params::parse(
            "chat_message_to_uuid=12345678123456781234567812345678&chat_message_data=hello%20word&chat_message_type=text",
            None,
        );
        let cmd = send(&p).unwrap();
        assert_eq!(cmd.kind, MessageType::Text);
        assert_eq!(cmd.data, serde_json::json!({"content": "hello word"}));
        assert!(send(&Params::parse(
            "chat_message_to_uuid=x&chat_message_data=y",
            None
        ))
        .is_err());
    }
}
