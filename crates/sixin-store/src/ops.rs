//! Every store operation's transaction body, written once for both backends against the small
//! [`Exec`] interface. The executor supplies the row-lock suffixes: ` FOR UPDATE` on PostgreSQL,
//! where concurrent transactions must queue on the conversation row, and nothing on SQLite,
//! whose single writer already serialises writes. Both backends take `$N` parameters.
//!
//! Locks are always taken in one order — message row, conversation row, membership rows — so
//! concurrent transactions cannot deadlock.

use sixin_core::error::Entity;
use sixin_core::ids::*;
use sixin_core::model::*;
use sixin_core::store::*;

use crate::events::{append, lock_streams, membership_data, Audience, NewEvent};
use crate::exec::{params, unique, Exec};
use crate::rows::*;

pub(crate) async fn create_app(ex: &mut dyn Exec, new: NewApp) -> StoreResult<App> {
    let sql = format!(
        "INSERT INTO apps (key, secret, name, require_sign, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {APP_COLS}"
    );
    let row = ex
        .one(
            &sql,
            params![
                new.key.as_str(),
                new.secret.0,
                new.name,
                new.require_sign,
                new.created_at.0
            ],
        )
        .await
        .map_err(unique(Entity::App))?;
    AppRow::from_row(&row)?.into_app()
}

pub(crate) async fn app_by_key(ex: &mut dyn Exec, key: &AppKey) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE key = $1");
    let row = ex.opt(&sql, params![key.as_str()]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn apps(ex: &mut dyn Exec) -> StoreResult<Vec<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps ORDER BY id");
    let rows = ex.all(&sql, params![]).await?;
    rows.iter()
        .map(|r| AppRow::from_row(r)?.into_app())
        .collect()
}

pub(crate) async fn set_require_sign(
    ex: &mut dyn Exec,
    key: &AppKey,
    on: bool,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET require_sign = $1 WHERE key = $2 RETURNING {APP_COLS}");
    let row = ex.opt(&sql, params![on, key.as_str()]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn create_member(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewMember,
) -> StoreResult<Member> {
    let sql = format!(
        "INSERT INTO members (app_id, uuid, username, password_hash, ext_info, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {MEMBER_COLS}"
    );
    let row = ex
        .one(
            &sql,
            params![
                app.0,
                new.uuid.as_str(),
                new.username,
                new.password_hash,
                new.ext_info.to_string(),
                new.created_at.0
            ],
        )
        .await
        .map_err(unique(Entity::Username))?;
    let member = MemberRow::from_row(&row)?.into_member()?;
    ex.execute(
        "INSERT INTO member_streams (member_id) VALUES ($1)",
        params![member.id.0],
    )
    .await?;
    Ok(member)
}

pub(crate) async fn member(
    ex: &mut dyn Exec,
    app: AppId,
    by: MemberRef<'_>,
) -> StoreResult<Option<Member>> {
    let (column, value) = match by {
        MemberRef::Id(id) => ("id", crate::exec::Param::from(id.0)),
        MemberRef::Uuid(u) => ("uuid", u.as_str().into()),
        MemberRef::Username(u) => ("username", u.into()),
    };
    let sql = format!("SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND {column} = $2");
    let row = ex.opt(&sql, &[app.0.into(), value]).await?;
    row.map(|r| MemberRow::from_row(&r)?.into_member())
        .transpose()
}

pub(crate) async fn members_by_uuids(
    ex: &mut dyn Exec,
    app: AppId,
    uuids: &[MemberUuid],
) -> StoreResult<Vec<Member>> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..uuids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND uuid IN ({})",
        placeholders.join(", ")
    );
    let mut args = Vec::with_capacity(uuids.len() + 1);
    args.push(app.0.into());
    args.extend(uuids.iter().map(|u| u.as_str().into()));
    let rows = ex.all(&sql, &args).await?;
    rows.iter()
        .map(|r| MemberRow::from_row(r)?.into_member())
        .collect()
}

pub(crate) async fn credentials(
    ex: &mut dyn Exec,
    app: AppId,
    username: &str,
) -> StoreResult<Option<(Member, String)>> {
    let sql = format!(
        "SELECT {MEMBER_COLS}, password_hash FROM members WHERE app_id = $1 AND username = $2"
    );
    let row = ex.opt(&sql, params![app.0, username]).await?;
    row.map(|r| {
        Ok((
            MemberRow::from_row(&r)?.into_member()?,
            r.text("password_hash")?,
        ))
    })
    .transpose()
}

pub(crate) async fn set_banned(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    banned: bool,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "UPDATE members SET banned = $1 WHERE id = $2 AND app_id = $3 RETURNING {MEMBER_COLS}"
    );
    let row = ex.opt(&sql, params![banned, member.0, app.0]).await?;
    if banned && row.is_some() {
        ex.execute(
            "DELETE FROM sessions WHERE member_id = $1",
            params![member.0],
        )
        .await?;
    }
    row.map(|r| MemberRow::from_row(&r)?.into_member())
        .transpose()
}

pub(crate) async fn create_session(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewSession,
) -> StoreResult<()> {
    ex.execute(
        "DELETE FROM sessions WHERE member_id = $1 AND expires_at <= $2",
        params![new.member.0, new.created_at.0],
    )
    .await?;
    ex.execute(
        "INSERT INTO sessions (token_hash, app_id, member_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        params![
            new.token_hash.0,
            app.0,
            new.member.0,
            new.created_at.0,
            new.expires_at.0
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn session(
    ex: &mut dyn Exec,
    token: &TokenHash,
    now: Timestamp,
) -> StoreResult<Option<SessionInfo>> {
    let row = ex.opt(SESSION_SELECT, params![&token.0, now.0]).await?;
    row.map(|r| SessionRow::from_row(&r)?.into_session())
        .transpose()
}

pub(crate) async fn delete_session(ex: &mut dyn Exec, token: &TokenHash) -> StoreResult<bool> {
    let done = ex
        .execute(
            "DELETE FROM sessions WHERE token_hash = $1",
            params![&token.0],
        )
        .await?;
    Ok(done > 0)
}

fn direct_key(a: MemberId, b: MemberId) -> String {
    format!("{}:{}", a.0.min(b.0), a.0.max(b.0))
}

/// The direct conversation of a pair, locked, created (with both memberships) on first use.
/// The common case — the conversation exists — is one statement.
async fn direct_for_send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    peer: MemberId,
    now: Timestamp,
) -> StoreResult<ConversationId> {
    let key = direct_key(sender, peer);
    let find = format!(
        "SELECT id FROM conversations WHERE app_id = $1 AND direct_key = $2{}",
        ex.lock()
    );
    if let Some(row) = ex.opt(&find, params![app.0, &key]).await? {
        return Ok(ConversationId(row.i64("id")?));
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
             VALUES ($1, $2, $3, 'member', $4, $4, $4), ($1, $5, $3, 'member', $4, $4, $4)",
            params![id, sender.0, app.0, now.0, peer.0],
        )
        .await?;
        return Ok(ConversationId(id));
    }
    // A concurrent transaction created it between our look-up and insert: it is committed now.
    let row = ex.one(&find, params![app.0, &key]).await?;
    Ok(ConversationId(row.i64("id")?))
}

async fn conversation_row(ex: &mut dyn Exec, id: ConversationId) -> StoreResult<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
    let row = ex.one(&sql, params![id.0]).await?;
    ConversationRow::from_row(&row)?.into_conversation()
}

async fn audience(ex: &mut dyn Exec, id: ConversationId) -> StoreResult<Vec<MemberId>> {
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

async fn message_by_id(ex: &mut dyn Exec, id: i64) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
    let row = ex.one(&sql, params![id]).await?;
    MessageRow::from_row(&row)?.into_message()
}

/// Locks the conversation (in the app) and returns its kind and last message id.
async fn lock_conversation(
    ex: &mut dyn Exec,
    app: AppId,
    id: ConversationId,
) -> StoreResult<Option<(String, i64)>> {
    let sql = format!(
        "SELECT kind, last_message_id FROM conversations WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    let row = ex.opt(&sql, params![id.0, app.0]).await?;
    row.map(|r| Ok((r.text("kind")?, r.i64("last_message_id")?)))
        .transpose()
}

async fn role_of(
    ex: &mut dyn Exec,
    id: ConversationId,
    member: MemberId,
) -> StoreResult<Option<String>> {
    let row = ex
        .opt(
            "SELECT role FROM conversation_members WHERE conversation_id = $1 AND member_id = $2",
            params![id.0, member.0],
        )
        .await?;
    row.map(|r| r.text("role")).transpose()
}

pub(crate) async fn send(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
) -> StoreResult<Sent> {
    let mut sent = send_in(ex, app, sender, to, content).await?;
    append_sent(ex, app, &mut sent).await?;
    Ok(sent)
}

/// Appends a newly committed message to the stream of every member of its conversation (a
/// retry that returned the original appends nothing).
async fn append_sent(ex: &mut dyn Exec, app: AppId, sent: &mut Sent) -> StoreResult<()> {
    if sent.created {
        let audience = Audience::Conversation(sent.conversation.id);
        let event = NewEvent::message("message", &sent.message);
        sent.deliveries = append(ex, app, audience, event, sent.message.created_at).await?;
    }
    Ok(())
}

/// Commits one message without its events (the caller appends them).
async fn send_in(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    to: SendTarget,
    content: &NewContent,
) -> StoreResult<Sent> {
    // Message ids are drawn only after the conversation's lock, so within a conversation they
    // grow in commit order and paging by id can never skip a message.
    let conversation = match to {
        // Found (or created) and locked in one go.
        SendTarget::Direct(peer) => {
            direct_for_send(ex, app, sender, peer, content.created_at).await?
        }
        SendTarget::Conversation(id) => {
            if lock_conversation(ex, app, id).await?.is_none() {
                return Err(StoreError::Refused(Refusal::NotMember));
            }
            id
        }
    };
    let me = ex
        .opt(
            "SELECT m.uuid, m.username FROM conversation_members cm \
             JOIN members m ON m.id = cm.member_id \
             WHERE cm.conversation_id = $1 AND cm.member_id = $2",
            params![conversation.0, sender.0],
        )
        .await?;
    let Some(me) = me else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let (sender_uuid, sender_username) = (me.text("uuid")?, me.text("username")?);
    if let Some(key) = &content.client_msg_id {
        let sql = format!(
            "{MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.conversation_id = $2 \
             AND m.client_msg_id = $3"
        );
        let existing = ex.opt(&sql, params![sender.0, conversation.0, key]).await?;
        if let Some(row) = existing {
            return Ok(Sent {
                message: MessageRow::from_row(&row)?.into_message()?,
                conversation: conversation_row(ex, conversation).await?,
                created: false,
                deliveries: Vec::new(),
            });
        }
    }
    let data = content.data.to_string();
    let row = ex
        .one(
            "INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, ext_data, \
             client_msg_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            params![
                app.0,
                conversation.0,
                sender.0,
                content.kind.as_str(),
                data,
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
    ex.execute(
        "UPDATE conversation_members SET last_activity_at = $1, \
         unread_count = unread_count + CASE WHEN member_id = $2 THEN 0 ELSE 1 END \
         WHERE conversation_id = $3",
        params![content.created_at.0, sender.0, conversation.0],
    )
    .await?;
    let message = Message {
        id: MessageId(id),
        conversation,
        sender,
        sender_uuid: MemberUuid::parse(&sender_uuid)
            .ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?,
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
        conversation: ConversationRow::from_row(&row)?.into_conversation()?,
        created: true,
        deliveries: Vec::new(),
    })
}

pub(crate) async fn send_many(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    recipients: &[MemberId],
    content: &NewContent,
) -> StoreResult<Vec<Sent>> {
    let mut out = Vec::with_capacity(recipients.len());
    for peer in recipients {
        out.push(send_in(ex, app, sender, SendTarget::Direct(*peer), content).await?);
    }
    // Every conversation is locked by now; the streams come last, all in one id order.
    let mut streams: Vec<MemberId> = recipients.to_vec();
    streams.push(sender);
    streams.sort();
    streams.dedup();
    lock_streams(ex, &streams).await?;
    for sent in &mut out {
        append_sent(ex, app, sent).await?;
    }
    Ok(out)
}

/// The viewer's membership: (last_read_id, visible_from, unread_count).
async fn membership(
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

/// Whether `member` currently counts `message` as unread.
async fn is_unread(
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

/// A message `member` can see, locked for share: (conversation, sender, recalled).
async fn visible_message(
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

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

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
        ReadTarget::One(id) => {
            let found = visible_message(ex, app, reader, id).await?;
            match found {
                Some(m) if m.0 == conversation.0 => Some((id, m)),
                _ => {
                    if membership(ex, app, reader, conversation, false)
                        .await?
                        .is_none()
                    {
                        return Err(StoreError::Refused(Refusal::NotMember));
                    }
                    return Err(StoreError::NotFound(Entity::Message));
                }
            }
        }
    };
    let Some((last_read, _, unread)) = membership(ex, app, reader, conversation, true).await?
    else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let Some((id, (_, sender, recalled))) = message else {
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
        let marked = count(unread);
        let deliveries = if marked > 0 {
            read_event(ex, app, reader, conversation, last_read, None, now).await?
        } else {
            Vec::new()
        };
        return Ok(ReadOutcome {
            marked,
            unread: 0,
            last_read,
            deliveries,
        });
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
    let deliveries = read_event(ex, app, reader, conversation, last_read, Some(id), now).await?;
    Ok(ReadOutcome {
        marked: 1,
        unread: count(left),
        last_read,
        deliveries,
    })
}

/// Tells the reader's other devices, and in a direct conversation the peer, what was read.
async fn read_event(
    ex: &mut dyn Exec,
    app: AppId,
    reader: MemberId,
    conversation: ConversationId,
    last_read: MessageId,
    message: Option<MessageId>,
    now: Timestamp,
) -> StoreResult<Vec<Delivery>> {
    let rows = ex
        .all(
            "SELECT cm.member_id, m.uuid FROM conversation_members cm \
             JOIN conversations c ON c.id = cm.conversation_id \
             JOIN members m ON m.id = cm.member_id \
             WHERE cm.conversation_id = $1 AND (cm.member_id = $2 OR c.kind = 'direct')",
            params![conversation.0, reader.0],
        )
        .await?;
    let mut audience = Vec::with_capacity(rows.len());
    let mut reader_uuid = String::new();
    for r in &rows {
        let id = MemberId(r.i64("member_id")?);
        if id == reader {
            reader_uuid = r.text("uuid")?;
        }
        audience.push(id);
    }
    audience.sort();
    let data = serde_json::json!({ "reader": reader_uuid, "last_read": last_read.0 });
    let event = NewEvent {
        kind: "read",
        conversation,
        message,
        data,
    };
    append(ex, app, Audience::Members(&audience), event, now).await
}

pub(crate) async fn unread(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
) -> StoreResult<UnreadCounts> {
    let rows = ex
        .all(
            "SELECT conversation_id, unread_count FROM conversation_members \
             WHERE member_id = $1 AND app_id = $2 AND unread_count > 0 ORDER BY conversation_id",
            params![member.0, app.0],
        )
        .await?;
    let rows = rows
        .iter()
        .map(|r| Ok((r.i64("conversation_id")?, r.i64("unread_count")?)))
        .collect::<StoreResult<Vec<_>>>()?;
    let total = rows.iter().map(|(_, n)| u64::from(count(*n))).sum();
    let conversations = rows
        .into_iter()
        .map(|(c, n)| (ConversationId(c), count(n)))
        .collect();
    Ok(UnreadCounts {
        total,
        conversations,
    })
}

pub(crate) async fn conversations(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    query: ListQuery,
) -> StoreResult<Page<ConversationSummary>> {
    let (after_at, after_id, offset) = match query.window {
        ListWindow::First => (None, None, 0i64),
        ListWindow::After {
            last_activity_at,
            id,
        } => (Some(last_activity_at.0), Some(id.0), 0),
        ListWindow::Offset(n) => (None, None, i64::from(n)),
    };
    let sql = "SELECT c.id, c.app_id, c.kind, c.subject, c.owner_id, c.created_at, \
        c.last_activity_at, c.message_count, c.member_count, \
        cm.unread_count, cm.last_activity_at AS activity, \
        m.id AS m_id, m.sender_id AS m_sender_id, s.uuid AS m_sender_uuid, \
        s.username AS m_sender_username, m.kind AS m_kind, m.data AS m_data, \
        m.ext_data AS m_ext_data, m.client_msg_id AS m_client_msg_id, \
        m.created_at AS m_created_at, m.recalled_at AS m_recalled_at, \
        CASE WHEN m.id IS NULL THEN FALSE \
        WHEN m.sender_id = cm.member_id THEN NOT EXISTS (SELECT 1 FROM conversation_members o \
            WHERE o.conversation_id = m.conversation_id AND o.member_id <> m.sender_id \
            AND o.last_read_id < m.id AND o.visible_from < m.id \
            AND NOT EXISTS (SELECT 1 FROM message_reads r \
                WHERE r.member_id = o.member_id AND r.message_id = m.id)) \
        ELSE (m.id <= cm.last_read_id OR EXISTS (SELECT 1 FROM message_reads r \
            WHERE r.member_id = cm.member_id AND r.message_id = m.id)) END AS m_is_read, \
        p.id AS p_id, p.uuid AS p_uuid, p.username AS p_username, p.ext_info AS p_ext_info \
        FROM conversation_members cm \
        JOIN conversations c ON c.id = cm.conversation_id \
        LEFT JOIN messages m ON m.id = (SELECT MAX(x.id) FROM messages x \
            WHERE x.conversation_id = c.id AND x.id > cm.visible_from \
            AND NOT EXISTS (SELECT 1 FROM message_hides h \
                WHERE h.member_id = cm.member_id AND h.message_id = x.id)) \
        LEFT JOIN members s ON s.id = m.sender_id \
        LEFT JOIN members p ON c.kind = 'direct' AND p.id = (SELECT o.member_id \
            FROM conversation_members o WHERE o.conversation_id = c.id \
            AND o.member_id <> cm.member_id LIMIT 1) \
        WHERE cm.member_id = $1 AND cm.app_id = $2 AND ($3 IS NULL OR c.kind = $3) \
        AND ($4 IS NULL OR cm.last_activity_at < $4 \
            OR (cm.last_activity_at = $4 AND cm.conversation_id < $5)) \
        ORDER BY cm.last_activity_at DESC, cm.conversation_id DESC LIMIT $6 OFFSET $7";
    let rows = ex
        .all(
            sql,
            params![
                member.0,
                app.0,
                query.kind.map(ConversationKind::as_str),
                after_at,
                after_id,
                i64::from(query.limit) + 1,
                offset
            ],
        )
        .await?;
    let mut rows = rows
        .iter()
        .map(ListRow::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let has_more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let items = rows
        .into_iter()
        .map(ListRow::into_summary)
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, has_more })
}

pub(crate) async fn conversation_count(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    kind: Option<ConversationKind>,
) -> StoreResult<u64> {
    let row = ex
        .one(
            "SELECT COUNT(*) FROM conversation_members cm \
             JOIN conversations c ON c.id = cm.conversation_id \
             WHERE cm.member_id = $1 AND cm.app_id = $2 AND ($3 IS NULL OR c.kind = $3)",
            params![member.0, app.0, kind.map(ConversationKind::as_str)],
        )
        .await?;
    Ok(u64::try_from(row.i64(0)?).unwrap_or(0))
}

pub(crate) async fn conversation(
    ex: &mut dyn Exec,
    app: AppId,
    viewer: MemberId,
    id: ConversationId,
) -> StoreResult<Option<ConversationDetail>> {
    if membership(ex, app, viewer, id, false).await?.is_none() {
        return Ok(None);
    }
    let conversation = conversation_row(ex, id).await?;
    let rows = ex.all(PARTICIPANT_SELECT, params![id.0]).await?;
    let participants = rows
        .iter()
        .map(|r| ParticipantRow::from_row(r)?.into_participant())
        .collect::<StoreResult<_>>()?;
    let mut ends = Vec::with_capacity(2);
    for order in ["ASC", "DESC"] {
        let sql = format!("{ITEM_SELECT} AND m.conversation_id = $2 ORDER BY m.id {order} LIMIT 1");
        let row = ex.opt(&sql, params![viewer.0, id.0]).await?;
        ends.push(
            row.map(|r| MessageRow::from_row(&r)?.into_message())
                .transpose()?,
        );
    }
    let row = ex
        .one(
            "SELECT COUNT(*) FROM messages m JOIN conversation_members v \
             ON v.conversation_id = m.conversation_id AND v.member_id = $1 \
             WHERE m.conversation_id = $2 AND m.id > v.visible_from AND NOT EXISTS \
             (SELECT 1 FROM message_hides h WHERE h.member_id = $1 AND h.message_id = m.id)",
            params![viewer.0, id.0],
        )
        .await?;
    let visible_count = row.i64(0)?;
    let last_message = ends.pop().flatten();
    let first_message = ends.pop().flatten();
    Ok(Some(ConversationDetail {
        conversation,
        participants,
        first_message,
        last_message,
        visible_count,
    }))
}

pub(crate) async fn participants(
    ex: &mut dyn Exec,
    app: AppId,
    viewer: MemberId,
    id: ConversationId,
) -> StoreResult<Option<Vec<Profile>>> {
    if membership(ex, app, viewer, id, false).await?.is_none() {
        return Ok(None);
    }
    let rows = ex.all(PARTICIPANT_SELECT, params![id.0]).await?;
    rows.iter()
        .map(|r| Ok(ParticipantRow::from_row(r)?.into_participant()?.profile))
        .collect::<StoreResult<_>>()
        .map(Some)
}

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
    let Some((last_read, _, _)) = membership(ex, app, member, conv, true).await? else {
        return Err(StoreError::NotFound(Entity::Message));
    };
    let unread = is_unread(ex, member, message.0, sender, recalled.is_some(), last_read).await?;
    ex.execute(
        "INSERT INTO message_hides (member_id, message_id, conversation_id) VALUES ($1, $2, $3)",
        params![member.0, message.0, conversation],
    )
    .await?;
    if unread {
        ex.execute(
            "UPDATE conversation_members SET unread_count = \
             CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END \
             WHERE conversation_id = $1 AND member_id = $2",
            params![conversation, member.0],
        )
        .await?;
    }
    let event = NewEvent {
        kind: "hidden",
        conversation: conv,
        message: Some(message),
        data: serde_json::json!({}),
    };
    let deliveries = append(ex, app, Audience::Members(&[member]), event, now).await?;
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
    not_before: Timestamp,
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
    let (conversation, author, created_at, recalled_at) = (
        row.i64("conversation_id")?,
        row.i64("sender_id")?,
        row.i64("created_at")?,
        row.opt_i64("recalled_at")?,
    );
    let conv = ConversationId(conversation);
    if author != sender.0 {
        return match visible_message(ex, app, sender, message).await? {
            Some(_) => Err(StoreError::Refused(Refusal::NotSender)),
            None => Err(StoreError::NotFound(Entity::Message)),
        };
    }
    if recalled_at.is_none() {
        if created_at < not_before.0 {
            return Err(StoreError::Refused(Refusal::RecallWindowPassed));
        }
        ex.execute(
            "UPDATE conversation_members SET unread_count = \
             CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END \
             WHERE conversation_id = $1 AND member_id <> $2 AND last_read_id < $3 \
             AND visible_from < $3 \
             AND NOT EXISTS (SELECT 1 FROM message_reads r \
                WHERE r.member_id = conversation_members.member_id AND r.message_id = $3) \
             AND NOT EXISTS (SELECT 1 FROM message_hides h \
                WHERE h.member_id = conversation_members.member_id AND h.message_id = $3)",
            params![conversation, sender.0, message.0],
        )
        .await?;
        ex.execute(
            "UPDATE messages SET data = '{}', recalled_at = $1 WHERE id = $2",
            params![now.0, message.0],
        )
        .await?;
        let recalled = message_by_id(ex, message.0).await?;
        let event = NewEvent::message("recalled", &recalled);
        let deliveries = append(ex, app, Audience::Conversation(conv), event, now).await?;
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

async fn insert_members(
    ex: &mut dyn Exec,
    app: AppId,
    conversation: i64,
    members: &[MemberId],
    role: &str,
    visible_from: i64,
    now: Timestamp,
) -> StoreResult<()> {
    for m in members {
        ex.execute(
            "INSERT INTO conversation_members (conversation_id, member_id, app_id, role, \
             joined_at, visible_from, last_read_id, read_updated_at, last_activity_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $5, $5)",
            params![conversation, m.0, app.0, role, now.0, visible_from],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn create_group(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewGroup,
) -> StoreResult<MembershipChange> {
    if new.members.len() + 1 > new.max_members {
        return Err(StoreError::Refused(Refusal::GroupFull {
            max: new.max_members,
        }));
    }
    let row = ex
        .one(
            "INSERT INTO conversations (app_id, kind, subject, owner_id, created_at, \
             last_activity_at, member_count) VALUES ($1, 'group', $2, $3, $4, $4, $5) RETURNING id",
            params![
                app.0,
                &new.subject,
                new.owner.0,
                new.created_at.0,
                new.members.len() as i64 + 1
            ],
        )
        .await?;
    let id = row.i64("id")?;
    insert_members(ex, app, id, &[new.owner], "owner", 0, new.created_at).await?;
    insert_members(ex, app, id, &new.members, "member", 0, new.created_at).await?;
    let mut everyone = new.members.clone();
    everyone.push(new.owner);
    everyone.sort();
    membership_change(
        ex,
        app,
        ConversationId(id),
        everyone,
        Change::Added,
        new.created_at,
    )
    .await
}

/// How a membership changed.
#[derive(PartialEq)]
enum Change {
    Added,
    Removed,
}

/// Records a membership change in the streams of the current members (and of the removed one)
/// and describes the result.
async fn membership_change(
    ex: &mut dyn Exec,
    app: AppId,
    group: ConversationId,
    changed: Vec<MemberId>,
    change: Change,
    now: Timestamp,
) -> StoreResult<MembershipChange> {
    let members = audience(ex, group).await?;
    let conversation = conversation_row(ex, group).await?;
    if changed.is_empty() {
        return Ok(MembershipChange {
            conversation,
            changed,
            added: Vec::new(),
            removed: Vec::new(),
            members,
            deliveries: Vec::new(),
        });
    }
    let ids: Vec<crate::exec::Param> = changed.iter().map(|m| m.0.into()).collect();
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT uuid FROM members WHERE id IN ({}) ORDER BY id",
        marks.join(", ")
    );
    let uuids = ex
        .all(&sql, &ids)
        .await?
        .iter()
        .map(|r| {
            MemberUuid::parse(&r.text("uuid")?)
                .ok_or_else(|| StoreError::Other("corrupt uuid".into()))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let (added, removed) = match change {
        Change::Added => (uuids, Vec::new()),
        Change::Removed => (Vec::new(), uuids),
    };
    let mut audience = members.clone();
    if change == Change::Removed {
        audience.extend(changed.iter().copied());
        audience.sort();
    }
    let data = membership_data(&added, &removed);
    let event = NewEvent {
        kind: "membership",
        conversation: group,
        message: None,
        data,
    };
    let deliveries = append(ex, app, Audience::Members(&audience), event, now).await?;
    Ok(MembershipChange {
        conversation,
        changed,
        added,
        removed,
        members,
        deliveries,
    })
}

/// Locks a group and checks the actor's standing: (last_message_id, actor's role).
async fn group_for_change(
    ex: &mut dyn Exec,
    app: AppId,
    actor: MemberId,
    group: ConversationId,
) -> StoreResult<(i64, String)> {
    let Some((kind, last_message_id)) = lock_conversation(ex, app, group).await? else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let Some(role) = role_of(ex, group, actor).await? else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    if kind != "group" {
        return Err(StoreError::Refused(Refusal::NotGroup));
    }
    Ok((last_message_id, role))
}

pub(crate) async fn add_members(
    ex: &mut dyn Exec,
    app: AppId,
    actor: MemberId,
    group: ConversationId,
    members: &[MemberId],
    max_members: usize,
    now: Timestamp,
) -> StoreResult<MembershipChange> {
    let (last_message_id, role) = group_for_change(ex, app, actor, group).await?;
    if role != "owner" {
        return Err(StoreError::Refused(Refusal::NotOwner));
    }
    let current = audience(ex, group).await?;
    let mut added: Vec<MemberId> = members
        .iter()
        .copied()
        .filter(|m| !current.contains(m))
        .collect();
    added.sort();
    added.dedup();
    if current.len() + added.len() > max_members {
        return Err(StoreError::Refused(Refusal::GroupFull { max: max_members }));
    }
    insert_members(ex, app, group.0, &added, "member", last_message_id, now).await?;
    ex.execute(
        "UPDATE conversations SET member_count = member_count + $1 WHERE id = $2",
        params![added.len() as i64, group.0],
    )
    .await?;
    membership_change(ex, app, group, added, Change::Added, now).await
}

pub(crate) async fn remove_member(
    ex: &mut dyn Exec,
    app: AppId,
    actor: MemberId,
    group: ConversationId,
    member: MemberId,
    now: Timestamp,
) -> StoreResult<MembershipChange> {
    let (_, role) = group_for_change(ex, app, actor, group).await?;
    if actor != member && role != "owner" {
        return Err(StoreError::Refused(Refusal::NotOwner));
    }
    let Some(removed_role) = role_of(ex, group, member).await? else {
        return Err(StoreError::NotFound(Entity::Member));
    };
    for sql in [
        "DELETE FROM conversation_members WHERE conversation_id = $1 AND member_id = $2",
        "DELETE FROM message_reads WHERE conversation_id = $1 AND member_id = $2",
        "DELETE FROM message_hides WHERE conversation_id = $1 AND member_id = $2",
    ] {
        ex.execute(sql, params![group.0, member.0]).await?;
    }
    ex.execute(
        "UPDATE conversations SET member_count = member_count - 1 WHERE id = $1",
        params![group.0],
    )
    .await?;
    if removed_role == "owner" {
        let heir = ex
            .opt(
                "SELECT member_id FROM conversation_members WHERE conversation_id = $1 \
                 ORDER BY joined_at, member_id LIMIT 1",
                params![group.0],
            )
            .await?;
        if let Some(heir) = heir {
            let heir = heir.i64("member_id")?;
            ex.execute(
                "UPDATE conversation_members SET role = 'owner' \
                 WHERE conversation_id = $1 AND member_id = $2",
                params![group.0, heir],
            )
            .await?;
            ex.execute(
                "UPDATE conversations SET owner_id = $1 WHERE id = $2",
                params![heir, group.0],
            )
            .await?;
        }
    }
    membership_change(ex, app, group, vec![member], Change::Removed, now).await
}
