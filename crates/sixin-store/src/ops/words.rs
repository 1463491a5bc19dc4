//! An app's word list: pages, the whole list with its version, upserts and removals that raise
//! `apps.word_list_version` in the same transaction.

use super::prelude::*;

/// Rows per multi-row statement (4 parameters each: far below both backends' limits).
const BATCH: usize = 500;

pub(crate) async fn words_page(
    ex: &mut dyn Exec,
    app: AppId,
    after: Option<String>,
    limit: u32,
) -> StoreResult<Page<FilterWord>> {
    let rows = ex
        .all(
            "SELECT word, action, created_at FROM filter_words \
             WHERE app_id = $1 AND ($2 IS NULL OR word > $2) ORDER BY word LIMIT $3",
            params![app.0, after, i64::from(limit) + 1],
        )
        .await?;
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(|r| WordRow::from_row(r)?.into_word())
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page { items, has_more })
}

/// The version is read first: should a change commit between the two reads (a read is not one
/// transaction on every backend), the words are newer than the version, never older, and the
/// next request carrying the newer version builds again.
pub(crate) async fn word_list(ex: &mut dyn Exec, app: AppId) -> StoreResult<WordList> {
    let version = version(ex, app).await?;
    let rows = ex
        .all(
            "SELECT word, action FROM filter_words WHERE app_id = $1",
            params![app.0],
        )
        .await?;
    let words = rows
        .iter()
        .map(|r| Ok((r.text("word")?, word_action(&r.text("action")?)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(WordList { version, words })
}

async fn version(ex: &mut dyn Exec, app: AppId) -> StoreResult<i64> {
    let row = ex
        .opt(
            "SELECT word_list_version FROM apps WHERE id = $1",
            params![app.0],
        )
        .await?
        .ok_or(StoreError::NotFound(Entity::App))?;
    row.i64("word_list_version")
}

/// Raises the version (the app row's lock also queues concurrent changes on PostgreSQL).
async fn bump(ex: &mut dyn Exec, app: AppId) -> StoreResult<i64> {
    let row = ex
        .opt(
            "UPDATE apps SET word_list_version = word_list_version + 1 WHERE id = $1 \
             RETURNING word_list_version",
            params![app.0],
        )
        .await?
        .ok_or(StoreError::NotFound(Entity::App))?;
    row.i64("word_list_version")
}

pub(crate) async fn put_words(
    ex: &mut dyn Exec,
    app: AppId,
    words: Vec<(String, WordAction)>,
    now: Timestamp,
) -> StoreResult<WordsChanged> {
    let mut changed = 0;
    for batch in words.chunks(BATCH) {
        let rows: Vec<String> = (0..batch.len())
            .map(|i| format!("($1, $2, ${}, ${})", 3 + 2 * i, 4 + 2 * i))
            .collect();
        // Rows whose action is already the one given are left alone, and not counted.
        let sql = format!(
            "INSERT INTO filter_words (app_id, created_at, word, action) VALUES {} \
             ON CONFLICT (app_id, word) DO UPDATE SET action = excluded.action \
             WHERE filter_words.action <> excluded.action",
            rows.join(", ")
        );
        let mut args = vec![app.0.into(), now.0.into()];
        for (word, action) in batch {
            args.push(word.as_str().into());
            args.push(action.as_str().into());
        }
        changed += ex.execute(&sql, &args).await?;
    }
    let count = ex
        .one(
            "SELECT COUNT(*) AS n FROM filter_words WHERE app_id = $1",
            params![app.0],
        )
        .await?
        .i64("n")?;
    rules::word_list_fits(u64::try_from(count).unwrap_or(0)).map_err(StoreError::Refused)?;
    finish(ex, app, changed).await
}

pub(crate) async fn remove_words(
    ex: &mut dyn Exec,
    app: AppId,
    words: Vec<String>,
) -> StoreResult<WordsChanged> {
    let mut changed = 0;
    for batch in words.chunks(BATCH) {
        let marks: Vec<String> = (0..batch.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "DELETE FROM filter_words WHERE app_id = $1 AND word IN ({})",
            marks.join(", ")
        );
        let mut args = vec![app.0.into()];
        args.extend(batch.iter().map(|w| w.as_str().into()));
        changed += ex.execute(&sql, &args).await?;
    }
    finish(ex, app, changed).await
}

/// The outcome of a change: the version raised if anything changed.
async fn finish(ex: &mut dyn Exec, app: AppId, changed: u64) -> StoreResult<WordsChanged> {
    let version = if changed > 0 {
        bump(ex, app).await?
    } else {
        version(ex, app).await?
    };
    Ok(WordsChanged { changed, version })
}
