//! Seed parameter names, defaults and limits (seeds/000) → core commands. Only syntax is
//! checked here (presence, type, the seed's ranges); every rule is the core's.

use serde_json::Value;
use sixin_core::config::MAX_PAGE;
use sixin_core::ids::MessageId;
use sixin_core::model::{ConversationKind, MessageType};
use sixin_core::service::{MultiSend, Recipient, SendMessage};
use sixin_core::store::{HistoryWindow, ListQuery, ListWindow, ReadTarget};
use sixin_core::Error;

use crate::common::message;
use crate::common::params::Params;

/// `other_uuid`: required, exactly 32 characters.
pub(super) fn other_uuid(p: &Params) -> Result<String, Error> {
    let v = p.required("other_uuid")?;
    if v.chars().count() != 32 {
        return Err(Error::invalid(
            "other_uuid",
            "must be exactly 32 characters",
        ));
    }
    Ok(v.to_owned())
}

/// `perpage`: 1..100, default 20.
fn perpage(p: &Params) -> Result<u32, Error> {
    let n = p.int("perpage", 20, 1, i64::from(MAX_PAGE))?;
    Ok(u32::try_from(n).unwrap_or(MAX_PAGE))
}

/// `chat_message_type` (default `text`) and `chat_message_data` (required).
fn content(p: &Params) -> Result<(MessageType, Value), Error> {
    let kind = message::kind(p.get("chat_message_type"), Some(MessageType::Text))?;
    let data = message::data(kind, p.required("chat_message_data")?);
    Ok((kind, data))
}

/// `Send`: `other_uuid`, `chat_message_type`, `chat_message_data` (and sixin's optional
/// `client_msg_id` for idempotent retries).
pub(super) fn send(p: &Params) -> Result<SendMessage, Error> {
    let to = Recipient::Member(other_uuid(p)?);
    let (kind, data) = content(p)?;
    Ok(SendMessage {
        to,
        kind,
        data,
        ext_data: None,
        client_msg_id: p.get("client_msg_id").map(str::to_owned),
    })
}

/// `MultiSend`: `other_uuid` is 1..200 uuids separated by commas (blanks around them and empty
/// items are ignored; the core checks the count).
pub(super) fn multi_send(p: &Params) -> Result<MultiSend, Error> {
    let to: Vec<String> = p
        .required("other_uuid")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if to.is_empty() {
        return Err(Error::invalid(
            "other_uuid",
            "needs 1..200 uuids separated by commas",
        ));
    }
    let (kind, data) = content(p)?;
    Ok(MultiSend {
        to,
        kind,
        data,
        ext_data: None,
        client_msg_id: p.get("client_msg_id").map(str::to_owned),
    })
}

/// A `TakeMessageList` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListRequest {
    pub peer: String,
    pub window: HistoryWindow,
    pub limit: u32,
}

/// `TakeMessageList`: `other_uuid`, `last_id` (≥ 0, default 0), `direction` (up/down, default
/// down), `perpage`. `last_id=0` is the newest page either way; `down` pages forward from
/// `last_id`, `up` backward.
pub(super) fn take_message_list(p: &Params) -> Result<ListRequest, Error> {
    let peer = other_uuid(p)?;
    let last_id = p.int("last_id", 0, 0, i64::MAX)?;
    let up = match p.get("direction") {
        None | Some("down") => false,
        Some("up") => true,
        Some(_) => return Err(Error::invalid("direction", "must be up or down")),
    };
    let window = match (last_id, up) {
        (0, _) => HistoryWindow::Latest,
        (n, false) => HistoryWindow::After(MessageId(n)),
        (n, true) => HistoryWindow::Before(MessageId(n)),
    };
    Ok(ListRequest {
        peer,
        window,
        limit: perpage(p)?,
    })
}

/// `MarkAsReaded`: `other_uuid`, `chat_message_id` (≥ 0, default 0 = the whole conversation).
pub(super) fn mark_as_readed(p: &Params) -> Result<(String, ReadTarget), Error> {
    let peer = other_uuid(p)?;
    let target = match p.int("chat_message_id", 0, 0, i64::MAX)? {
        0 => ReadTarget::All,
        id => ReadTarget::One(MessageId(id)),
    };
    Ok((peer, target))
}

/// `GetAllChatList`: `page` (1..100, default 1) and `perpage` over direct conversations.
pub(super) fn chat_list(p: &Params) -> Result<ListQuery, Error> {
    let page = p.int("page", 1, 1, 100)?;
    let limit = perpage(p)?;
    let skip = u32::try_from(page - 1).unwrap_or(0) * limit;
    Ok(ListQuery {
        kind: Some(ConversationKind::Direct),
        window: ListWindow::Offset(skip),
        limit,
    })
}

/// `username` and `password`, both required.
pub(super) fn credentials(p: &Params) -> Result<(&str, &str), Error> {
    Ok((p.required("username")?, p.required("password")?))
}

/// `ext_info`: optional JSON text (the core requires an object).
pub(super) fn ext_info(p: &Params) -> Result<Option<Value>, Error> {
    p.get("ext_info")
        .map(|raw| {
            serde_json::from_str(raw).map_err(|_| Error::invalid("ext_info", "must be JSON"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "0123456789ABCDEF0123456789ABCDEF";

    fn params(q: &str) -> Params {
        Params::parse(q, None)
    }

    #[test]
    fn take_message_list_windows_follow_direction_and_last_id() {
        let w =
            |q: &str| take_message_list(&params(&format!("other_uuid={U}&{q}"))).map(|r| r.window);
        assert_eq!(w("").unwrap(), HistoryWindow::Latest);
        assert_eq!(w("direction=up&last_id=0").unwrap(), HistoryWindow::Latest);
        assert_eq!(w("last_id=5").unwrap(), HistoryWindow::After(MessageId(5)));
        assert_eq!(
            w("direction=up&last_id=5").unwrap(),
            HistoryWindow::Before(MessageId(5))
        );
        assert!(w("direction=sideways").is_err());
        assert!(w("last_id=-1").is_err());
        let r = take_message_list(&params(&format!("other_uuid={U}"))).unwrap();
        assert_eq!(r.limit, 20);
        assert!(take_message_list(&params(&format!("other_uuid={U}&perpage=101"))).is_err());
        assert!(take_message_list(&params("other_uuid=short")).is_err());
    }

    #[test]
    fn chat_list_pages_by_offset() {
        let q = chat_list(&params("page=3&perpage=10")).unwrap();
        assert_eq!(q.window, ListWindow::Offset(20));
        assert_eq!(q.limit, 10);
        assert!(chat_list(&params("page=101")).is_err());
        assert!(chat_list(&params("page=0")).is_err());
    }

    #[test]
    fn multi_send_splits_on_commas() {
        let m = multi_send(&params(&format!(
            "other_uuid={U},%20{U},&chat_message_data=hi"
        )))
        .unwrap();
        assert_eq!(m.to, vec![U.to_owned(), U.to_owned()]);
        assert_eq!(m.data, serde_json::json!({"content": "hi"}));
        assert!(multi_send(&params("other_uuid=,,&chat_message_data=hi")).is_err());
    }
}
