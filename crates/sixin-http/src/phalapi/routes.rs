//! The PhalApi path and service-name table. Every request goes through [`serve`]: parameters →
//! service name (unknown: `ret 404`) → app (`ret 400`/`407`) → the service's handler → the
//! envelope (with `debug` when enabled and asked for).

use axum::extract::State;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use sixin_core::model::App;
use sixin_core::Core;

use super::error::PhalApiError;
use super::response::{self, Data, Trace};
use super::{auth, handlers, PhalApiState};
use crate::common::envelope::{Failure, BAD_REQUEST};
use crate::common::params::{Params, ParamsRejection};
use crate::HttpConfig;

/// The PhalApi route: `/api/platform?s=…` (or `service=`), any method.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(core: Core, cfg: &HttpConfig) -> Router<S> {
    let state = PhalApiState {
        core,
        debug: cfg.phalapi_debug,
    };
    Router::new()
        .route("/api/platform", any(platform))
        .with_state(state)
}

/// A PhalApi service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Send,
    ApplyToken,
}

/// Service names as clients send them (matched without regard to ASCII case).
const SERVICES: [(&str, Service); 2] = [
    ("Platform.ChatMessage.Send", Service::Send),
    ("App.Auth.ApplyToken", Service::ApplyToken),
];

impl Service {
    /// The service with this name; `None` is the unknown-service case (`ret 404`).
    fn from_name(name: &str) -> Option<Service> {
        SERVICES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s)
    }

    async fn call(self, s: &PhalApiState, app: &App, p: &Params) -> Result<Data, PhalApiError> {
        match self {
            Service::Send => handlers::send(s, app, p).await,
            Service::ApplyToken => handlers::apply_token(s, app, p).await,
        }
    }
}

/// `/api/platform`.
async fn platform(
    State(s): State<PhalApiState>,
    params: Result<Params, ParamsRejection>,
) -> Response {
    let mut trace = Some(Trace::start());
    let p = match params {
        Ok(p) => p,
        Err(ParamsRejection(msg)) => {
            return response::envelope(Err(Failure::new(BAD_REQUEST, msg).into()), None)
        }
    };
    if !(s.debug && p.flag("__debug__")) {
        trace = None;
    }
    let result = serve(&s, &p).await;
    if let Some(t) = trace.as_mut() {
        t.mark("PHALAPI_RESPONSE");
    }
    response::envelope(result, trace)
}

async fn serve(s: &PhalApiState, p: &Params) -> Result<Data, PhalApiError> {
    let name = p.service();
    let service = name
        .and_then(Service::from_name)
        .ok_or_else(|| Failure::unknown_service(name))?;
    let app = auth::app(&s.core, p).await?;
    service.call(s, &app, p).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_resolve_and_unknown_ones_do_not() {
        assert_eq!(
            Service::from_name("Platform.ChatMessage.Send"),
            Some(Service::Send)
        );
        assert_eq!(
            Service::from_name("App.Auth.ApplyToken"),
            Some(Service::ApplyToken)
        );
        assert_eq!(Service::from_name("Platform.ChatMessage.Sendx"), None);
    }
}
