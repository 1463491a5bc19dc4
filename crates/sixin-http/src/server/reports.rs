//! Server API reports: members' reports for the app's backend to review and resolve.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sixin_core::ids::ReportId;
use sixin_core::model::{Page, Report, ReportStatus};
use sixin_core::Error;
use utoipa::{IntoParams, ToSchema};

use super::auth::Backend;
use super::dto::ServerMemberDto;
use crate::native::dto::MessageKind;
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::{JsonBody, Path, Query};
use crate::native::reports::{CategoryDto, StatusDto};
use crate::state::AppState;

/// Page size when the backend does not give `limit`.
const DEFAULT_LIMIT: u32 = 20;

/// Which reports to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportsParams {
    /// `open` (the default), `resolved` or `all`.
    pub status: Option<String>,
    /// `next_after` of the previous page: reports with a greater id.
    pub after: Option<i64>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

impl ReportsParams {
    fn status(&self) -> Result<Option<ReportStatus>, Error> {
        match self.status.as_deref() {
            None | Some("open") => Ok(Some(ReportStatus::Open)),
            Some("resolved") => Ok(Some(ReportStatus::Resolved)),
            Some("all") => Ok(None),
            Some(_) => Err(Error::invalid("status", "must be open, resolved or all")),
        }
    }
}

/// Resolve a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveRequest {
    /// What was decided, for the app's records: 1..=1000 characters.
    pub resolution: String,
}

/// The reported message as it was when it was reported.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportedMessageDto {
    pub id: i64,
    pub conversation_id: i64,
    #[serde(rename = "type")]
    pub kind: MessageKind,
    /// Its data when it was reported (a later recall or erase does not change it).
    #[schema(value_type = Object)]
    pub data: Value,
    /// Unix milliseconds.
    pub sent_at: i64,
}

/// A report, as the app's backend reviews it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServerReportDto {
    pub id: i64,
    pub status: StatusDto,
    pub category: CategoryDto,
    pub reason: String,
    pub reporter: ServerMemberDto,
    /// The reported member (for a message, its sender).
    pub member: ServerMemberDto,
    /// The reported message, `null` for a report of a member.
    pub message: Option<ReportedMessageDto>,
    /// What the backend decided, once resolved.
    pub resolution: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

impl From<&Report> for ServerReportDto {
    fn from(r: &Report) -> Self {
        ServerReportDto {
            id: r.id.0,
            status: r.status.into(),
            category: r.category.into(),
            reason: r.reason.clone(),
            reporter: ServerMemberDto::from(&r.reporter),
            member: ServerMemberDto::from(&r.member),
            message: r.message.as_ref().map(|m| ReportedMessageDto {
                id: m.id.0,
                conversation_id: m.conversation.0,
                kind: m.kind.into(),
                data: m.data.clone(),
                sent_at: m.sent_at.0,
            }),
            resolution: r.resolution.clone(),
            created_at: r.created_at.0,
            resolved_at: r.resolved_at.map(|t| t.0),
        }
    }
}

/// A page of reports, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportPageDto {
    pub reports: Vec<ServerReportDto>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next_after: Option<i64>,
}

impl From<&Page<Report>> for ReportPageDto {
    fn from(p: &Page<Report>) -> Self {
        ReportPageDto {
            reports: p.items.iter().map(ServerReportDto::from).collect(),
            next_after: p.has_more.then(|| p.items.last().map(|r| r.id.0)).flatten(),
        }
    }
}

/// `GET /v1/server/reports` — the app's reports, oldest first, with the reporter and the
/// reported member as this API shows members, and a reported message's content as it was.
///
/// - `400 invalid_request` for a bad `status` or `limit`.
#[utoipa::path(get, path = "/v1/server/reports", tag = "server",
    security(("serverToken" = [])), params(ReportsParams),
    responses(
        (status = 200, body = ReportPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Backend(app): Backend,
    Query(params): Query<ReportsParams>,
) -> Result<Json<ReportPageDto>, ApiError> {
    let after = params.after.map(ReportId);
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let page = s.core.reports(&app, params.status()?, after, limit).await?;
    Ok(Json(ReportPageDto::from(&page)))
}

/// `POST /v1/server/reports/{id}/resolve` — mark a report resolved with what was decided
/// (acting on it — a ban, a mute, an erase — is up to the backend, with this API). A resolved
/// report keeps its first resolution.
///
/// - `404 not_found` for a report of another app (or none).
#[utoipa::path(post, path = "/v1/server/reports/{id}/resolve", tag = "server",
    security(("serverToken" = [])), request_body = ResolveRequest,
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, body = ServerReportDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn resolve(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<ResolveRequest>,
) -> Result<Json<ServerReportDto>, ApiError> {
    let report = s
        .core
        .resolve_report(&app, ReportId(id), &req.resolution)
        .await?;
    Ok(Json(ServerReportDto::from(&report)))
}
