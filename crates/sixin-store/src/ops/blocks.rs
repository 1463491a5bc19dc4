//! Blocks and who may message a member: the block list, the who-may-message-me settings, and
//! the facts a direct send or a group change reads inside its transaction for
//! [`rules::may_open_direct`], [`rules::may_continue_direct`] and [`rules::may_add_to_group`].

use super::prelude::*;

pub(crate) async fn block(
    ex: &mut dyn Exec,
    app: AppId,
    blocker: MemberId,
    blocked: MemberId,
    now: Timestamp,
) -> StoreResult<Block> {
    ex.execute(
        "INSERT INTO blocks (blocker_id, blocked_id, app_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
        params![blocker.0, blocked.0, app.0, now.0],
    )
    .await?;
    let sql =
        format!("{BLOCK_SELECT} WHERE b.blocker_id = $1 AND b.blocked_id = $2 AND b.app_id = $3");
    let row = ex.one(&sql, params![blocker.0, blocked.0, app.0]).await?;
    BlockRow::from_row(&row)?.into_block()
}

pub(crate) async fn unblock(
    ex: &mut dyn Exec,
    app: AppId,
    blocker: MemberId,
    blocked: MemberId,
) -> StoreResult<bool> {
    let n = ex
        .execute(
            "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2 AND app_id = $3",
            params![blocker.0, blocked.0, app.0],
        )
        .await?;
    Ok(n > 0)
}

pub(crate) async fn blocks(
    ex: &mut dyn Exec,
    app: AppId,
    blocker: MemberId,
    after: Option<BlockCursor>,
    limit: u32,
) -> StoreResult<Page<Block>> {
    let sql = format!(
        "{BLOCK_SELECT} WHERE b.blocker_id = $1 AND b.app_id = $2 \
         AND ($3 IS NULL OR b.created_at < $3 OR (b.created_at = $3 AND b.blocked_id < $4)) \
         ORDER BY b.created_at DESC, b.blocked_id DESC LIMIT $5"
    );
    let rows = ex
        .all(
            &sql,
            params![
                blocker.0,
                app.0,
                after.map(|a| a.created_at.0),
                after.map(|a| a.member.0),
                i64::from(limit) + 1
            ],
        )
        .await?;
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(|r| BlockRow::from_row(r)?.into_block())
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, has_more })
}

pub(crate) async fn set_dm_policy(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    policy: Option<DmPolicy>,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "UPDATE members SET dm_policy = $1 WHERE id = $2 AND app_id = $3 RETURNING {MEMBER_COLS}"
    );
    let row = ex
        .opt(&sql, params![policy.map(DmPolicy::as_str), member.0, app.0])
        .await?;
    row.map(|r| MemberRow::from_row(&r)?.into_member())
        .transpose()
}

pub(crate) async fn set_app_dm_policy(
    ex: &mut dyn Exec,
    app: AppId,
    policy: DmPolicy,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET dm_policy = $1 WHERE id = $2 RETURNING {APP_COLS}");
    let row = ex.opt(&sql, params![policy.as_str(), app.0]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

/// Locks a member's row so that the transactions counting their new direct conversations
/// queue one behind the other (PostgreSQL; SQLite's single writer already does). Taken before
/// any conversation row, by the sends that count and by an erase, so lock order holds.
pub(super) async fn lock_member(ex: &mut dyn Exec, member: MemberId) -> StoreResult<()> {
    let sql = format!("SELECT id FROM members WHERE id = $1{}", ex.lock_no_key());
    ex.opt(&sql, params![member.0]).await?;
    Ok(())
}

/// Everything [`rules::may_open_direct`] needs about `sender` opening a conversation with
/// `peer`, in one statement: the block, the peer's setting in force, whether they share a
/// group (read only for `contacts`), and the time of the sender's `cap`-th most recent opening
/// within the window (read only under a cap).
pub(super) async fn direct_facts(
    ex: &mut dyn Exec,
    app: AppId,
    sender: MemberId,
    peer: MemberId,
    checks: SendChecks,
    now: Timestamp,
) -> StoreResult<rules::DirectFacts> {
    let cap_th = match checks.new_direct_cap {
        Some(cap) if cap > 0 => {
            "(SELECT created_at FROM conversations \
             WHERE owner_id = $2 AND kind = 'direct' AND created_at > $4 \
             ORDER BY created_at DESC LIMIT 1 OFFSET $5)"
        }
        _ => "CAST(NULL AS BIGINT)",
    };
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2) AS blocked, \
         COALESCE(m.dm_policy, a.dm_policy) AS policy, \
         CASE WHEN COALESCE(m.dm_policy, a.dm_policy) = 'contacts' THEN EXISTS ( \
             SELECT 1 FROM conversation_members x \
             JOIN conversations c ON c.id = x.conversation_id AND c.kind = 'group' \
             JOIN conversation_members y ON y.conversation_id = x.conversation_id \
                 AND y.member_id = $1 \
             WHERE x.member_id = $2) ELSE FALSE END AS share_group, \
         {cap_th} AS cap_th \
         FROM members m JOIN apps a ON a.id = m.app_id WHERE m.id = $1 AND m.app_id = $3"
    );
    let mut args = params![peer.0, sender.0, app.0].to_vec();
    if let Some(cap) = checks.new_direct_cap.filter(|cap| *cap > 0) {
        args.push(now.minus(rules::NEW_DIRECT_WINDOW).0.into());
        args.push((i64::from(cap) - 1).into());
    }
    let row = ex
        .opt(&sql, &args)
        .await?
        .ok_or(StoreError::NotFound(Entity::Member))?;
    let policy = row.text("policy")?;
    Ok(rules::DirectFacts {
        blocked_by_peer: row.bool("blocked")?,
        peer_policy: DmPolicy::parse(&policy)
            .ok_or_else(|| StoreError::Other(format!("corrupt dm policy `{policy}`").into()))?,
        share_group: row.bool("share_group")?,
        cap_th_opened_at: row.opt_i64("cap_th")?.map(Timestamp),
    })
}

/// Whether any of `members` blocks `actor` (for [`rules::may_add_to_group`]).
pub(super) async fn blocked_by_any(
    ex: &mut dyn Exec,
    actor: MemberId,
    members: &[MemberId],
) -> StoreResult<bool> {
    if members.is_empty() {
        return Ok(false);
    }
    let marks: Vec<String> = (2..members.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT blocker_id FROM blocks WHERE blocked_id = $1 AND blocker_id IN ({})",
        marks.join(", ")
    );
    let mut args = vec![crate::exec::Param::Int(actor.0)];
    args.extend(members.iter().map(|m| crate::exec::Param::Int(m.0)));
    Ok(ex.opt(&sql, &args).await?.is_some())
}
