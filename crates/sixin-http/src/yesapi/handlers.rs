//! One function per YesApi service: authenticate the member (the app and signature are
//! already checked by `routes`), build the core command, make the core call, render.

use std::net::IpAddr;

use sixin_core::model::{App, ConversationKind};
use sixin_core::Error;

use super::error::YesApiError;
use super::response::{self, Data};
use super::{auth, request, YesApiState};
use crate::common::params::Params;

type Reply = Result<Data, YesApiError>;

/// # App.Market_ChatMessage.Send (seeds/000, "Send")
pub(super) async fn send(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    let cmd = request::send(p)?;
    response::send(s.core.send(&caller, cmd).await)
}

/// # App.Market_ChatMessage.MultiSend (seeds/000, "MultiSend")
pub(super) async fn multi_send(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    let cmd = request::multi_send(p)?;
    response::multi_send(s.core.multi_send(&caller, cmd).await?)
}

/// # App.Market_ChatMessage.TakeMessageList (seeds/000, "TakeMessageList")
///
/// Two core calls: the page, then the unread count the seed returns beside it.
pub(super) async fn take_message_list(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    let q = request::take_message_list(p)?;
    let page = match s
        .core
        .history_with(&caller, &q.peer, q.window, q.limit)
        .await
    {
        Err(Error::SelfSend) => return response::self_chat(),
        other => other?,
    };
    let unread = s.core.unread_with(&caller, &q.peer).await?;
    response::message_list(&caller, &q.peer, &page, unread, &s.time_zone)
}

/// # App.Market_ChatMessage.MarkAsReaded (seeds/000, "MarkAsReaded")
///
/// The seed names the conversation by the peer, so the direct conversation is looked up first.
pub(super) async fn mark_as_readed(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    let (peer, target) = request::mark_as_readed(p)?;
    let marked = match s.core.direct_with(&caller, &peer).await? {
        Some(id) => s.core.mark_read(&caller, id, target).await?.marked,
        None => 0,
    };
    response::marked(marked)
}

/// # App.Market_ChatMessage.GetAllChatList (seeds/000, "GetAllChatList")
///
/// Two core calls: the page of direct conversations, then their number (`total`).
pub(super) async fn get_all_chat_list(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    let query = request::chat_list(p)?;
    let page = s.core.conversations(&caller, query).await?;
    let total = s
        .core
        .conversation_count(&caller, Some(ConversationKind::Direct))
        .await?;
    response::chat_list(&caller, &page, total, &s.time_zone)
}

/// # App.Market_ChatMessage.GetAllUnreadNum (seeds/000, "GetAllUnreadNum")
pub(super) async fn get_all_unread_num(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    response::unread_num(s.core.unread_total(&caller).await?)
}

/// # App.User.Register — username + password, from the client IP `ip` (the per-IP limit
/// answers `ret 429`).
pub(super) async fn register(s: &YesApiState, app: &App, p: &Params, ip: Option<IpAddr>) -> Reply {
    let (username, password) = request::credentials(p)?;
    response::registered(s.core.register(app, username, password, None, ip).await)
}

/// # App.User.RegisterExt — username + password + `ext_info` (JSON object), as `Register`.
pub(super) async fn register_ext(
    s: &YesApiState,
    app: &App,
    p: &Params,
    ip: Option<IpAddr>,
) -> Reply {
    let (username, password) = request::credentials(p)?;
    let ext_info = request::ext_info(p)?;
    response::registered(s.core.register(app, username, password, ext_info, ip).await)
}

/// # App.User.Login and App.User.LoginExt — username + password → uuid + token, from the
/// client IP `ip` (the per-IP limit and the failed-login lockout answer `ret 429`).
pub(super) async fn login(s: &YesApiState, app: &App, p: &Params, ip: Option<IpAddr>) -> Reply {
    let (username, password) = request::credentials(p)?;
    response::logged_in(s.core.login(app, username, password, ip).await)
}

/// # App.User.Profile — the logged-in member's own profile.
pub(super) async fn profile(s: &YesApiState, app: &App, p: &Params) -> Reply {
    let caller = auth::member(&s.core, app, p).await?;
    response::profile(caller.member(), &s.time_zone)
}

/// # App.User.Logout — revokes the session behind `token`.
pub(super) async fn logout(s: &YesApiState, app: &App, p: &Params) -> Reply {
    auth::member(&s.core, app, p).await?;
    s.core.logout(p.required("token")?).await?;
    response::logged_out()
}
