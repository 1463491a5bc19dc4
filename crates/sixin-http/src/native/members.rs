//! Member handlers: registration, sessions, profiles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::auth::{Authed, BearerToken};
use super::dto::{LoginRequest, MemberDto, ProfileDto, RegisterRequest, SessionDto};
use super::error::{ApiError, ErrorEnvelope};
use super::extract::{JsonBody, Path};
use crate::client_ip::ClientIp;
use crate::state::AppState;

/// `POST /v1/members` — register a member of an app (open registration, like YesApi
/// `App.User.Register`).
///
/// - `404 unknown_app` for an unknown `app_key`.
/// - `409 conflict` when the username is taken in this app.
/// - `400 invalid_request` for a bad username, password or `ext_info` (a common password, only
///   whitespace or one repeated character included).
/// - `429 rate_limited` when the client IP has used up the app's `registrations_per_ip`, with
///   `Retry-After` and the `RateLimit-Policy`/`RateLimit` headers.
#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = RegisterRequest,
    responses(
        (status = 201, body = MemberDto),
        (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope, headers(
            ("Retry-After" = u64, description = "Seconds until a retry can succeed"),
            ("RateLimit-Policy" = String, description = "The limit: `\"registrations\";q=20;w=3600`"),
            ("RateLimit" = String, description = "`\"registrations\";r=0;t=RETRY_AFTER`")))))]
pub(crate) async fn register(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<MemberDto>), ApiError> {
    let app = s.core.app_by_key(&req.app_key).await?;
    let member = s
        .core
        .register(&app, &req.username, &req.password, req.ext_info, ip)
        .await?;
    Ok((StatusCode::CREATED, Json(MemberDto::from(&member))))
}

/// `POST /v1/sessions` — log in; the returned token is the Bearer token for every other call.
///
/// - `401 bad_credentials` when username and password do not match.
/// - `403 banned` for banned members.
/// - `429 rate_limited` when the client IP has used up the app's `logins_per_ip` (policy
///   `logins`), or while the account is locked after too many wrong passwords in a row (policy
///   `failed_logins`; the password is not checked), with `Retry-After` and the
///   `RateLimit-Policy`/`RateLimit` headers.
#[utoipa::path(post, path = "/v1/sessions", tag = "members", request_body = LoginRequest,
    responses(
        (status = 201, body = SessionDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope, headers(
            ("Retry-After" = u64, description = "Seconds until a retry can succeed"),
            ("RateLimit-Policy" = String, description = "`\"logins\";q=30;w=60` or `\"failed_logins\";q=5;w=LOCK_SECS`"),
            ("RateLimit" = String, description = "`\"logins\";r=0;t=RETRY_AFTER`")))))]
pub(crate) async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<(StatusCode, Json<SessionDto>), ApiError> {
    let app = s.core.app_by_key(&req.app_key).await?;
    let login = s.core.login(&app, &req.username, &req.password, ip).await?;
    Ok((StatusCode::CREATED, Json(SessionDto::from(&login))))
}

/// `DELETE /v1/sessions/current` — log out: the Bearer token stops working everywhere.
///
/// - `401 unauthenticated` if the token is not a live session.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "members",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn logout(
    State(s): State<AppState>,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    s.core.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/members/{uuid}` — the public profile of a member of the caller's app.
///
/// - `404 not_found` for unknown uuids and members of other apps alike.
#[utoipa::path(get, path = "/v1/members/{uuid}", tag = "members", security(("bearer" = [])),
    params(("uuid" = String, Path, description = "The member's uuid")),
    responses(
        (status = 200, body = ProfileDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn profile(
    State(s): State<AppState>,
    Authed(caller): Authed,
    Path(uuid): Path<String>,
) -> Result<Json<ProfileDto>, ApiError> {
    let profile = s.core.profile(&caller, &uuid).await?;
    Ok(Json(ProfileDto::from(&profile)))
}
