//! Sending: one message (a direct conversation is created on first use), and multi-send in one transaction.
//!
//! Message ids are drawn only after the conversation's row lock, so within a conversation they
//! grow in commit order and paging by id can never skip a message.

use super::blocks;
use super::prelude::*;
use sixin_core::rules::Audience;

use super::outbox::WANTED;
use crate::exec::Row;

pub(crate) async fn send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Sent> {
    let new = match prepare(ex, app, sender, to, content, checks).await? {
        Prepared::Retry(original) => return Ok(*original),
        Prepared::New(new) => new,
    };
    if ex.writing_ctes() && matches!(rules::message_audience(), Audience::EveryMember) {
        return write_in_one(ex, app, new, content).await;
    }
    let mut sent = insert_message(ex, app, new, content).await?;
    append_sent(ex, app, &mut sent).await?;
    Ok(sent)
}

/// Appends a newly committed message to the stream of every member of its conversation (a
/// retry that returned the original appends nothing).
async fn append_sent(ex: &mut dyn Exec, app: AppId, sent: &mut Sent) -> StoreResult<()> {
    if sent.created {
        let event = EventKind::Message {
            message: sent.message.clone(),
        };
        let at = sent.message.created_at;
        let unread = Unread::Message(sent.message.sender);
        sent.deliveries = append(ex, app, rules::message_audience(), &event, unread, at).await?;
    }
    Ok(())
}

/// A message about to be written: its conversation (locked) and its sender, a member of it.
struct NewMessage {
    conversation: ConversationId,
    sender: MemberId,
    sender_uuid: MemberUuid,
    sender_username: String,
}

impl NewMessage {
    fn message(self, id: MessageId, content: &NewContent) -> Message {
        Message {
            id,
            conversation: self.conversation,
            sender: self.sender,
            sender_uuid: self.sender_uuid,
            sender_username: self.sender_username,
            kind: content.kind,
            data: content.data.clone(),
            ext_data: content.ext_data.clone(),
            client_msg_id: content.client_msg_id.clone(),
            created_at: content.created_at,
            recalled_at: None,
        }
    }
}

enum Prepared {
    /// A retry (same sender, conversation and `client_msg_id`): the original, unchanged.
    Retry(Box<Sent>),
    New(NewMessage),
}

/// Locks the target conversation and holds the send to every check. Every refusal comes
/// before the first write, so a refused send has written nothing.
async fn prepare(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Prepared> {
    let (conversation, seen) =
        locked_target(ex, app, sender, to, content.created_at, checks).await?;
    let me = match seen {
        Some(me) => me,
        None => sender_in(ex, conversation, sender).await?,
    };
    let Some((sender_uuid, sender_username)) = me else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    if let Some(original) = retry_of(ex, sender, conversation, content).await? {
        return Ok(Prepared::Retry(Box::new(original)));
    }
    Ok(Prepared::New(NewMessage {
        conversation,
        sender,
        sender_uuid,
        sender_username,
    }))
}

/// Commits one message without its events (the caller appends them): [`prepare`], then
/// [`insert_message`].
async fn send_in(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Sent> {
    match prepare(ex, app, sender, to, content, checks).await? {
        Prepared::Retry(original) => Ok(*original),
        Prepared::New(new) => insert_message(ex, app, new, content).await,
    }
}

/// The sender as a member of the conversation: `None` when they are not one.
type SenderIn = Option<(MemberUuid, String)>;

/// Columns `sender_uuid` and `sender_username` for a statement on `conversations`: the member
/// whose id is parameter `$sender`, when they belong to the conversation (else NULL). Scalar
/// subqueries, so a locking clause on the statement locks only the conversation row.
fn sender_cols(sender: usize) -> String {
    let of = |col: &str| {
        format!(
            "(SELECT m.{col} FROM conversation_members cm JOIN members m ON m.id = cm.member_id \
             WHERE cm.conversation_id = conversations.id AND cm.member_id = ${sender}) \
             AS sender_{col}"
        )
    };
    format!("{}, {}", of("uuid"), of("username"))
}

/// The sender as [`sender_cols`] read them.
fn sender_from(row: &Row) -> StoreResult<SenderIn> {
    let (Some(uuid), Some(username)) = (
        row.opt_text("sender_uuid")?,
        row.opt_text("sender_username")?,
    ) else {
        return Ok(None);
    };
    let uuid =
        MemberUuid::parse(&uuid).ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?;
    Ok(Some((uuid, username)))
}

/// The conversation a message goes to, locked, and held to `checks`, with the sender as the
/// look-up saw them when it could read that too (`None`: not read). Message ids are drawn
/// only after this lock, so within a conversation they grow in commit order and paging by id
/// can never skip a message.
async fn locked_target(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    now: Timestamp,
    checks: SendChecks,
) -> StoreResult<(ConversationId, Option<SenderIn>)> {
    let id = match to {
        // Found (or created) and locked in one go.
        SendTarget::Direct(peer) => {
            return direct_for_send(ex, app, sender, peer, now, checks).await
        }
        SendTarget::Conversation(id) => id,
    };
    let sql = format!(
        "SELECT kind, {} FROM conversations WHERE id = $1 AND app_id = $2{}",
        sender_cols(3),
        ex.lock()
    );
    let Some(row) = ex.opt(&sql, params![id.0, app.0, sender.0]).await? else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let me = sender_from(&row)?;
    if me.is_some() && row.text("kind")? == ConversationKind::Direct.as_str() {
        let (peer, blocked) = direct_peer(ex, id, sender).await?;
        rules::may_write_to(peer.as_deref()).map_err(StoreError::Refused)?;
        rules::may_continue_direct(blocked, checks).map_err(StoreError::Refused)?;
    }
    Ok((id, Some(me)))
}

/// The other member of a direct conversation: their external id (for
/// [`rules::may_write_to`]) and whether they block the sender (for
/// [`rules::may_continue_direct`]); nothing when the sender is not a member (the membership
/// check that follows refuses that).
async fn direct_peer(
    ex: &mut dyn Exec,
    conversation: ConversationId,
    sender: MemberId,
) -> StoreResult<(Option<String>, bool)> {
    let row = ex
        .opt(
            "SELECT m.external_id, EXISTS (SELECT 1 FROM blocks b \
             WHERE b.blocker_id = m.id AND b.blocked_id = $2) AS blocked \
             FROM conversation_members cm JOIN members m ON m.id = cm.member_id \
             WHERE cm.conversation_id = $1 AND cm.member_id <> $2",
            params![conversation.0, sender.0],
        )
        .await?;
    match row {
        Some(r) => Ok((r.opt_text("external_id")?, r.bool("blocked")?)),
        None => Ok((None, false)),
    }
}

/// The sender's uuid and username if they are a member of the conversation at commit time.
async fn sender_in(
    ex: &mut dyn Exec,
    conversation: ConversationId,
    sender: MemberId,
) -> StoreResult<SenderIn> {
    let sql = format!("SELECT {} FROM conversations WHERE id = $1", sender_cols(2));
    let row = ex.one(&sql, params![conversation.0, sender.0]).await?;
    sender_from(&row)
}

/// The original of a retried send (same sender, conversation and `client_msg_id`), unchanged.
async fn retry_of(
    ex: &mut dyn Exec,
    sender: MemberId,
    conversation: ConversationId,
    content: &NewContent,
) -> StoreResult<Option<Sent>> {
    let Some(key) = &content.client_msg_id else {
        return Ok(None);
    };
    let sql = format!(
        "{MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.conversation_id = $2 \
         AND m.client_msg_id = $3"
    );
    let Some(row) = ex.opt(&sql, params![sender.0, conversation.0, key]).await? else {
        return Ok(None);
    };
    Ok(Some(Sent {
        message: MessageRow::from_row(&row)?.into_message()?,
        conversation: conversation_row(ex, conversation).await?,
        created: false,
        deliveries: Vec::new(),
    }))
}

/// [`insert_message`] and the append of its event to every member's stream (with the webhook
/// outbox's check for an enabled endpoint) as one statement of data-modifying `WITH` queries,
/// so these writes take one round trip under the conversation's lock, not seven. The stream
/// rows are locked in member-id order after the membership rows, as [`append`] does.
async fn write_in_one(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewMessage,
    content: &NewContent,
) -> StoreResult<Sent> {
    let sql = format!(
        "WITH msg AS (INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, \
         ext_data, client_msg_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id), \
         conv AS (UPDATE conversations SET last_message_id = (SELECT id FROM msg), \
         last_activity_at = $8, message_count = message_count + 1 WHERE id = $2 \
         RETURNING {CONVERSATION_COLS}), \
         cms AS (UPDATE conversation_members SET last_activity_at = $8, \
         unread_count = unread_count + CASE WHEN member_id = $3 THEN 0 ELSE 1 END \
         WHERE conversation_id = $2 RETURNING member_id), \
         locked AS (SELECT member_id FROM member_streams \
         WHERE member_id IN (SELECT member_id FROM cms) ORDER BY member_id{lock}), \
         bumped AS (UPDATE member_streams ms SET last_position = ms.last_position + 1, \
         unread_total = ms.unread_total + CASE WHEN ms.member_id = $3 THEN 0 ELSE 1 END \
         FROM locked WHERE ms.member_id = locked.member_id \
         RETURNING ms.member_id, ms.last_position, ms.unread_total), \
         ev AS (INSERT INTO events (member_id, position, app_id, kind, conversation_id, \
         message_id, data, unread_total, created_at) \
         SELECT member_id, last_position, $1, $9, $2, (SELECT id FROM msg), $10, unread_total, \
         $8 FROM bumped RETURNING member_id, position, unread_total) \
         SELECT conv.*, (SELECT id FROM msg) AS message_id, ev.member_id, ev.position, \
         ev.unread_total, {WANTED} FROM conv CROSS JOIN ev",
        lock = ex.lock(),
    );
    let (conversation_id, sender) = (new.conversation, new.sender);
    // The event's name and data; its message id is the one the statement inserts.
    let event = EventKind::Message {
        message: new.message(MessageId(0), content),
    };
    let record = event.record();
    let rows = ex
        .all(
            &sql,
            params![
                app.0,
                conversation_id.0,
                sender.0,
                content.kind.as_str(),
                content.data.to_string(),
                &content.ext_data,
                &content.client_msg_id,
                content.created_at.0,
                record.name,
                record.data.to_string()
            ],
        )
        .await?;
    let first = rows
        .first()
        .ok_or_else(|| StoreError::Other("a send appended no event".into()))?;
    let id = MessageId(first.i64("message_id")?);
    let conversation = ConversationRow::from_row(first)?.into_conversation()?;
    let wanted = first.bool("wanted")?;
    let deliveries = super::events::deliveries(&rows)?;
    let EventKind::Message { mut message } = event else {
        return Err(StoreError::Other("a send's event is not a message".into()));
    };
    message.id = id;
    let sent = Sent {
        message,
        conversation,
        created: true,
        deliveries,
    };
    if wanted {
        let event = EventKind::Message {
            message: sent.message.clone(),
        };
        super::outbox::record_wanted_event(ex, app, &event, &sent.deliveries, content.created_at)
            .await?;
    }
    Ok(sent)
}

/// Inserts the message and updates the conversation's and its members' counters.
async fn insert_message(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewMessage,
    content: &NewContent,
) -> StoreResult<Sent> {
    let row = ex
        .one(
            "INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, ext_data, \
             client_msg_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            params![
                app.0,
                new.conversation.0,
                new.sender.0,
                content.kind.as_str(),
                content.data.to_string(),
                &content.ext_data,
                &content.client_msg_id,
                content.created_at.0
            ],
        )
        .await?;
    let id = row.i64("id")?;
    let sql = format!(
        "UPDATE conversations SET last_message_id = $1, last_activity_at = $2, \
         message_count = message_count + 1 WHERE id = $3 RETURNING {CONVERSATION_COLS}"
    );
    let row = ex
        .one(&sql, params![id, content.created_at.0, new.conversation.0])
        .await?;
    // The sender's own message is never unread for them.
    ex.execute(
        "UPDATE conversation_members SET last_activity_at = $1, \
         unread_count = unread_count + CASE WHEN member_id = $2 THEN 0 ELSE 1 END \
         WHERE conversation_id = $3",
        params![content.created_at.0, new.sender.0, new.conversation.0],
    )
    .await?;
    Ok(Sent {
        conversation: ConversationRow::from_row(&row)?.into_conversation()?,
        message: new.message(MessageId(id), content),
        created: true,
        deliveries: Vec::new(),
    })
}

/// The direct conversation of a pair, locked, created (with both memberships) on first use,
/// held to `checks`: [`rules::may_continue_direct`] when it exists, [`rules::may_open_direct`]
/// before it is created. The common case — the conversation exists — is one statement, which
/// also reads the block.
async fn direct_for_send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    peer: MemberId,
    now: Timestamp,
    checks: SendChecks,
) -> StoreResult<(ConversationId, Option<SenderIn>)> {
    let key = direct_key(sender, peer);
    let find = format!(
        "SELECT id, EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $3 AND blocked_id = $4) \
         AS blocked, {} FROM conversations WHERE app_id = $1 AND direct_key = $2{}",
        sender_cols(4),
        ex.lock()
    );
    let args = params![app.0, &key, peer.0, sender.0];
    let existing = |row: Row| -> StoreResult<(ConversationId, Option<SenderIn>)> {
        rules::may_continue_direct(row.bool("blocked")?, checks).map_err(StoreError::Refused)?;
        Ok((ConversationId(row.i64("id")?), Some(sender_from(&row)?)))
    };
    if let Some(row) = ex.opt(&find, args).await? {
        return existing(row);
    }
    if checks.new_direct_cap.is_some() {
        // Openings are counted exactly: the sender's transactions that may open one queue
        // here, and one that queued behind the opening of this very conversation finds it.
        blocks::lock_member(ex, sender).await?;
        if let Some(row) = ex.opt(&find, args).await? {
            return existing(row);
        }
    }
    if checks != SendChecks::NOTICE {
        let facts = blocks::direct_facts(ex, app, sender, peer, checks, now).await?;
        rules::may_open_direct(&facts, checks, now).map_err(StoreError::Refused)?;
    }
    let inserted = ex
        .opt(
            "INSERT INTO conversations \
             (app_id, kind, owner_id, direct_key, created_at, last_activity_at, member_count) \
             VALUES ($1, 'direct', $2, $3, $4, $4, 2) \
             ON CONFLICT (app_id, direct_key) DO NOTHING RETURNING id",
            params![app.0, sender.0, &key, now.0],
        )
        .await?;
    if let Some(row) = inserted {
        let id = row.i64("id")?;
        ex.execute(
            "INSERT INTO conversation_members (conversation_id, member_id, app_id, role, \
             joined_at, read_updated_at, last_activity_at) \
             VALUES ($1, $2, $3, $6, $4, $4, $4), ($1, $5, $3, $6, $4, $4, $4)",
            params![id, sender.0, app.0, now.0, peer.0, Role::Member.as_str()],
        )
        .await?;
        return Ok((ConversationId(id), None));
    }
    // A concurrent transaction (the peer's first send) created it between our look-up and
    // insert: it is committed now.
    existing(ex.one(&find, args).await?)
}

/// Each recipient's refusal is its own outcome (it wrote nothing: [`send_in`]); any other
/// failure fails the whole transaction.
pub(crate) async fn send_many(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    recipients: &[MemberId],
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Vec<Result<Sent, Refusal>>> {
    if checks.new_direct_cap.is_some() {
        // Before any conversation row: lock order (see `ops`).
        blocks::lock_member(ex, sender).await?;
    }
    let mut out = Vec::with_capacity(recipients.len());
    for peer in recipients {
        let to = SendTarget::Direct(*peer);
        out.push(match send_in(ex, app, sender, to, content, checks).await {
            Ok(sent) => Ok(sent),
            Err(StoreError::Refused(refusal)) => Err(refusal),
            Err(e) => return Err(e),
        });
    }
    // Every conversation is locked by now; the streams come last, all in one id order.
    let mut streams: Vec<MemberId> = recipients
        .iter()
        .zip(&out)
        .filter(|(_, sent)| sent.is_ok())
        .map(|(peer, _)| *peer)
        .collect();
    streams.push(sender);
    streams.sort();
    streams.dedup();
    lock_streams(ex, &streams).await?;
    for sent in out.iter_mut().flatten() {
        append_sent(ex, app, sent).await?;
    }
    Ok(out)
}
