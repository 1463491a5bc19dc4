//! Per-member event streams: [`append`] adds one event to the stream of every member it
//! concerns, inside the caller's transaction, and [`events_since`] reads a stream back.
//!
//! Positions are gapless per member and commit in order on both backends: the stream rows are
//! locked (PostgreSQL) in member-id order, after every conversation and membership row the
//! transaction touches, so two transactions can neither interleave positions nor deadlock.

use std::collections::HashMap;

use serde_json::Value;
use sixin_core::bus::{EventKind, MemberEvent};
use sixin_core::ids::{AppId, ConversationId, MemberId, MessageId, Position, Timestamp};
use sixin_core::model::{Delivery, Message};
use sixin_core::rules::Audience;
use sixin_core::store::{Events, StoreError, StoreResult};

use crate::exec::{params, Exec, Param, Row};
use crate::rows::{MessageRow, MESSAGE_SELECT};

/// A `member_id IN (…)` filter for `audience` whose parameters start at `$1` (for
/// [`Audience::EveryMember`], the members of `conversation`), and those parameters.
fn filter(audience: &Audience, conversation: ConversationId) -> (String, Vec<Param>) {
    match audience {
        Audience::EveryMember => (
            "member_id IN (SELECT member_id FROM conversation_members \
             WHERE conversation_id = $1)"
                .to_owned(),
            vec![Param::Int(conversation.0)],
        ),
        Audience::These(ids) => members_filter(ids),
    }
}

fn members_filter(ids: &[MemberId]) -> (String, Vec<Param>) {
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let filter = format!("member_id IN ({})", marks.join(", "));
    (filter, ids.iter().map(|m| Param::Int(m.0)).collect())
}

/// Locks the stream rows of `members` in id order (PostgreSQL; a no-op under SQLite's single
/// writer). Call it before appending several events in one transaction.
pub(crate) async fn lock_streams(ex: &mut dyn Exec, members: &[MemberId]) -> StoreResult<()> {
    if ex.lock().is_empty() || members.is_empty() {
        return Ok(());
    }
    let (filter, p) = members_filter(members);
    let sql = format!(
        "SELECT member_id FROM member_streams WHERE {filter} ORDER BY member_id{}",
        ex.lock()
    );
    ex.all(&sql, &p).await?;
    Ok(())
}

/// How a write changed the unread totals (`member_streams.unread_total`, always the sum of the
/// member's `conversation_members.unread_count`) of the members its event reaches. [`append`]
/// applies it to the stream rows it has just locked, so the totals take no lock of their own.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unread<'a> {
    /// A new message: one more for every member of the conversation but its sender.
    Message(MemberId),
    /// These members' totals change by these amounts (none: no count changed); each of them is
    /// in the audience.
    By(&'a [(MemberId, i64)]),
}

/// Appends `event` to the stream of each member of `audience` (decided by the core's
/// [`rules`](sixin_core::rules)), applies `unread` to their totals, and records the event in the
/// webhook outbox; their deliveries by member id, each with the member's total after the write.
///
/// On PostgreSQL the stream rows are locked in member-id order, bumped and the events inserted
/// by one statement; on SQLite (one writer, nothing to lock) an update and an insert.
pub(crate) async fn append(
    ex: &mut dyn Exec,
    app: AppId,
    audience: Audience,
    kind: &EventKind,
    unread: Unread<'_>,
    now: Timestamp,
) -> StoreResult<Vec<Delivery>> {
    let event = kind.record();
    let (filter, mut p) = filter(&audience, event.conversation);
    let n = p.len();
    let columns = "(member_id, position, app_id, kind, conversation_id, message_id, data, \
                   unread_total, created_at)";
    let values = format!(
        "${a}, ${k}, ${c}, ${m}, ${d}",
        a = n + 1,
        k = n + 2,
        c = n + 3,
        m = n + 4,
        d = n + 5
    );
    p.extend([
        Param::Int(app.0),
        Param::from(event.name),
        Param::Int(event.conversation.0),
        Param::OptInt(event.message.map(|m| m.0)),
        Param::Text(event.data.to_string()),
        Param::Int(now.0),
    ]);
    let t = n + 6;
    let (totals, more) = totals(unread, p.len());
    p.extend(more);
    let rows = if ex.writing_ctes() {
        let sql = format!(
            "WITH locked AS (SELECT member_id FROM member_streams WHERE {filter} \
             ORDER BY member_id{lock}), \
             bumped AS (UPDATE member_streams ms SET last_position = ms.last_position + 1{totals} \
             FROM locked WHERE ms.member_id = locked.member_id \
             RETURNING ms.member_id, ms.last_position, ms.unread_total) \
             INSERT INTO events {columns} SELECT member_id, last_position, {values}, \
             unread_total, ${t} FROM bumped RETURNING member_id, position, unread_total",
            lock = ex.lock(),
        );
        ex.all(&sql, &p).await?
    } else {
        let sql = format!(
            "UPDATE member_streams AS ms SET last_position = last_position + 1{totals} \
             WHERE {filter}"
        );
        ex.execute(&sql, &p).await?;
        let sql = format!(
            "INSERT INTO events {columns} SELECT ms.member_id, ms.last_position, {values}, \
             ms.unread_total, ${t} FROM member_streams ms WHERE ms.{filter} \
             RETURNING member_id, position, unread_total"
        );
        ex.all(&sql, &p).await?
    };
    let out = deliveries(&rows)?;
    super::outbox::record_event(ex, app, kind, &out, now).await?;
    Ok(out)
}

/// The `, unread_total = …` assignment that applies `unread` to stream rows named `ms`, whose
/// parameters start after the first `before`, and those parameters.
fn totals(unread: Unread<'_>, before: usize) -> (String, Vec<Param>) {
    match unread {
        Unread::Message(sender) => (
            format!(
                ", unread_total = ms.unread_total + \
                 CASE WHEN ms.member_id = ${} THEN 0 ELSE 1 END",
                before + 1
            ),
            vec![Param::Int(sender.0)],
        ),
        Unread::By(changes) => {
            let mut arms = String::new();
            let mut p = Vec::new();
            for (member, by) in changes.iter().filter(|(_, by)| *by != 0) {
                let i = before + p.len();
                arms.push_str(&format!(" WHEN ${} THEN ${}", i + 1, i + 2));
                p.extend([Param::Int(member.0), Param::Int(*by)]);
            }
            if arms.is_empty() {
                (String::new(), p)
            } else {
                let sql = format!(
                    ", unread_total = ms.unread_total + CASE ms.member_id{arms} ELSE 0 END"
                );
                (sql, p)
            }
        }
    }
}

/// Deliveries from rows with `member_id`, `position` and `unread_total`, sorted by member id.
pub(crate) fn deliveries(rows: &[Row]) -> StoreResult<Vec<Delivery>> {
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(Delivery {
                member: MemberId(r.i64("member_id")?),
                position: Position(r.i64("position")?),
                unread_total: u64::try_from(r.i64("unread_total")?).unwrap_or(0),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by_key(|d| d.member);
    Ok(out)
}

/// Sets the unread totals of `members` back to the sum of their conversations' counts, after a
/// write that changed those counts in bulk without telling them (erasing a member). Locks
/// their stream rows in id order first (PostgreSQL), as [`append`] does.
pub(crate) async fn recount_unread(ex: &mut dyn Exec, members: &[MemberId]) -> StoreResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    lock_streams(ex, members).await?;
    let (filter, p) = members_filter(members);
    let sql = format!(
        "UPDATE member_streams SET unread_total = (SELECT COALESCE(SUM(cm.unread_count), 0) \
         FROM conversation_members cm WHERE cm.member_id = member_streams.member_id) \
         WHERE {filter}"
    );
    ex.execute(&sql, &p).await?;
    Ok(())
}

/// `member`'s events after `after`, oldest first, at most `limit`.
pub(crate) async fn events_since(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    after: Position,
    limit: u32,
) -> StoreResult<Events> {
    let latest = ex
        .opt(
            "SELECT ms.last_position FROM member_streams ms JOIN members m ON m.id = ms.member_id \
             WHERE ms.member_id = $1 AND m.app_id = $2",
            params![member.0, app.0],
        )
        .await?;
    let Some(latest) = latest else {
        return Ok(Events::Resync {
            latest: Position(0),
        });
    };
    let latest = Position(latest.i64("last_position")?);
    if after.0 < 0 || after > latest {
        return Ok(Events::Resync { latest });
    }
    let rows = ex
        .all(
            "SELECT position, kind, conversation_id, message_id, data, unread_total, created_at \
             FROM events WHERE member_id = $1 AND app_id = $2 AND position > $3 \
             ORDER BY position LIMIT $4",
            params![member.0, app.0, after.0, i64::from(limit)],
        )
        .await?;
    let first = rows.first().map(|r| r.i64("position")).transpose()?;
    let continues = match first {
        Some(p) => p == after.0 + 1,
        // Nothing after `after`: fine when the stream ends there (or only the latest position
        // was asked for), not when later events exist but were not found.
        None => limit == 0 || after == latest,
    };
    if !continues {
        // Events after `after` are no longer kept: the stream cannot continue from `after`.
        return Ok(Events::Resync { latest });
    }
    let wanted: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.opt_i64("message_id").transpose())
        .collect::<StoreResult<_>>()?;
    let messages = messages_by_id(ex, &wanted).await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        let message_id = r.opt_i64("message_id")?.map(MessageId);
        let data: Value = serde_json::from_str(&r.text("data")?)
            .map_err(|_| StoreError::Other("corrupt data in the event log".into()))?;
        let message = message_id.and_then(|id| messages.get(&id.0).cloned());
        let conversation = ConversationId(r.i64("conversation_id")?);
        let kind =
            EventKind::from_record(&r.text("kind")?, conversation, message_id, &data, message)
                .map_err(|e| StoreError::Other(e.into()))?;
        events.push(MemberEvent {
            position: Position(r.i64("position")?),
            unread_total: u64::try_from(r.i64("unread_total")?).unwrap_or(0),
            created_at: Timestamp(r.i64("created_at")?),
            kind,
        });
    }
    Ok(Events::Page { events, latest })
}

async fn messages_by_id(ex: &mut dyn Exec, ids: &[i64]) -> StoreResult<HashMap<i64, Message>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("{MESSAGE_SELECT} WHERE m.id IN ({})", marks.join(", "));
    let p: Vec<Param> = ids.iter().map(|i| Param::Int(*i)).collect();
    let rows = ex.all(&sql, &p).await?;
    rows.iter()
        .map(|r| {
            let m = MessageRow::from_row(r)?.into_message()?;
            Ok((m.id.0, m))
        })
        .collect()
}
