//! History pages and the direct-conversation lookup.

use super::prelude::*;

/// A history page. The page's ids are picked first, from `messages_conversation` alone,
/// between two `(conversation_id, id)` row bounds ([`PAGE`]); then their senders and read
/// flags are joined. An equality on `conversation_id` would let PostgreSQL's generic plan (the
/// one a prepared statement settles on) walk the primary key down instead, through every newer
/// message of every other conversation: half a second for the newest page of a small
/// conversation next to one of 1,000,000 messages. The bounds also carry `visible_from`, so the
/// page costs the same however long the conversation is.
pub(crate) async fn history(
    ex: &mut dyn Exec,
    app: AppId,
    viewer: MemberId,
    conversation: ConversationId,
    window: HistoryWindow,
    limit: u32,
) -> StoreResult<Option<Page<HistoryItem>>> {
    let Some((_, visible_from, _)) = membership(ex, app, viewer, conversation, false).await? else {
        return Ok(None);
    };
    let fetch = i64::from(limit) + 1;
    // (above, below, newest first, skip): ids strictly between `above` and `below`.
    let (above, below, descending, skip) = match window {
        HistoryWindow::Latest => (visible_from, i64::MAX, true, 0),
        HistoryWindow::Before(id) => (visible_from, id.0, true, 0),
        HistoryWindow::After(id) => (visible_from.max(id.0), i64::MAX, false, 0),
        HistoryWindow::Offset { skip, newest_first } => {
            (visible_from, i64::MAX, newest_first, i64::from(skip))
        }
    };
    let order = if descending { "DESC" } else { "ASC" };
    let sql = format!(
        "{ITEM_COLUMNS} FROM ({PAGE} ORDER BY x.conversation_id {order}, x.id {order} \
         LIMIT $5 OFFSET $6) m JOIN members s ON s.id = m.sender_id \
         JOIN conversation_members v ON v.conversation_id = m.conversation_id \
         AND v.member_id = $1 ORDER BY m.id {order}"
    );
    let rows = ex
        .all(
            &sql,
            params![viewer.0, conversation.0, above, below, fetch, skip],
        )
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

/// The messages of conversation `$2` with ids strictly between `$3` and `$4` that viewer `$1`
/// has not hidden, as `x`; the caller appends the order and window.
const PAGE: &str = "SELECT x.* FROM messages x \
    WHERE (x.conversation_id, x.id) > ($2, $3) AND (x.conversation_id, x.id) < ($2, $4) \
    AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.member_id = $1 AND h.message_id = x.id)";

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
