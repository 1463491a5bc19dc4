//! A member's data: `GET /v1/server/members/{external_id}/export` streams it as NDJSON page by
//! page from the core's [`Export`] (one JSON object per line, nothing buffered beyond a page);
//! `DELETE /v1/server/members/{external_id}` erases the member.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sixin_core::service::{Export, ExportRecord, MemberLookup};

use super::auth::Backend;
use super::dto::{ErasedDto, ServerMemberDto};
use crate::native::dto::{ConversationItemDto, HistoryItemDto};
use crate::native::error::{body_of, ApiError, ErrorEnvelope};
use crate::native::extract::Path;
use crate::state::AppState;

/// `GET /v1/server/members/{external_id}/export` — everything the member can see, as
/// `application/x-ndjson`, each line tagged by `record`: first `{"record":"member",…}` (as
/// this API shows members), then for each conversation (most recently active first)
/// `{"record":"conversation",…}` (as the conversation list shows it to the member) followed by
/// `{"record":"message",…}` for every message they can see in it, oldest first (as history
/// shows it). A failure after the first line ends the stream with
/// `{"record":"error","error":{…}}`.
///
/// - `404 not_found` when no member has this id.
#[utoipa::path(get, path = "/v1/server/members/{external_id}/export", tag = "server",
    security(("serverToken" = [])),
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, content_type = "application/x-ndjson",
            description = "One JSON object per line: member, then conversations and messages"),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn export(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
) -> Result<Response, ApiError> {
    let by = MemberLookup::ExternalId(&external_id);
    let export = s.core.export_member(&app, by).await?;
    let pages = futures::stream::unfold(Some(export), next_chunk);
    let mut response = Body::from_stream(pages).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

/// The next page of lines, or the error line that ends the stream.
async fn next_chunk(
    export: Option<Export>,
) -> Option<(Result<String, std::convert::Infallible>, Option<Export>)> {
    let mut export = export?;
    loop {
        match export.next_page().await {
            Ok(None) => return None,
            Ok(Some(records)) if records.is_empty() => continue,
            Ok(Some(records)) => {
                let lines: String = records
                    .iter()
                    .map(|r| format!("{}\n", export_line(r)))
                    .collect();
                return Some((Ok(lines), Some(export)));
            }
            Err(e) => {
                let end = json!({"record": "error", "error": body_of(&e)});
                return Some((Ok(format!("{end}\n")), None));
            }
        }
    }
}

/// One export record as its NDJSON line's object (the same shapes the API shows), tagged by
/// `record`. The CLI's `sixin member export` prints these too.
pub fn export_line(record: &ExportRecord) -> Value {
    let (kind, mut body) = match record {
        ExportRecord::Member(m) => ("member", json!(ServerMemberDto::from(m))),
        ExportRecord::Conversation(c) => ("conversation", json!(ConversationItemDto::from(c))),
        ExportRecord::Message(m) => ("message", json!(HistoryItemDto::from(m))),
    };
    if let Some(obj) = body.as_object_mut() {
        obj.insert("record".into(), json!(kind));
    }
    body
}

/// `DELETE /v1/server/members/{external_id}` — erase the member: their sessions end and their
/// open event streams close at once; their messages stay in others' history as tombstones
/// (`data` `{}`, `recalled_at` set, the sender named `sixin:deleted:<uuid>`) and unread counts
/// drop as for a recall; they leave every group (ownership passes as when an owner leaves);
/// their profile, password and `external_id` are gone (the id may be provisioned again, as a
/// new member).
///
/// - `404 not_found` when no member has this id; `400` for the app's system sender.
#[utoipa::path(delete, path = "/v1/server/members/{external_id}", tag = "server",
    security(("serverToken" = [])),
    params(("external_id" = String, Path, description = "The app's own id for the member")),
    responses(
        (status = 200, body = ErasedDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub(crate) async fn erase(
    State(s): State<AppState>,
    Backend(app): Backend,
    Path(external_id): Path<String>,
) -> Result<Json<ErasedDto>, ApiError> {
    let by = MemberLookup::ExternalId(&external_id);
    let erased = s.core.erase_member(&app, by).await?;
    Ok(Json(ErasedDto {
        erased: erased.uuid.to_string(),
        groups_left: erased.groups_left,
    }))
}
