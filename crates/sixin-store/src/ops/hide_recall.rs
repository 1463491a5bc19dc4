//! Delete-for-me (hide) and recall.

use super::prelude::*;

pub(crate) async fn hide_message(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<MessageUpdate> {
    let Some((conversation, sender, recalled)) = visible_message(ex, app, member, message).await?
    else {
        // Hiding an already-hidden message is not an error.
        let hidden = ex
            .opt(
                "SELECT h.message_id FROM message_hides h JOIN messages m ON m.id = h.message_id \
                 WHERE h.member_id = $1 AND h.message_id = $2 AND m.app_id = $3",
                params![member.0, message.0, app.0],
            )
            .await?;
        return match hidden {
            Some(_) => Ok(MessageUpdate {
                message: message_by_id(ex, message.0).await?,
                deliveries: Vec::new(),
            }),
            None => Err(StoreError::NotFound(Entity::Message)),
        };
    };
    let conv = ConversationId(conversation);
    let Some((last_read, _, before)) = membership(ex, app, member, conv, true).await? else {
        return Err(StoreError::NotFound(Entity::Message));
    };
    let unread = is_unread(ex, member, message.0, sender, recalled.is_some(), last_read).await?;
    ex.execute(
        "INSERT INTO message_hides (member_id, message_id, conversation_id) VALUES ($1, $2, $3)",
        params![member.0, message.0, conversation],
    )
    .await?;
    let mut change = Vec::new();
    if unread {
        let left = ex
            .one(
                "UPDATE conversation_members SET unread_count = \
                 CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END \
                 WHERE conversation_id = $1 AND member_id = $2 RETURNING unread_count",
                params![conversation, member.0],
            )
            .await?
            .i64("unread_count")?;
        change.push((member, left - before));
    }
    let event = EventKind::Hidden {
        conversation: conv,
        message,
    };
    let audience = rules::hidden_audience(member);
    let deliveries = append(ex, app, audience, &event, Unread::By(&change), now).await?;
    Ok(MessageUpdate {
        message: message_by_id(ex, message.0).await?,
        deliveries,
    })
}

pub(crate) async fn recall(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    message: MessageId,
    window: Duration,
    now: Timestamp,
) -> StoreResult<MessageUpdate> {
    let sql = format!(
        "SELECT conversation_id, sender_id, created_at, recalled_at FROM messages \
         WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    let row = ex.opt(&sql, params![message.0, app.0]).await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(Entity::Message));
    };
    let (conversation, author, sent_at, recalled_at) = (
        row.i64("conversation_id")?,
        MemberId(row.i64("sender_id")?),
        Timestamp(row.i64("created_at")?),
        row.opt_i64("recalled_at")?,
    );
    if author != sender && visible_message(ex, app, sender, message).await?.is_none() {
        return Err(StoreError::NotFound(Entity::Message));
    }
    let already = recalled_at.is_some() && author == sender;
    if !already {
        // The first recall: the core's rule decides on the row as it is now.
        rules::may_recall(sender, author, sent_at, now, window).map_err(StoreError::Refused)?;
        // Only counts above zero go down, so each member returned has one fewer unread.
        let lowered = ex
            .all(
                "UPDATE conversation_members SET unread_count = unread_count - 1 \
             WHERE conversation_id = $1 AND member_id <> $2 AND unread_count > 0 \
             AND last_read_id < $3 \
             AND visible_from < $3 \
             AND NOT EXISTS (SELECT 1 FROM message_reads r \
                WHERE r.member_id = conversation_members.member_id AND r.message_id = $3) \
             AND NOT EXISTS (SELECT 1 FROM message_hides h \
                WHERE h.member_id = conversation_members.member_id AND h.message_id = $3) \
             RETURNING member_id",
                params![conversation, sender.0, message.0],
            )
            .await?;
        let change = lowered
            .iter()
            .map(|r| Ok((MemberId(r.i64("member_id")?), -1)))
            .collect::<StoreResult<Vec<_>>>()?;
        ex.execute(
            "UPDATE messages SET data = '{}', recalled_at = $1 WHERE id = $2",
            params![now.0, message.0],
        )
        .await?;
        let recalled = message_by_id(ex, message.0).await?;
        let event = EventKind::Recalled {
            message: recalled.clone(),
        };
        let unread = Unread::By(&change);
        let deliveries = append(ex, app, rules::message_audience(), &event, unread, now).await?;
        return Ok(MessageUpdate {
            message: recalled,
            deliveries,
        });
    }
    Ok(MessageUpdate {
        message: message_by_id(ex, message.0).await?,
        deliveries: Vec::new(),
    })
}
