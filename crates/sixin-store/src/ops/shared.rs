//! Helpers every capability's transactions share: conversation and membership rows, locks, visibility.

use super::prelude::*;

pub(super) fn direct_key(a: MemberId, b: MemberId) -> String {
    format!("{}:{}", a.0.min(b.0), a.0.max(b.0))
}

pub(super) async fn conversation_row(
    ex: &mut dyn Exec,
    id: ConversationId,
) -> StoreResult<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
    let row = ex.one(&sql, params![id.0]).await?;
    ConversationRow::from_row(&row)?.into_conversation()
}

pub(super) async fn audience(ex: &mut dyn Exec, id: ConversationId) -> StoreResult<Vec<MemberId>> {
    let rows = ex
        .all(
            "SELECT member_id FROM conversation_members WHERE conversation_id = $1 \
             ORDER BY member_id",
            params![id.0],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(MemberId(r.i64("member_id")?)))
        .collect()
}

pub(super) async fn message_by_id(ex: &mut dyn Exec, id: i64) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
    let row = ex.one(&sql, params![id]).await?;
    MessageRow::from_row(&row)?.into_message()
}

/// Locks the conversation (in the app) and returns its kind and last message id.
pub(super) async fn lock_conversation(
    ex: &mut dyn Exec,
    app: AppId,
    id: ConversationId,
) -> StoreResult<Option<(ConversationKind, i64)>> {
    let sql = format!(
        "SELECT kind, last_message_id FROM conversations WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    let row = ex.opt(&sql, params![id.0, app.0]).await?;
    row.map(|r| {
        let kind = r.text("kind")?;
        let kind = ConversationKind::parse(&kind).ok_or_else(|| {
            StoreError::Other(format!("corrupt conversation kind `{kind}`").into())
        })?;
        Ok((kind, r.i64("last_message_id")?))
    })
    .transpose()
}

pub(super) async fn role_of(
    ex: &mut dyn Exec,
    id: ConversationId,
    member: MemberId,
) -> StoreResult<Option<Role>> {
    let row = ex
        .opt(
            "SELECT role FROM conversation_members WHERE conversation_id = $1 AND member_id = $2",
            params![id.0, member.0],
        )
        .await?;
    row.map(|r| role(&r.text("role")?)).transpose()
}

pub(super) fn role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Other(format!("corrupt role `{s}`").into()))
}

/// The viewer's membership: (last_read_id, visible_from, unread_count).
pub(super) async fn membership(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    conversation: ConversationId,
    lock: bool,
) -> StoreResult<Option<(i64, i64, i64)>> {
    let sql = format!(
        "SELECT last_read_id, visible_from, unread_count FROM conversation_members \
         WHERE conversation_id = $1 AND member_id = $2 AND app_id = $3{}",
        if lock { ex.lock() } else { "" }
    );
    let row = ex
        .opt(&sql, params![conversation.0, member.0, app.0])
        .await?;
    row.map(|r| {
        Ok((
            r.i64("last_read_id")?,
            r.i64("visible_from")?,
            r.i64("unread_count")?,
        ))
    })
    .transpose()
}

/// A message `member` can see, locked for share: (conversation, sender, recalled).
pub(super) async fn visible_message(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    message: MessageId,
) -> StoreResult<Option<(i64, i64, Option<i64>)>> {
    let sql = format!(
        "SELECT m.conversation_id, m.sender_id, m.recalled_at FROM messages m \
         JOIN conversation_members v ON v.conversation_id = m.conversation_id \
         AND v.member_id = $1 WHERE m.id = $2 AND m.app_id = $3 AND m.id > v.visible_from \
         AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.member_id = $1 \
         AND h.message_id = m.id){}",
        ex.share()
    );
    let row = ex.opt(&sql, params![member.0, message.0, app.0]).await?;
    row.map(|r| {
        Ok((
            r.i64("conversation_id")?,
            r.i64("sender_id")?,
            r.opt_i64("recalled_at")?,
        ))
    })
    .transpose()
}

/// Whether `member` currently counts `message` as unread.
pub(super) async fn is_unread(
    ex: &mut dyn Exec,
    member: MemberId,
    message: i64,
    sender: i64,
    recalled: bool,
    last_read_id: i64,
) -> StoreResult<bool> {
    if sender == member.0 || recalled || message <= last_read_id {
        return Ok(false);
    }
    let row = ex
        .opt(
            "SELECT message_id FROM message_reads WHERE member_id = $1 AND message_id = $2 \
             UNION ALL \
             SELECT message_id FROM message_hides WHERE member_id = $1 AND message_id = $2",
            params![member.0, message],
        )
        .await?;
    Ok(row.is_none())
}

pub(super) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
