//! History pages and the direct-conversation lookup.

use super::prelude::*;

pub(crate) async fn history(
    ex: &mut dyn Exec,
    app: AppId,
    viewer: MemberId,
    conversation: ConversationId,
    window: HistoryWindow,
    limit: u32,
) -> StoreResult<Option<Page<HistoryItem>>> {
    if membership(ex, app, viewer, conversation, false)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let fetch = i64::from(limit) + 1;
    let base = format!("{ITEM_SELECT} AND m.conversation_id = $2");
    let (sql, anchor, descending) = match window {
        HistoryWindow::Latest => (
            format!("{base} AND m.id > $3 ORDER BY m.id DESC LIMIT $4"),
            0,
            true,
        ),
        HistoryWindow::Before(id) => (
            format!("{base} AND m.id < $3 ORDER BY m.id DESC LIMIT $4"),
            id.0,
            true,
        ),
        HistoryWindow::After(id) => (
            format!("{base} AND m.id > $3 ORDER BY m.id ASC LIMIT $4"),
            id.0,
            false,
        ),
        HistoryWindow::Offset { skip, newest_first } => {
            let order = if newest_first { "DESC" } else { "ASC" };
            let sql = format!("{base} ORDER BY m.id {order} LIMIT $4 OFFSET $3");
            (sql, i64::from(skip), newest_first)
        }
    };
    let rows = ex
        .all(&sql, params![viewer.0, conversation.0, anchor, fetch])
        .await?;
    let mut rows = rows
        .iter()
        .map(MessageRow::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let has_more = rows.len() as i64 > i64::from(limit);
    rows.truncate(limit as usize);
    if descending {
        rows.reverse();
    }
    let items = rows
        .into_iter()
        .map(MessageRow::into_item)
        .collect::<StoreResult<_>>()?;
    Ok(Some(Page { items, has_more }))
}

pub(crate) async fn direct_conversation(
    ex: &mut dyn Exec,
    app: AppId,
    a: MemberId,
    b: MemberId,
) -> StoreResult<Option<ConversationId>> {
    let row = ex
        .opt(
            "SELECT id FROM conversations WHERE app_id = $1 AND direct_key = $2",
            params![app.0, direct_key(a, b)],
        )
        .await?;
    row.map(|r| Ok(ConversationId(r.i64("id")?))).transpose()
}
