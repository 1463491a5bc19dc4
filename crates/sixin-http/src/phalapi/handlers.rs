//! One function per PhalApi service (the app is already resolved by `routes`).

use sixin_core::model::App;

use super::error::PhalApiError;
use super::response::{self, Data};
use super::{auth, request, PhalApiState};
use crate::common::params::Params;

type Reply = Result<Data, PhalApiError>;

/// # Platform.ChatMessage.Send (seeds/001) → `data.id` (a string).
pub(super) async fn send(s: &PhalApiState, app: &App, p: &Params) -> Reply {
    auth::access_token(&s.core, app, p)?;
    let caller = auth::member(&s.core, app, p).await?;
    let cmd = request::send(p)?;
    response::sent(&s.core.send(&caller, cmd).await?)
}

/// # App.Auth.ApplyToken → `data.access_token`, `data.expires_in` (seconds).
pub(super) async fn apply_token(s: &PhalApiState, app: &App, p: &Params) -> Reply {
    auth::signature(&s.core, app, p)?;
    let (token, ttl) = s.core.issue_access_token(app);
    response::token(&token, i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
}
