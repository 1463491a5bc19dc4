//! Server API secret rotation: `POST /v1/server/app/secret`. The core generates the new secret
//! and decides the grace period ([`sixin_core::Core::rotate_secret`]); this module translates.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sixin_core::model::App;
use utoipa::ToSchema;

use super::auth::Backend;
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::OptionalJsonBody;
use crate::state::AppState;

/// Rotate the app secret.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecretRequest {
    /// How long the old secret stays accepted, in seconds: 0..=2592000 (30 days); 0 stops it
    /// at once. Default: the server's `server_api.secret_grace_secs` (24 hours unless
    /// configured).
    pub grace_secs: Option<u64>,
}

/// The new secret — shown this once — and until when the old one is still accepted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RotatedSecretDto {
    pub app_key: String,
    /// The new app secret. Store it now: it is never shown again.
    pub app_secret: String,
    /// Until when (Unix milliseconds, exclusive) the previous secret is still accepted; at or
    /// before the time of the call when the grace period is 0.
    pub previous_secret_until: i64,
}

impl From<&App> for RotatedSecretDto {
    fn from(a: &App) -> Self {
        RotatedSecretDto {
            app_key: a.key.to_string(),
            app_secret: a.secret.0.clone(),
            previous_secret_until: a.previous_secret.as_ref().map_or(0, |p| p.until.0),
        }
    }
}

/// `POST /v1/server/app/secret` — replace the app secret with a fresh one. Until
/// `previous_secret_until` the old secret is accepted too, everywhere a secret proves the app:
/// YesApi and PhalApi `sign` (and `_auth` answers are made with the secret a request was signed
/// with), PhalApi access tokens already issued, and server API tokens — including the one that
/// made this call. Rotating again forgets the older secret at once.
///
/// - `400 invalid` for a `grace_secs` over 30 days.
#[utoipa::path(post, path = "/v1/server/app/secret", tag = "server",
    security(("serverToken" = [])), request_body = RotateSecretRequest,
    responses(
        (status = 200, body = RotatedSecretDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn rotate(
    State(s): State<AppState>,
    Backend(app): Backend,
    OptionalJsonBody(req): OptionalJsonBody<RotateSecretRequest>,
) -> Result<Json<RotatedSecretDto>, ApiError> {
    let grace = req.grace_secs.map(Duration::from_secs);
    let app = s.core.rotate_secret(&app, grace).await?;
    Ok(Json(RotatedSecretDto::from(&app)))
}
