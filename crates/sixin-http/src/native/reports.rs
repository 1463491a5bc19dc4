//! `POST /v1/reports`: a member reports a message or a member. The app's backend reviews
//! reports through the server API (`server::reports`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sixin_core::ids::MessageId;
use sixin_core::model::{Report, ReportCategory, ReportStatus};
use sixin_core::service::FileReport;
use utoipa::ToSchema;

use super::auth::Authed;
use super::dto::ProfileDto;
use super::error::{ApiError, ErrorEnvelope};
use super::extract::JsonBody;
use crate::state::AppState;

/// Why a member reports.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CategoryDto {
    Spam,
    Harassment,
    Inappropriate,
    #[default]
    Other,
}

impl From<CategoryDto> for ReportCategory {
    fn from(c: CategoryDto) -> Self {
        match c {
            CategoryDto::Spam => ReportCategory::Spam,
            CategoryDto::Harassment => ReportCategory::Harassment,
            CategoryDto::Inappropriate => ReportCategory::Inappropriate,
            CategoryDto::Other => ReportCategory::Other,
        }
    }
}

impl From<ReportCategory> for CategoryDto {
    fn from(c: ReportCategory) -> Self {
        match c {
            ReportCategory::Spam => CategoryDto::Spam,
            ReportCategory::Harassment => CategoryDto::Harassment,
            ReportCategory::Inappropriate => CategoryDto::Inappropriate,
            ReportCategory::Other => CategoryDto::Other,
        }
    }
}

/// Where a report is in the app's review.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusDto {
    Open,
    Resolved,
}

impl From<ReportStatus> for StatusDto {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Open => StatusDto::Open,
            ReportStatus::Resolved => StatusDto::Resolved,
        }
    }
}

/// Report a message (`message_id`) or a member (`member`, a uuid): exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportRequest {
    /// A message the caller can see (in a conversation they belong to).
    pub message_id: Option<i64>,
    /// A member's uuid.
    pub member: Option<String>,
    /// `other` when absent.
    #[serde(default)]
    pub category: CategoryDto,
    /// Why, for the app's moderators: 1..=1000 characters.
    pub reason: String,
}

/// A report, as its reporter sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportDto {
    pub id: i64,
    pub status: StatusDto,
    pub category: CategoryDto,
    pub reason: String,
    /// The reported member (for a message, its sender).
    pub member: ProfileDto,
    /// The reported message, if a message was reported.
    pub message_id: Option<i64>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<&Report> for ReportDto {
    fn from(r: &Report) -> Self {
        ReportDto {
            id: r.id.0,
            status: r.status.into(),
            category: r.category.into(),
            reason: r.reason.clone(),
            member: ProfileDto::from(&r.member.profile()),
            message_id: r.message.as_ref().map(|m| m.id.0),
            created_at: r.created_at.0,
        }
    }
}

/// `POST /v1/reports` — report a message or a member to the app's moderators (the app's
/// backend reviews reports through `GET /v1/server/reports`).
///
/// - `201` with the report; `200` with the caller's open report on the same message (or
///   member) instead of a second one.
/// - `404 not_found` for a message the caller cannot see or an unknown member; `403
///   forbidden` for the caller themself or their own message.
/// - `429 rate_limited` after 20 reports in 24 hours (policy `reports`).
#[utoipa::path(post, path = "/v1/reports", tag = "members", security(("bearer" = [])),
    request_body = ReportRequest,
    responses(
        (status = 201, description = "Filed", body = ReportDto),
        (status = 200, description = "The caller's open report on the same target", body = ReportDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
pub(crate) async fn file(
    State(s): State<AppState>,
    Authed(caller): Authed,
    JsonBody(req): JsonBody<ReportRequest>,
) -> Result<(StatusCode, Json<ReportDto>), ApiError> {
    let report = FileReport {
        message: req.message_id.map(MessageId),
        member: req.member,
        category: req.category.into(),
        reason: req.reason,
    };
    let filed = s.core.report(&caller, report).await?;
    let status = if filed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ReportDto::from(&filed.report))))
}
