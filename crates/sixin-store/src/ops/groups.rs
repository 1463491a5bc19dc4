//! Groups: create, add and remove members, with ownership passing as the core's rules decide.

use super::prelude::*;

async fn insert_members(
    ex: &mut dyn Exec,
    app: AppId,
    conversation: i64,
    members: &[MemberId],
    role: Role,
    visible_from: i64,
    now: Timestamp,
) -> StoreResult<()> {
    for m in members {
        ex.execute(
            "INSERT INTO conversation_members (conversation_id, member_id, app_id, role, \
             joined_at, visible_from, last_read_id, read_updated_at, last_activity_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $5, $5)",
            params![conversation, m.0, app.0, role.as_str(), now.0, visible_from],
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
    let blocked = super::blocks::blocked_by_any(ex, new.owner, &new.members).await?;
    rules::may_add_to_group(new.actor, blocked).map_err(StoreError::Refused)?;
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
    insert_members(ex, app, id, &[new.owner], Role::Owner, 0, new.created_at).await?;
    insert_members(ex, app, id, &new.members, Role::Member, 0, new.created_at).await?;
    let mut everyone = new.members.clone();
    everyone.push(new.owner);
    everyone.sort();
    let (group, added) = (ConversationId(id), Change::Added);
    membership_change(ex, app, group, everyone, added, &[], new.created_at).await
}

/// How a membership changed.
#[derive(PartialEq)]
enum Change {
    Added,
    Removed,
}

/// Records a membership change in the streams of the current members (and of the removed one,
/// whose unread total changes by `unread`) and describes the result.
async fn membership_change(
    ex: &mut dyn Exec,
    app: AppId,
    group: ConversationId,
    changed: Vec<MemberId>,
    change: Change,
    unread: &[(MemberId, i64)],
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
    let gone: &[MemberId] = if change == Change::Removed {
        &changed
    } else {
        &[]
    };
    let audience = rules::membership_audience(&members, gone);
    let event = EventKind::Membership {
        conversation: group,
        added: added.clone(),
        removed: removed.clone(),
    };
    let deliveries = append(ex, app, audience, &event, Unread::By(unread), now).await?;
    Ok(MembershipChange {
        conversation,
        changed,
        added,
        removed,
        members,
        deliveries,
    })
}

/// Locks a group and applies [`rules::may_change_membership`] to the actor as things are now:
/// (last_message_id, the actor's authority).
async fn group_for_change(
    ex: &mut dyn Exec,
    app: AppId,
    actor: Actor,
    group: ConversationId,
) -> StoreResult<(i64, rules::Authority)> {
    let Some((kind, last_message_id)) = lock_conversation(ex, app, group).await? else {
        return Err(StoreError::Refused(Refusal::NotMember));
    };
    let role = match actor {
        Actor::Member(id) => role_of(ex, group, id).await?,
        Actor::App => None,
    };
    let authority = rules::may_change_membership(kind, actor, role).map_err(StoreError::Refused)?;
    Ok((last_message_id, authority))
}

/// The current members of a group with the time each joined.
async fn standings(ex: &mut dyn Exec, id: ConversationId) -> StoreResult<Vec<rules::Standing>> {
    let rows = ex
        .all(
            "SELECT member_id, joined_at FROM conversation_members WHERE conversation_id = $1",
            params![id.0],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(rules::Standing {
                member: MemberId(r.i64("member_id")?),
                joined_at: Timestamp(r.i64("joined_at")?),
            })
        })
        .collect()
}

pub(crate) async fn add_members(
    ex: &mut dyn Exec,
    app: AppId,
    actor: Actor,
    group: ConversationId,
    members: &[MemberId],
    max_members: usize,
    now: Timestamp,
) -> StoreResult<MembershipChange> {
    let (last_message_id, authority) = group_for_change(ex, app, actor, group).await?;
    rules::may_add_members(authority).map_err(StoreError::Refused)?;
    let current = audience(ex, group).await?;
    let mut added: Vec<MemberId> = members
        .iter()
        .copied()
        .filter(|m| !current.contains(m))
        .collect();
    added.sort();
    added.dedup();
    rules::group_fits(current.len() + added.len(), max_members).map_err(StoreError::Refused)?;
    if let Actor::Member(me) = actor {
        let blocked = super::blocks::blocked_by_any(ex, me, &added).await?;
        rules::may_add_to_group(actor, blocked).map_err(StoreError::Refused)?;
    }
    insert_members(ex, app, group.0, &added, Role::Member, last_message_id, now).await?;
    ex.execute(
        "UPDATE conversations SET member_count = member_count + $1 WHERE id = $2",
        params![added.len() as i64, group.0],
    )
    .await?;
    membership_change(ex, app, group, added, Change::Added, &[], now).await
}

pub(crate) async fn remove_member(
    ex: &mut dyn Exec,
    app: AppId,
    actor: Actor,
    group: ConversationId,
    member: MemberId,
    now: Timestamp,
) -> StoreResult<MembershipChange> {
    let (_, authority) = group_for_change(ex, app, actor, group).await?;
    rules::may_remove(authority, member).map_err(StoreError::Refused)?;
    let Some(removed_role) = role_of(ex, group, member).await? else {
        return Err(StoreError::NotFound(Entity::Member));
    };
    let gone = ex
        .one(
            "DELETE FROM conversation_members WHERE conversation_id = $1 AND member_id = $2 \
             RETURNING unread_count",
            params![group.0, member.0],
        )
        .await?;
    let unread = [(member, -gone.i64("unread_count")?)];
    for sql in [
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
    let remaining = standings(ex, group).await?;
    if let Some(heir) = rules::heir(removed_role, &remaining) {
        ex.execute(
            "UPDATE conversation_members SET role = $1 \
             WHERE conversation_id = $2 AND member_id = $3",
            params![Role::Owner.as_str(), group.0, heir.0],
        )
        .await?;
        ex.execute(
            "UPDATE conversations SET owner_id = $1 WHERE id = $2",
            params![heir.0, group.0],
        )
        .await?;
    }
    let removed = Change::Removed;
    membership_change(ex, app, group, vec![member], removed, &unread, now).await
}

/// Erases a member: every session ends; every message they sent becomes a tombstone (data
/// `{}`, ext_data gone, `recalled_at` set if it was not), lowering the unread count of each
/// member who had not read it, as a recall does; they leave every group (ownership passing by
/// [`rules::heir`]); their profile becomes `username` with no ext_info, no password, no
/// external id, banned; their blocks, both ways, are deleted. Direct conversations stay, with
/// the tombstoned member as the peer.
pub(crate) async fn erase_member(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    username: &str,
    now: Timestamp,
) -> StoreResult<Vec<MembershipChange>> {
    // The member row first, as the sends that count new direct conversations take it (lock
    // order), and fully: the profile update below changes a unique column. Read as it was,
    // for the outbox.
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM members WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    let before = ex.opt(&sql, params![member.0, app.0]).await?;
    let before = before
        .map(|r| MemberRow::from_row(&r)?.into_member())
        .transpose()?;
    for sql in [
        "DELETE FROM sessions WHERE member_id = $1",
        "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
    ] {
        ex.execute(sql, params![member.0]).await?;
    }
    let unread = "(SELECT COUNT(*) FROM messages m \
        WHERE m.conversation_id = conversation_members.conversation_id AND m.sender_id = $1 \
        AND m.recalled_at IS NULL AND m.id > conversation_members.last_read_id \
        AND m.id > conversation_members.visible_from \
        AND NOT EXISTS (SELECT 1 FROM message_reads r \
            WHERE r.member_id = conversation_members.member_id AND r.message_id = m.id) \
        AND NOT EXISTS (SELECT 1 FROM message_hides h \
            WHERE h.member_id = conversation_members.member_id AND h.message_id = m.id))";
    let sql = format!(
        "UPDATE conversation_members SET unread_count = \
         CASE WHEN unread_count > {unread} THEN unread_count - {unread} ELSE 0 END \
         WHERE member_id <> $1 AND conversation_id IN \
         (SELECT conversation_id FROM messages WHERE sender_id = $1) \
         RETURNING member_id"
    );
    let mut lowered = ex
        .all(&sql, params![member.0])
        .await?
        .iter()
        .map(|r| Ok(MemberId(r.i64("member_id")?)))
        .collect::<StoreResult<Vec<_>>>()?;
    lowered.sort();
    lowered.dedup();
    // Their counts went down in bulk, with no event to them: their totals are summed again.
    super::events::recount_unread(ex, &lowered).await?;
    ex.execute(
        "UPDATE messages SET data = '{}', ext_data = NULL, \
         recalled_at = COALESCE(recalled_at, $2) WHERE sender_id = $1 AND app_id = $3",
        params![member.0, now.0, app.0],
    )
    .await?;
    let groups = ex
        .all(
            "SELECT cm.conversation_id FROM conversation_members cm \
             JOIN conversations c ON c.id = cm.conversation_id \
             WHERE cm.member_id = $1 AND c.kind = 'group' ORDER BY cm.conversation_id",
            params![member.0],
        )
        .await?;
    let mut changes = Vec::with_capacity(groups.len());
    for row in &groups {
        let group = ConversationId(row.i64("conversation_id")?);
        changes.push(remove_member(ex, app, Actor::App, group, member, now).await?);
    }
    ex.execute(
        "UPDATE members SET username = $2, ext_info = '{}', password_hash = '', \
         external_id = NULL, banned = TRUE, banned_until = NULL, ban_reason = NULL, \
         muted = FALSE, muted_until = NULL WHERE id = $1 AND app_id = $3",
        params![member.0, username, app.0],
    )
    .await?;
    if let Some(before) = before {
        let erased = sixin_core::webhook::MemberChange::Erased;
        super::outbox::record_member(ex, app, erased, &before, now).await?;
    }
    Ok(changes)
}
