//! Core results → YesApi `data` (seeds/000 field names and JSON types), and the envelope:
//! `{"ret","data","msg","_t","_auth"}`, or only `data` with `return_data=1`.
//!
//! `_auth` is computed over the `data` text exactly as it is written into the body, so the body
//! is assembled from the serialised `data` string rather than re-serialised as a whole.

use axum::response::Response;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::Value;
use sixin_core::ids::AppSecret;
use sixin_core::model::{
    ConversationSummary, HistoryItem, Login, Member, MultiSendItem, Page, Sent,
};
use sixin_core::{Caller, Entity, Error};

use super::error::YesApiError;
use crate::common::envelope::{self, Failure, OK};
use crate::common::sign::auth_tag;
use crate::common::time::datetime;

/// The serialised `data` object of a successful call.
#[derive(Debug)]
pub(super) struct Data(String);

impl Data {
    fn of<T: Serialize>(value: &T) -> Result<Data, YesApiError> {
        serde_json::to_string(value)
            .map(Data)
            .map_err(|e| Error::Internal(Box::new(e)).into())
    }
}

/// The response for a call whose app is known: signed with `_t` and `_auth`, made with
/// `secret` (the app secret the request was signed with).
pub(super) fn envelope(
    result: Result<Data, YesApiError>,
    secret: &AppSecret,
    return_data: bool,
    t: i64,
) -> Response {
    let text = match result {
        Ok(Data(json)) if return_data => json,
        Ok(Data(json)) => signed(OK, &json, "", secret, t),
        // Errors keep the whole envelope even with return_data=1, so the failure is not lost.
        Err(YesApiError(f)) => signed(f.ret, "{}", &f.msg, secret, t),
    };
    envelope::respond(text)
}

/// The response for a call that failed before its app was known: no `_t`, no `_auth`.
pub(super) fn unsigned(f: Failure) -> Response {
    envelope::respond(envelope::body(f.ret, "{}", &f.msg, &[]))
}

fn signed(ret: u16, data: &str, msg: &str, secret: &AppSecret, t: i64) -> String {
    let tag = Value::String(auth_tag(data, t, &secret.0)).to_string();
    envelope::body(ret, data, msg, &[("_t", t.to_string()), ("_auth", tag)])
}

/// `err_code` and `err_msg`, present in every `data`.
#[derive(Serialize)]
struct Code {
    err_code: u8,
    err_msg: String,
}

impl Code {
    fn ok() -> Code {
        Code {
            err_code: 0,
            err_msg: String::new(),
        }
    }

    fn err(err_code: u8, err_msg: impl Into<String>) -> Code {
        Code {
            err_code,
            err_msg: err_msg.into(),
        }
    }
}

/// `err_code` for a send outcome: 1 to yourself, 2 to a member that does not exist here.
fn send_code(e: &Error) -> Option<Code> {
    match e {
        Error::SelfSend => Some(Code::err(1, "cannot send to yourself")),
        Error::NotFound(Entity::Member) => Some(Code::err(2, "send failed: no such member")),
        _ => None,
    }
}

#[derive(Serialize)]
struct SendData {
    #[serde(flatten)]
    code: Code,
    chat_message_id: i64,
}

/// `Send` → `{err_code, err_msg, chat_message_id}`; self and unknown recipients are err_codes.
pub(super) fn send(outcome: Result<Sent, Error>) -> Result<Data, YesApiError> {
    let (code, id) = match outcome {
        Ok(sent) => (Code::ok(), sent.message.id.0),
        Err(e) => (send_code(&e).ok_or(e)?, 0),
    };
    Data::of(&SendData {
        code,
        chat_message_id: id,
    })
}

#[derive(Serialize)]
struct Detail {
    other_uuid: String,
    chat_message_id: i64,
    #[serde(flatten)]
    code: Code,
}

#[derive(Serialize)]
struct MultiSendData {
    #[serde(flatten)]
    code: Code,
    detail: Vec<Detail>,
}

/// `MultiSend` → `{err_code, err_msg, detail[]}`. `err_code` is 0 when at least one message
/// was sent; otherwise 1 if every recipient was the caller, else 2. A recipient refused on its
/// own — the app's system sender, a member who does not accept the caller's messages, one past
/// a rate limit, one the app's before-send hook rejected (or failed on, closed, or replaced
/// with invalid data) — is a failed send of its own (`err_code` 2 in its detail, the reason in its
/// `err_msg`), so it does not hide the messages the others got.
pub(super) fn multi_send(items: Vec<MultiSendItem>) -> Result<Data, YesApiError> {
    let mut detail = Vec::with_capacity(items.len());
    for item in items {
        let (code, id) = match item.result {
            Ok(sent) => (Code::ok(), sent.message.id.0),
            Err(
                e @ (Error::CannotReply
                | Error::NotAccepted
                | Error::RateLimited(_)
                | Error::RejectedByApp { .. }
                | Error::HookFailed { .. }
                | Error::Invalid { .. }),
            ) => (Code::err(2, e.to_string()), 0),
            Err(e) => (send_code(&e).ok_or(e)?, 0),
        };
        detail.push(Detail {
            other_uuid: item.to,
            chat_message_id: id,
            code,
        });
    }
    let code = if detail.iter().any(|d| d.code.err_code == 0) {
        Code::ok()
    } else if detail.iter().all(|d| d.code.err_code == 1) {
        Code::err(1, "cannot send to yourself")
    } else {
        Code::err(2, "send failed for every recipient; see detail")
    };
    Data::of(&MultiSendData { code, detail })
}

#[derive(Serialize)]
struct ListItem<'a> {
    id: i64,
    chat_message_to_uuid: &'a str,
    chat_message_data: &'a Value,
    chat_message_type: &'a str,
    chat_message_is_read: u8,
    chat_message_io: &'static str,
    add_time: String,
}

#[derive(Serialize)]
struct ListData<'a> {
    #[serde(flatten)]
    code: Code,
    list: Vec<ListItem<'a>>,
    unread_num: u32,
}

/// `"in"` for a message the caller sent, `"out"` for one they received (the seed's meaning).
fn io(caller: &Caller, item: &HistoryItem) -> &'static str {
    if item.message.sender == caller.member_id() {
        "in"
    } else {
        "out"
    }
}

/// `TakeMessageList` → `{err_code, err_msg, list[], unread_num}`.
pub(super) fn message_list(
    caller: &Caller,
    peer: &str,
    page: &Page<HistoryItem>,
    unread_num: u32,
    tz: &TimeZone,
) -> Result<Data, YesApiError> {
    let list = page
        .items
        .iter()
        .map(|item| ListItem {
            id: item.message.id.0,
            chat_message_to_uuid: peer,
            chat_message_data: &item.message.data,
            chat_message_type: item.message.kind.as_str(),
            chat_message_is_read: u8::from(item.read),
            chat_message_io: io(caller, item),
            add_time: datetime(item.message.created_at, tz),
        })
        .collect();
    Data::of(&ListData {
        code: Code::ok(),
        list,
        unread_num,
    })
}

/// `TakeMessageList` with yourself: err_code 1 and an empty list.
pub(super) fn self_chat() -> Result<Data, YesApiError> {
    Data::of(&ListData {
        code: Code::err(1, "cannot chat with yourself"),
        list: Vec::new(),
        unread_num: 0,
    })
}

#[derive(Serialize)]
struct MarkData {
    #[serde(flatten)]
    code: Code,
    readed_num: u32,
}

/// `MarkAsReaded` → `{err_code, err_msg, readed_num}`.
pub(super) fn marked(readed_num: u32) -> Result<Data, YesApiError> {
    Data::of(&MarkData {
        code: Code::ok(),
        readed_num,
    })
}

#[derive(Serialize)]
struct User<'a> {
    username: &'a str,
    ext_info: &'a Value,
}

#[derive(Serialize)]
struct ChatItem<'a> {
    chat_message_to_uuid: &'a str,
    chat_message_data: &'a Value,
    chat_message_type: &'a str,
    chat_message_is_read: u8,
    chat_message_io: &'static str,
    add_time: String,
    user: User<'a>,
}

#[derive(Serialize)]
struct ChatListData<'a> {
    #[serde(flatten)]
    code: Code,
    list: Vec<ChatItem<'a>>,
    total: u64,
}

/// `GetAllChatList` → `{err_code, err_msg, list[], total}`; each entry describes the last
/// message of one direct conversation and its peer.
pub(super) fn chat_list(
    caller: &Caller,
    page: &Page<ConversationSummary>,
    total: u64,
    tz: &TimeZone,
) -> Result<Data, YesApiError> {
    let empty_object = Value::Object(serde_json::Map::new());
    let list = page
        .items
        .iter()
        .map(|c| {
            let last = c.last_message.as_ref();
            let peer = c.peer.as_ref();
            ChatItem {
                chat_message_to_uuid: peer.map_or("", |p| p.uuid.as_str()),
                chat_message_data: last.map_or(&empty_object, |m| &m.message.data),
                chat_message_type: last.map_or("text", |m| m.message.kind.as_str()),
                chat_message_is_read: last.map_or(1, |m| u8::from(m.read)),
                chat_message_io: last.map_or("out", |m| io(caller, m)),
                add_time: datetime(last.map_or(c.activity_at, |m| m.message.created_at), tz),
                user: User {
                    username: peer.map_or("", |p| p.username.as_str()),
                    ext_info: peer.map_or(&empty_object, |p| &p.ext_info),
                },
            }
        })
        .collect();
    Data::of(&ChatListData {
        code: Code::ok(),
        list,
        total,
    })
}

#[derive(Serialize)]
struct UnreadData {
    #[serde(flatten)]
    code: Code,
    unread_num: u64,
}

/// `GetAllUnreadNum` → `{err_code, err_msg, unread_num}`.
pub(super) fn unread_num(total: u64) -> Result<Data, YesApiError> {
    Data::of(&UnreadData {
        code: Code::ok(),
        unread_num: total,
    })
}

#[derive(Serialize)]
struct RegisterData {
    #[serde(flatten)]
    code: Code,
    uuid: String,
}

/// `Register`/`RegisterExt` → `{err_code, err_msg, uuid}`; a taken username is err_code 1.
pub(super) fn registered(outcome: Result<Member, Error>) -> Result<Data, YesApiError> {
    let (code, uuid) = match outcome {
        Ok(m) => (Code::ok(), m.uuid.as_str().to_owned()),
        Err(Error::Conflict(Entity::Username)) => {
            (Code::err(1, "username already registered"), String::new())
        }
        Err(e) => return Err(e.into()),
    };
    Data::of(&RegisterData { code, uuid })
}

#[derive(Serialize)]
struct LoginData {
    #[serde(flatten)]
    code: Code,
    uuid: String,
    token: String,
}

/// `Login`/`LoginExt` → `{err_code, err_msg, uuid, token}`; a wrong username or password is
/// err_code 1 (which of the two is not revealed).
pub(super) fn logged_in(outcome: Result<Login, Error>) -> Result<Data, YesApiError> {
    let (code, uuid, token) = match outcome {
        Ok(l) => (Code::ok(), l.member.uuid.as_str().to_owned(), l.token),
        Err(Error::BadCredentials) => (
            Code::err(1, "wrong username or password"),
            String::new(),
            String::new(),
        ),
        Err(e) => return Err(e.into()),
    };
    Data::of(&LoginData { code, uuid, token })
}

#[derive(Serialize)]
struct Info<'a> {
    uuid: &'a str,
    username: &'a str,
    ext_info: &'a Value,
    reg_time: String,
}

#[derive(Serialize)]
struct ProfileData<'a> {
    #[serde(flatten)]
    code: Code,
    info: Info<'a>,
}

/// `Profile` → `{err_code, err_msg, info: {uuid, username, ext_info, reg_time}}`.
pub(super) fn profile(member: &Member, tz: &TimeZone) -> Result<Data, YesApiError> {
    Data::of(&ProfileData {
        code: Code::ok(),
        info: Info {
            uuid: member.uuid.as_str(),
            username: &member.username,
            ext_info: &member.ext_info,
            reg_time: datetime(member.created_at, tz),
        },
    })
}

/// `Logout` → `{err_code, err_msg}`.
pub(super) fn logged_out() -> Result<Data, YesApiError> {
    Data::of(&Code::ok())
}
