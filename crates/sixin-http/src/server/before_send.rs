//! Server API: the app's before-send hook (`/v1/server/app/before-send`), which sixin asks
//! before committing each member's send.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sixin_core::service::BeforeSendSpec;
use sixin_core::webhook::{BeforeSendHook, OnFailure};
use utoipa::ToSchema;

use super::auth::Backend;
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::JsonBody;
use crate::state::AppState;

/// Set the before-send hook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BeforeSendRequest {
    /// Where sixin posts each member send before committing it: an absolute `http` or `https`
    /// URL, under the same target rules as webhook endpoints.
    pub url: String,
    /// How long sixin waits for the answer: 50..5000 ms, default 1500.
    pub timeout_ms: Option<u32>,
    /// What a send does when the hook fails (no answer in time, a non-2xx status, an answer
    /// that means nothing): `allow` (the default) sends it unchanged, `reject` refuses it
    /// (`503 hook_unavailable`).
    #[schema(value_type = Option<String>, example = "allow")]
    pub on_failure: Option<OnFailureDto>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OnFailureDto {
    Allow,
    Reject,
}

impl From<OnFailureDto> for OnFailure {
    fn from(o: OnFailureDto) -> Self {
        match o {
            OnFailureDto::Allow => OnFailure::Allow,
            OnFailureDto::Reject => OnFailure::Reject,
        }
    }
}

/// The app's before-send hook.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BeforeSendDto {
    pub url: String,
    pub timeout_ms: u32,
    /// `allow` or `reject`.
    pub on_failure: String,
    /// `whsec_…`: the key of the `webhook-signature` header of each call (Standard Webhooks).
    /// Shown when the hook is set only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl BeforeSendDto {
    fn of(hook: &BeforeSendHook, with_secret: bool) -> Self {
        BeforeSendDto {
            url: hook.url.clone(),
            timeout_ms: hook.timeout_ms,
            on_failure: hook.on_failure.as_str().to_owned(),
            secret: with_secret.then(|| hook.secret.clone()),
        }
    }
}

fn missing() -> ApiError {
    ApiError::from(sixin_core::Error::NotFound(sixin_core::Entity::Webhook))
}

/// `PUT /v1/server/app/before-send` — sets (or replaces) the app's before-send hook, with a
/// fresh signing secret shown in this answer only.
#[utoipa::path(put, path = "/v1/server/app/before-send", tag = "server",
    security(("serverToken" = [])), request_body = BeforeSendRequest,
    responses(
        (status = 200, body = BeforeSendDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn set(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<BeforeSendRequest>,
) -> Result<Json<BeforeSendDto>, ApiError> {
    let spec = BeforeSendSpec {
        url: req.url,
        timeout_ms: req.timeout_ms,
        on_failure: req.on_failure.map(Into::into),
    };
    let app = s.core.set_before_send(&app, spec).await?;
    let hook = app.before_send.as_ref().ok_or_else(missing)?;
    Ok(Json(BeforeSendDto::of(hook, true)))
}

/// `GET /v1/server/app/before-send` — the app's before-send hook (without its secret);
/// `404 not_found` when it has none.
#[utoipa::path(get, path = "/v1/server/app/before-send", tag = "server",
    security(("serverToken" = [])),
    responses(
        (status = 200, body = BeforeSendDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn show(Backend(app): Backend) -> Result<Json<BeforeSendDto>, ApiError> {
    let hook = app.app().before_send.as_ref().ok_or_else(missing)?;
    Ok(Json(BeforeSendDto::of(hook, false)))
}

/// `DELETE /v1/server/app/before-send` — removes the hook: sends are no longer asked about.
#[utoipa::path(delete, path = "/v1/server/app/before-send", tag = "server",
    security(("serverToken" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Backend(app): Backend,
) -> Result<StatusCode, ApiError> {
    s.core.clear_before_send(&app).await?;
    Ok(StatusCode::NO_CONTENT)
}
