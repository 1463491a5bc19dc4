//! Sending: one message (a direct conversation is created on first use), and multi-send in one transaction.
//!
//! Message ids are drawn only after the conversation's row lock, so within a conversation they
//! grow in commit order and paging by id can never skip a message.

use super::blocks;
use super::prelude::*;
use crate::exec::Row;

pub(crate) async fn send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Sent> {
    let mut sent = send_in(ex, app, sender, to, content, checks).await?;
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

/// Commits one message without its events (the caller appends them). Every refusal comes
/// before the first write, so a refused send has written nothing.
async fn send_in(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
    checks: SendChecks,
) -> StoreResult<Sent> {
    let conversation = locked_target(ex, app, sender, to, content.created_at, checks).await?;
    let Some((sender_uuid, sender_username)) = sender_in(ex, conversation, sender).await? else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    if let Some(original) = retry_of(ex, sender, conversation, content).await? {
        return Ok(original);
    }
    let (id, conversation) = insert_message(ex, app, sender, conversation, content).await?;
    let message = Message {
        id,
        conversation: conversation.id,
        sender,
        sender_uuid,
        sender_username,
        kind: content.kind,
        data: content.data.clone(),
        ext_data: content.ext_data.clone(),
        client_msg_id: content.client_msg_id.clone(),
        created_at: content.created_at,
        recalled_at: None,
    };
    Ok(Sent {
        message,
        conversation,
        created: true,
        deliveries: Vec::new(),
    })
}

/// The conversation a message goes to, locked, and held to `checks`. Message ids are drawn
/// only after this lock, so within a conversation they grow in commit order and paging by id
/// can never skip a message.
async fn locked_target(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    now: Timestamp,
    checks: SendChecks,
) -> StoreResult<ConversationId> {
    match to {
        // Found (or created) and locked in one go.
        SendTarget::Direct(peer) => direct_for_send(ex, app, sender, peer, now, checks).await,
        SendTarget::Conversation(id) => match lock_conversation(ex, app, id).await? {
            Some((ConversationKind::Direct, _)) => {
                let (peer, blocked) = direct_peer(ex, id, sender).await?;
                rules::may_write_to(peer.as_deref()).map_err(StoreError::Refused)?;
                rules::may_continue_direct(blocked, checks).map_err(StoreError::Refused)?;
                Ok(id)
            }
            Some((ConversationKind::Group, _)) => Ok(id),
            None => Err(StoreError::Refused(Refusal::NotMember)),
        },
    }
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
) -> StoreResult<Option<(MemberUuid, String)>> {
    let me = ex
        .opt(
            "SELECT m.uuid, m.username FROM conversation_members cm \
             JOIN members m ON m.id = cm.member_id \
             WHERE cm.conversation_id = $1 AND cm.member_id = $2",
            params![conversation.0, sender.0],
        )
        .await?;
    me.map(|me| {
        let uuid = MemberUuid::parse(&me.text("uuid")?)
            .ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?;
        Ok((uuid, me.text("username")?))
    })
    .transpose()
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

/// Inserts the message and updates the conversation's and its members' counters: the new
/// message id and the conversation as it now is.
async fn insert_message(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    conversation: ConversationId,
    content: &NewContent,
) -> StoreResult<(MessageId, Conversation)> {
    let row = ex
        .one(
            "INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, ext_data, \
             client_msg_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            params![
                app.0,
                conversation.0,
                sender.0,
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
        .one(&sql, params![id, content.created_at.0, conversation.0])
        .await?;
    // The sender's own message is never unread for them.
    ex.execute(
        "UPDATE conversation_members SET last_activity_at = $1, \
         unread_count = unread_count + CASE WHEN member_id = $2 THEN 0 ELSE 1 END \
         WHERE conversation_id = $3",
        params![content.created_at.0, sender.0, conversation.0],
    )
    .await?;
    let conversation = ConversationRow::from_row(&row)?.into_conversation()?;
    Ok((MessageId(id), conversation))
}

/// The direct conversation of a pair, locked, created (with both memberships) on first use,
/// held to `checks`: [`rules::may_continue_direct`] when it exists, [`rules::may_open_direct`]
/// before it is created. The common case — the conversation exists — is one statement, which
/// also reads the block.
pub(super) async fn direct_for_send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    peer: MemberId,
    now: Timestamp,
    checks: SendChecks,
) -> StoreResult<ConversationId> {
    let key = direct_key(sender, peer);
    let find = format!(
        "SELECT id, EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $3 AND blocked_id = $4) \
         AS blocked FROM conversations WHERE app_id = $1 AND direct_key = $2{}",
        ex.lock()
    );
    let args = params![app.0, &key, peer.0, sender.0];
    let existing = |row: Row| -> StoreResult<ConversationId> {
        rules::may_continue_direct(row.bool("blocked")?, checks).map_err(StoreError::Refused)?;
        Ok(ConversationId(row.i64("id")?))
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
        return Ok(ConversationId(id));
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
