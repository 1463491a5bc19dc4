//! YesApi paths and the service-name table. Every request goes through [`serve`]: parameters →
//! service name (unknown: `ret 404`) → app (`ret 400`/`407`) → signature (`ret 406`) → the
//! service's handler → the signed envelope.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use sixin_core::model::App;
use sixin_core::Core;

use super::error::YesApiError;
use super::response::{self, Data};
use super::{auth, handlers, YesApiState};
use crate::client_ip::ClientIp;
use crate::common::envelope::{Failure, BAD_REQUEST};
use crate::common::params::{Params, ParamsRejection};
use crate::HttpConfig;

/// The YesApi routes: `/?s=…` (or `service=`) and `/api/App/{Class}/{Method}`, any method;
/// other paths under `/api/` answer `ret 404` in the envelope.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(core: Core, cfg: &HttpConfig) -> Router<S> {
    let state = YesApiState {
        core,
        time_zone: cfg.time_zone.clone(),
    };
    Router::new()
        .route("/", any(by_query))
        .route("/api/App/{class}/{method}", any(by_path))
        // Any other `/api/...` path (but `/api/platform`, PhalApi's) is an unknown service.
        .route("/api/{*rest}", any(by_path))
        .with_state(state)
}

/// A YesApi service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Send,
    MultiSend,
    TakeMessageList,
    MarkAsReaded,
    GetAllChatList,
    GetAllUnreadNum,
    Register,
    RegisterExt,
    Login,
    LoginExt,
    Profile,
    Logout,
}

/// Service names as clients send them (matched without regard to ASCII case, as PHP matches
/// method names).
const SERVICES: [(&str, Service); 12] = [
    ("App.Market_ChatMessage.Send", Service::Send),
    ("App.Market_ChatMessage.MultiSend", Service::MultiSend),
    (
        "App.Market_ChatMessage.TakeMessageList",
        Service::TakeMessageList,
    ),
    ("App.Market_ChatMessage.MarkAsReaded", Service::MarkAsReaded),
    (
        "App.Market_ChatMessage.GetAllChatList",
        Service::GetAllChatList,
    ),
    (
        "App.Market_ChatMessage.GetAllUnreadNum",
        Service::GetAllUnreadNum,
    ),
    ("App.User.Register", Service::Register),
    ("App.User.RegisterExt", Service::RegisterExt),
    ("App.User.Login", Service::Login),
    ("App.User.LoginExt", Service::LoginExt),
    ("App.User.Profile", Service::Profile),
    ("App.User.Logout", Service::Logout),
];

impl Service {
    /// The service with this name; `None` is the unknown-service case (`ret 404`).
    fn from_name(name: &str) -> Option<Service> {
        SERVICES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s)
    }

    async fn call(
        self,
        s: &YesApiState,
        app: &App,
        p: &Params,
        ip: Option<IpAddr>,
    ) -> Result<Data, YesApiError> {
        match self {
            Service::Send => handlers::send(s, app, p).await,
            Service::MultiSend => handlers::multi_send(s, app, p).await,
            Service::TakeMessageList => handlers::take_message_list(s, app, p).await,
            Service::MarkAsReaded => handlers::mark_as_readed(s, app, p).await,
            Service::GetAllChatList => handlers::get_all_chat_list(s, app, p).await,
            Service::GetAllUnreadNum => handlers::get_all_unread_num(s, app, p).await,
            Service::Register => handlers::register(s, app, p, ip).await,
            Service::RegisterExt => handlers::register_ext(s, app, p, ip).await,
            Service::Login | Service::LoginExt => handlers::login(s, app, p, ip).await,
            Service::Profile => handlers::profile(s, app, p).await,
            Service::Logout => handlers::logout(s, app, p).await,
        }
    }
}

/// `/?s=App.Class.Method` (or `service=`).
async fn by_query(
    State(s): State<YesApiState>,
    ClientIp(ip): ClientIp,
    params: Result<Params, ParamsRejection>,
) -> Response {
    serve(&s, None, params, ip).await
}

/// `/api/App/{Class}/{Method}` (and any other `/api/...`): the path names the service.
async fn by_path(
    State(s): State<YesApiState>,
    uri: Uri,
    ClientIp(ip): ClientIp,
    params: Result<Params, ParamsRejection>,
) -> Response {
    let name = uri.path().trim_start_matches("/api/").replace('/', ".");
    serve(&s, Some(name), params, ip).await
}

async fn serve(
    s: &YesApiState,
    path_service: Option<String>,
    params: Result<Params, ParamsRejection>,
    ip: Option<IpAddr>,
) -> Response {
    let p = match params {
        Ok(p) => p,
        Err(ParamsRejection(msg)) => return response::unsigned(Failure::new(BAD_REQUEST, msg)),
    };
    let name = path_service.as_deref().or(p.service());
    let Some(service) = name.and_then(Service::from_name) else {
        return response::unsigned(Failure::unknown_service(name));
    };
    let app = match auth::app(&s.core, &p).await {
        Ok(app) => app,
        Err(YesApiError(f)) => return response::unsigned(f),
    };
    let (result, secret) = match auth::signature(&s.core, &app, &p) {
        Ok(secret) => (service.call(s, &app, &p, ip).await, secret),
        Err(e) => (Err(e), &app.secret),
    };
    let t = s.core.now().unix_seconds();
    response::envelope(result, secret, p.flag("return_data"), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_resolve_and_unknown_ones_do_not() {
        assert_eq!(
            Service::from_name("App.Market_ChatMessage.Send"),
            Some(Service::Send)
        );
        assert_eq!(
            Service::from_name("app.market_chatmessage.send"),
            Some(Service::Send)
        );
        assert_eq!(
            Service::from_name("App.User.LoginExt"),
            Some(Service::LoginExt)
        );
        assert_eq!(Service::from_name("App.Market_ChatMessage.Nope"), None);
        assert_eq!(Service::from_name("Platform.ChatMessage.Send"), None);
    }
}
