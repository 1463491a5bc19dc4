//! Server API app handlers: the app as its backend sees it, and its registration policy.

use axum::extract::State;
use axum::Json;

use super::auth::Backend;
use super::dto::{RegistrationRequest, ServerAppDto};
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::JsonBody;
use crate::state::AppState;

/// `GET /v1/server/app` — the app the token was signed for (key, name, policies; never the
/// secret).
#[utoipa::path(get, path = "/v1/server/app", tag = "server", security(("serverToken" = [])),
    responses((status = 200, body = ServerAppDto), (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn show(Backend(app): Backend) -> Json<ServerAppDto> {
    Json(ServerAppDto::from(app.app()))
}

/// `PUT /v1/server/app/registration` — `open`: members may register themselves (native
/// `POST /v1/members`, YesApi `App.User.Register`/`RegisterExt`); `closed`: those answer
/// `403 registration_closed` (YesApi `ret` 407) and members come from this API and the CLI.
#[utoipa::path(put, path = "/v1/server/app/registration", tag = "server",
    security(("serverToken" = [])), request_body = RegistrationRequest,
    responses(
        (status = 200, body = ServerAppDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn set_registration(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<RegistrationRequest>,
) -> Result<Json<ServerAppDto>, ApiError> {
    let app = s.core.set_registration(&app, req.policy.into()).await?;
    Ok(Json(ServerAppDto::from(&app)))
}
