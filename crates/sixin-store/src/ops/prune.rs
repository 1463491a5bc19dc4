//! Pruning: what no client can replay any more, and webhook history past its retention. Each
//! call is one small, idempotent statement (several nodes may run it at once: a row deleted
//! twice is deleted once), walked in batches so sends never wait long behind it.

use super::prelude::*;

/// For up to `members` members after `after` (by id): deletes their events more than `keep`
/// positions behind their latest and, with `older_than`, every event before their first one
/// created at or after it. Returns the deleted row count and the last member visited (`None`:
/// the walk is done).
pub(crate) async fn prune_events(
    ex: &mut dyn Exec,
    keep: i64,
    older_than: Option<Timestamp>,
    after: MemberId,
    members: u32,
) -> StoreResult<(u64, Option<MemberId>)> {
    let rows = ex
        .all(
            "SELECT member_id, last_position FROM member_streams WHERE member_id > $1 \
             ORDER BY member_id LIMIT $2",
            params![after.0, i64::from(members)],
        )
        .await?;
    let mut deleted = 0;
    let mut last = None;
    for r in &rows {
        let member = r.i64("member_id")?;
        let cut = r.i64("last_position")?.saturating_sub(keep);
        last = Some(MemberId(member));
        if cut > 0 {
            deleted += ex
                .execute(
                    "DELETE FROM events WHERE member_id = $1 AND position <= $2",
                    params![member, cut],
                )
                .await?;
        }
        if let Some(at) = older_than {
            // The walk stops at the first recent event: it reads about what it deletes.
            deleted += ex
                .execute(
                    "DELETE FROM events WHERE member_id = $1 AND position < COALESCE(\
                     (SELECT position FROM events WHERE member_id = $1 AND created_at >= $2 \
                     ORDER BY position LIMIT 1), $3)",
                    params![member, at.0, i64::MAX],
                )
                .await?;
        }
    }
    Ok((deleted, last.filter(|_| rows.len() == members as usize)))
}

/// Deletes up to `batch` settled (delivered, failed, skipped) deliveries of outbox entries
/// created before `before`, then up to `batch` such outbox entries left with no delivery at
/// all. Pending deliveries, and their entries, are never deleted. Returns the rows deleted.
pub(crate) async fn prune_outbox(
    ex: &mut dyn Exec,
    before: Timestamp,
    batch: u32,
) -> StoreResult<u64> {
    let batch = i64::from(batch);
    let deliveries = ex
        .execute(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND outbox_id IN \
             (SELECT id FROM outbox WHERE created_at < $1 ORDER BY id LIMIT $2)",
            params![before.0, batch],
        )
        .await?;
    let entries = ex
        .execute(
            "DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = o.id) \
             ORDER BY o.id LIMIT $2)",
            params![before.0, batch],
        )
        .await?;
    Ok(deliveries + entries)
}
