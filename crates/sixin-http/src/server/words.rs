//! Server API word list: the app's sensitive words, listed, added or changed, removed. Every
//! change takes effect on every node at its next request for the app.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sixin_core::model::{FilterWord, Page, WordAction, WordsChanged};
use utoipa::{IntoParams, ToSchema};

use super::auth::Backend;
use crate::native::error::{ApiError, ErrorEnvelope};
use crate::native::extract::{JsonBody, Query};
use crate::state::AppState;

/// Page size when the backend does not give `limit`.
const DEFAULT_LIMIT: u32 = 100;

/// What a word does to a text that contains it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ActionDto {
    /// The text is refused (`422 content_rejected`; each dialect's own code).
    #[default]
    Reject,
    /// The word is replaced with `*` and the text goes through.
    Mask,
}

impl From<ActionDto> for WordAction {
    fn from(a: ActionDto) -> Self {
        match a {
            ActionDto::Reject => WordAction::Reject,
            ActionDto::Mask => WordAction::Mask,
        }
    }
}

impl From<WordAction> for ActionDto {
    fn from(a: WordAction) -> Self {
        match a {
            WordAction::Reject => ActionDto::Reject,
            WordAction::Mask => ActionDto::Mask,
        }
    }
}

/// A page of the word list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WordsParams {
    /// `next_after` of the previous page: words after this one.
    pub after: Option<String>,
    /// Page size, 1..=100 (default 100).
    pub limit: Option<u32>,
}

/// A word to add, or whose action to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WordInput {
    /// 1..=100 characters with at least one letter or digit; stored folded (full-width to
    /// half-width, lower case, letters and digits only).
    pub word: String,
    /// `reject` when absent.
    #[serde(default)]
    pub action: ActionDto,
}

/// A word of the list, in its folded form.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WordDto {
    pub word: String,
    pub action: ActionDto,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<&FilterWord> for WordDto {
    fn from(w: &FilterWord) -> Self {
        WordDto {
            word: w.word.clone(),
            action: w.action.into(),
            created_at: w.created_at.0,
        }
    }
}

/// A page of words, in the database's text order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WordPageDto {
    pub words: Vec<WordDto>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next_after: Option<String>,
    /// The list's version as this request found it (it grows with every change).
    pub version: i64,
}

/// What a change did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WordsChangedDto {
    /// Words added, whose action changed, or removed.
    pub changed: u64,
    /// The list's version after the change.
    pub version: i64,
}

impl From<WordsChanged> for WordsChangedDto {
    fn from(c: WordsChanged) -> Self {
        WordsChangedDto {
            changed: c.changed,
            version: c.version,
        }
    }
}

fn page_dto(p: &Page<FilterWord>, version: i64) -> WordPageDto {
    WordPageDto {
        words: p.items.iter().map(WordDto::from).collect(),
        next_after: p
            .has_more
            .then(|| p.items.last().map(|w| w.word.clone()))
            .flatten(),
        version,
    }
}

/// `GET /v1/server/words` — a page of the app's word list.
#[utoipa::path(get, path = "/v1/server/words", tag = "server",
    security(("serverToken" = [])), params(WordsParams),
    responses(
        (status = 200, body = WordPageDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Backend(app): Backend,
    Query(params): Query<WordsParams>,
) -> Result<Json<WordPageDto>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let page = s.core.words(&app, params.after.as_deref(), limit).await?;
    Ok(Json(page_dto(&page, app.app().word_list_version)))
}

/// `PUT /v1/server/words` — add words, or change their action: 1..=10 000 per call, one
/// transaction. A word given twice (after folding) takes its last action.
///
/// - `400 invalid_request` for an empty or too long list, a word of more than 100 characters
///   or one without a letter or digit, or a list that would pass 100 000 words.
#[utoipa::path(put, path = "/v1/server/words", tag = "server",
    security(("serverToken" = [])), request_body = Vec<WordInput>,
    responses(
        (status = 200, body = WordsChangedDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn put(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(words): JsonBody<Vec<WordInput>>,
) -> Result<Json<WordsChangedDto>, ApiError> {
    let words = words
        .into_iter()
        .map(|w| (w.word, w.action.into()))
        .collect();
    Ok(Json(s.core.put_words(&app, words).await?.into()))
}

/// `DELETE /v1/server/words` — remove words (a JSON array of 1..=10 000 words, as stored or
/// in any spelling that folds to them); unlisted words are ignored.
#[utoipa::path(delete, path = "/v1/server/words", tag = "server",
    security(("serverToken" = [])), request_body = Vec<String>,
    responses(
        (status = 200, body = WordsChangedDto),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope)))]
pub(crate) async fn remove(
    State(s): State<AppState>,
    Backend(app): Backend,
    JsonBody(words): JsonBody<Vec<String>>,
) -> Result<Json<WordsChangedDto>, ApiError> {
    Ok(Json(s.core.remove_words(&app, words).await?.into()))
}
