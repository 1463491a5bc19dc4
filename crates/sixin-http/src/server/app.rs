//! Server API app handlers: the app as its backend sees it, its registration policy, what
//! app-signed member tokens do on their first use, and who may message its members by default.

use axum::extract::State;
use axum::Json;

use super::auth::Backend;
use super::dto::{AppDmPolicyRequest, MemberTokensRequest, RegistrationRequest, ServerAppDto};
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

/// `PUT /v1/server/app/member-tokens` — what an app-signed member token whose `sub` names no
/// member does: `existing` (the default) refuses it (`401 unauthenticated`); `provision` creates
/// the member from the token's `sub`, `name` (the username; `sub` when absent) and `ext_info`.
#[utoipa::path(put, path = "/v1/server/app/member-tokens", tag = "server",
    security(("serverToken" = [])), request_body = MemberTokensRequest,
    responses(
        (status = 200, body = ServerAppDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn set_member_tokens(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<MemberTokensRequest>,
) -> Result<Json<ServerAppDto>, ApiError> {
    let app = s.core.set_member_tokens(&app, req.policy.into()).await?;
    Ok(Json(ServerAppDto::from(&app)))
}

/// `PUT /v1/server/app/dm-policy` — who may start a new direct conversation with a member who
/// has not chosen for themself (`PUT /v1/me/dm-policy`): `everyone` (the default), `contacts`
/// (members who share a group with them) or `nobody`. Conversations that exist carry on; a
/// sender left out is told `403 not_accepted` (YesApi/PhalApi `ret` 407). The app's own sends
/// through this API as a member are held to it too; its system sender's notices are not.
#[utoipa::path(put, path = "/v1/server/app/dm-policy", tag = "server",
    security(("serverToken" = [])), request_body = AppDmPolicyRequest,
    responses(
        (status = 200, body = ServerAppDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn set_dm_policy(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<AppDmPolicyRequest>,
) -> Result<Json<ServerAppDto>, ApiError> {
    let app = s.core.set_app_dm_policy(&app, req.policy.into()).await?;
    Ok(Json(ServerAppDto::from(&app)))
}
