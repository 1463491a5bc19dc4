//! Read state: mark one or all read (with the read event), and unread counters.

use super::prelude::*;

pub(crate) async fn mark_read(
    ex: &mut dyn Exec,
    app: AppId,
    reader: MemberId,
    conversation: ConversationId,
    target: ReadTarget,
    now: Timestamp,
) -> StoreResult<ReadOutcome> {
    let message = match target {
        ReadTarget::All => None,
        ReadTarget::One(id) => match visible_message(ex, app, reader, id).await? {
            Some(m) if m.0 == conversation.0 => Some((id, m)),
            _ => {
                let member = membership(ex, app, reader, conversation, false).await?;
                return Err(match member {
                    None => StoreError::Refused(Refusal::NotMember),
                    Some(_) => StoreError::NotFound(Entity::Message),
                });
            }
        },
    };
    let Some((last_read, _, unread)) = membership(ex, app, reader, conversation, true).await?
    else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let Some((id, (_, sender, recalled))) = message else {
        return mark_all_read(ex, app, reader, conversation, count(unread), now).await;
    };
    let last_read = MessageId(last_read);
    if !is_unread(ex, reader, id.0, sender, recalled.is_some(), last_read.0).await? {
        return Ok(ReadOutcome {
            marked: 0,
            unread: count(unread),
            last_read,
            deliveries: Vec::new(),
        });
    }
    ex.execute(
        "INSERT INTO message_reads (member_id, message_id, conversation_id) VALUES ($1, $2, $3)",
        params![reader.0, id.0, conversation.0],
    )
    .await?;
    let left = lower_unread(ex, conversation.0, reader, now).await?;
    let read = (last_read, Some(id));
    let by = left - unread;
    let deliveries = read_event(ex, app, reader, conversation, read, by, now).await?;
    Ok(ReadOutcome {
        marked: 1,
        unread: count(left),
        last_read,
        deliveries,
    })
}

/// Marks the whole conversation read (`unread` messages were unread); the read event only
/// when something changed.
async fn mark_all_read(
    ex: &mut dyn Exec,
    app: AppId,
    reader: MemberId,
    conversation: ConversationId,
    unread: u32,
    now: Timestamp,
) -> StoreResult<ReadOutcome> {
    let row = ex
        .one(
            "UPDATE conversation_members SET unread_count = 0, read_updated_at = $1, \
             last_read_id = (SELECT last_message_id FROM conversations WHERE id = $2) \
             WHERE conversation_id = $2 AND member_id = $3 RETURNING last_read_id",
            params![now.0, conversation.0, reader.0],
        )
        .await?;
    let last_read = MessageId(row.i64("last_read_id")?);
    ex.execute(
        "DELETE FROM message_reads WHERE member_id = $1 AND conversation_id = $2",
        params![reader.0, conversation.0],
    )
    .await?;
    let deliveries = if unread > 0 {
        let by = -i64::from(unread);
        read_event(ex, app, reader, conversation, (last_read, None), by, now).await?
    } else {
        Vec::new()
    };
    Ok(ReadOutcome {
        marked: unread,
        unread: 0,
        last_read,
        deliveries,
    })
}

async fn lower_unread(
    ex: &mut dyn Exec,
    conversation: i64,
    member: MemberId,
    now: Timestamp,
) -> StoreResult<i64> {
    let row = ex
        .one(
            "UPDATE conversation_members SET \
             unread_count = CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END, \
             read_updated_at = $1 WHERE conversation_id = $2 AND member_id = $3 \
             RETURNING unread_count",
            params![now.0, conversation, member.0],
        )
        .await?;
    row.i64("unread_count")
}

/// Tells the reader's other devices, and in a direct conversation the peer, what was read:
/// `read` is (everything up to here, the one message read if it was one); `by` is how the
/// reader's unread total changed.
async fn read_event(
    ex: &mut dyn Exec,
    app: AppId,
    reader: MemberId,
    conversation: ConversationId,
    (last_read, message): (MessageId, Option<MessageId>),
    by: i64,
    now: Timestamp,
) -> StoreResult<Vec<Delivery>> {
    let kind = conversation_row(ex, conversation).await?.kind;
    let members = audience(ex, conversation).await?;
    let reader_uuid = ex
        .one("SELECT uuid FROM members WHERE id = $1", params![reader.0])
        .await?
        .text("uuid")?;
    let event = EventKind::Read {
        conversation,
        reader: MemberUuid::parse(&reader_uuid)
            .ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?,
        last_read,
        message,
    };
    let audience = rules::read_audience(kind, reader, &members);
    let change = [(reader, by)];
    append(ex, app, audience, &event, Unread::By(&change), now).await
}

/// The member's unread total, kept in their stream row: one row, however many conversations.
pub(crate) async fn unread_total(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
) -> StoreResult<u64> {
    let row = ex
        .opt(
            "SELECT ms.unread_total FROM member_streams ms JOIN members m ON m.id = ms.member_id \
             WHERE ms.member_id = $1 AND m.app_id = $2",
            params![member.0, app.0],
        )
        .await?;
    Ok(match row {
        Some(r) => u64::try_from(r.i64("unread_total")?).unwrap_or(0),
        None => 0,
    })
}

/// The member's unread total and one page of their conversations with unread messages, by
/// conversation id: one statement (so one snapshot), one index range from the cursor.
pub(crate) async fn unread(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    query: UnreadQuery,
) -> StoreResult<UnreadCounts> {
    // The limit is written into the statement (a number, no injection), as the conversation
    // list's is: a generic plan that does not know the page is small may read every unread
    // membership and sort them.
    let sql = format!(
        "SELECT ms.unread_total, u.conversation_id, u.unread_count FROM member_streams ms \
         JOIN members m ON m.id = ms.member_id AND m.app_id = $2 \
         LEFT JOIN (SELECT conversation_id, unread_count FROM conversation_members \
            WHERE member_id = $1 AND app_id = $2 AND unread_count > 0 \
            AND conversation_id > $3 ORDER BY conversation_id LIMIT {}) u ON 1 = 1 \
         WHERE ms.member_id = $1 ORDER BY u.conversation_id",
        i64::from(query.limit) + 1
    );
    let rows = ex
        .all(
            &sql,
            params![member.0, app.0, query.after.map_or(0, |c| c.0)],
        )
        .await?;
    let total = match rows.first() {
        Some(r) => u64::try_from(r.i64("unread_total")?).unwrap_or(0),
        None => 0,
    };
    let mut conversations = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(id) = r.opt_i64("conversation_id")? {
            conversations.push((ConversationId(id), count(r.i64("unread_count")?)));
        }
    }
    let has_more = conversations.len() > query.limit as usize;
    conversations.truncate(query.limit as usize);
    Ok(UnreadCounts {
        total,
        conversations,
        has_more,
    })
}

/// The member's unread count in one conversation; `None` when they are not a member.
pub(crate) async fn unread_in(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    conversation: ConversationId,
) -> StoreResult<Option<u32>> {
    let row = membership(ex, app, member, conversation, false).await?;
    Ok(row.map(|(_, _, unread)| count(unread)))
}
