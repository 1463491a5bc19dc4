//! Server API webhook handlers: the app's endpoints, their deliveries, replays and test events.
//! Translation only: the rules are in `sixin_core::service::webhooks`. Another app's endpoint
//! answers `404 not_found`, as an unknown one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sixin_core::ids::{OutboxId, WebhookId};
use sixin_core::webhook::sign;

use super::auth::Backend;
use super::webhook_dto::{
    CreateWebhookRequest, DeliveriesParams, DeliveryPageDto, ReplayRequest, ReplayedDto,
    TestQueuedDto, UpdateWebhookRequest, WebhookDto, WebhookListDto,
};
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::{JsonBody, Path, Query};
use crate::state::AppState;

/// `POST /v1/server/webhooks` — create an endpoint. The answer carries its signing secret
/// (`whsec_…`), shown this once (and again only on rotation).
///
/// - `400 invalid_request` for a URL that is not http(s) or names a private address, unknown
///   event types, or more than 20 endpoints.
#[utoipa::path(post, path = "/v1/server/webhooks", tag = "server",
    security(("serverToken" = [])), request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = WebhookDto, description = "Created, with its secret"),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(req): JsonBody<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookDto>), ApiError> {
    let hook = s.core.create_webhook(&app, req.into()).await?;
    Ok((StatusCode::CREATED, Json(WebhookDto::with_secret(&hook))))
}

/// `GET /v1/server/webhooks` — the app's endpoints, oldest first (without secrets).
#[utoipa::path(get, path = "/v1/server/webhooks", tag = "server",
    security(("serverToken" = [])),
    responses((status = 200, body = WebhookListDto), (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Backend(app): Backend,
) -> Result<Json<WebhookListDto>, ApiError> {
    let hooks = s.core.list_webhooks(&app).await?;
    Ok(Json(WebhookListDto {
        webhooks: hooks.iter().map(WebhookDto::of).collect(),
    }))
}

/// `GET /v1/server/webhooks/{id}` — one endpoint (without its secret).
#[utoipa::path(get, path = "/v1/server/webhooks/{id}", tag = "server",
    security(("serverToken" = [])), params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = WebhookDto),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn show(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
) -> Result<Json<WebhookDto>, ApiError> {
    let hook = s.core.get_webhook(&app, WebhookId(id)).await?;
    Ok(Json(WebhookDto::of(&hook)))
}

/// `PATCH /v1/server/webhooks/{id}` — change the URL, event types or description, pause
/// (`enabled: false`) or resume, or rotate the secret (`rotate_secret: true`; the answer then
/// carries the new one, and every later request is signed with it).
#[utoipa::path(patch, path = "/v1/server/webhooks/{id}", tag = "server",
    security(("serverToken" = [])), request_body = UpdateWebhookRequest,
    params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = WebhookDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<UpdateWebhookRequest>,
) -> Result<Json<WebhookDto>, ApiError> {
    let rotated = req.rotate_secret;
    let hook = s
        .core
        .update_webhook(&app, WebhookId(id), req.into())
        .await?;
    Ok(Json(if rotated {
        WebhookDto::with_secret(&hook)
    } else {
        WebhookDto::of(&hook)
    }))
}

/// `DELETE /v1/server/webhooks/{id}` — delete an endpoint and its deliveries.
#[utoipa::path(delete, path = "/v1/server/webhooks/{id}", tag = "server",
    security(("serverToken" = [])), params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.core.delete_webhook(&app, WebhookId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/server/webhooks/{id}/deliveries` — the endpoint's deliveries in outbox order:
/// status, tries, the last answer or error, and times; `after` and `limit` page.
#[utoipa::path(get, path = "/v1/server/webhooks/{id}/deliveries", tag = "server",
    security(("serverToken" = [])),
    params(("id" = i64, Path, description = "Endpoint id"), DeliveriesParams),
    responses(
        (status = 200, body = DeliveryPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn deliveries(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
    Query(q): Query<DeliveriesParams>,
) -> Result<Json<DeliveryPageDto>, ApiError> {
    let page = s
        .core
        .webhook_deliveries(
            &app,
            WebhookId(id),
            q.status.as_deref(),
            q.after(),
            q.limit(),
        )
        .await?;
    Ok(Json(DeliveryPageDto::from(&page)))
}

/// `POST /v1/server/webhooks/{id}/replay` — deliver again, in order and before the rest of
/// the endpoint's queue, the app's events still in the outbox from position `from` on
/// (delivered, failed or skipped ones included, and ones from while the endpoint was paused),
/// with their original `webhook-id`s and a fresh retry time. At most 10 000 per call:
/// `next_from` says where to go on.
#[utoipa::path(post, path = "/v1/server/webhooks/{id}/replay", tag = "server",
    security(("serverToken" = [])), request_body = ReplayRequest,
    params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = ReplayedDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn replay(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<ReplayRequest>,
) -> Result<Json<ReplayedDto>, ApiError> {
    let done = s
        .core
        .replay_webhook(&app, WebhookId(id), OutboxId(req.from))
        .await?;
    Ok(Json(ReplayedDto::from(done)))
}

/// `POST /v1/server/webhooks/{id}/test` — queue a `webhook.test` event for this endpoint only,
/// delivered through its queue like any other (whatever its event types).
#[utoipa::path(post, path = "/v1/server/webhooks/{id}/test", tag = "server",
    security(("serverToken" = [])), params(("id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 202, body = TestQueuedDto, description = "Queued"),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn test(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<TestQueuedDto>), ApiError> {
    let outbox = s.core.test_webhook(&app, WebhookId(id)).await?;
    let dto = TestQueuedDto {
        outbox_id: outbox.0,
        webhook_id: sign::webhook_id(outbox),
    };
    Ok((StatusCode::ACCEPTED, Json(dto)))
}
