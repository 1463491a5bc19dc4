//! The delivery worker's side: leases on endpoint queues, the head of a queue, and recording
//! what became of each delivery. A lease is free when `lease_until` is NULL or past; every
//! statement that acts for a node checks that it holds the lease, in the statement itself, so a
//! node that lost its lease (it stalled, another took over) changes nothing.

use sixin_core::webhook::{QueuedDelivery, Settle, Settlement, WebhookQueue};

use super::prelude::*;
use super::webhooks::{webhook_from_row, WEBHOOK_COLS};
use crate::exec::Param;

/// `id IN ($k, …)` over `ids`, parameters numbered from `first`.
fn ids_filter(first: usize, ids: &[WebhookId]) -> (String, Vec<Param>) {
    let marks: Vec<String> = (first..first + ids.len())
        .map(|i| format!("${i}"))
        .collect();
    let p = ids.iter().map(|i| Param::Int(i.0)).collect();
    (format!("id IN ({})", marks.join(", ")), p)
}

fn ids(rows: &[crate::exec::Row]) -> StoreResult<Vec<WebhookId>> {
    rows.iter().map(|r| Ok(WebhookId(r.i64("id")?))).collect()
}

/// Enabled endpoints whose lease is free at `now` and whose first pending delivery is due.
pub(crate) async fn due(
    ex: &mut dyn Exec,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<WebhookId>> {
    let rows = ex
        .all(
            "SELECT e.id FROM webhook_endpoints e \
             WHERE e.enabled AND (e.lease_until IS NULL OR e.lease_until < $1) \
             AND (SELECT d.next_attempt_at FROM webhook_deliveries d \
                  WHERE d.endpoint_id = e.id AND d.status = 'pending' \
                  ORDER BY d.outbox_id LIMIT 1) <= $1 \
             ORDER BY e.id LIMIT $2",
            params![now.0, i64::from(limit)],
        )
        .await?;
    ids(&rows)
}

/// Takes the leases among `candidates` that are still free at `now`: one conditional
/// statement, so of two nodes racing for an endpoint exactly one gets it.
pub(crate) async fn take(
    ex: &mut dyn Exec,
    node: &str,
    candidates: &[WebhookId],
    now: Timestamp,
    until: Timestamp,
) -> StoreResult<Vec<WebhookId>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let (filter, ids_p) = ids_filter(4, candidates);
    let sql = format!(
        "UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2 \
         WHERE {filter} AND enabled AND (lease_until IS NULL OR lease_until < $3) RETURNING id"
    );
    let mut p = vec![Param::from(node), Param::Int(until.0), Param::Int(now.0)];
    p.extend(ids_p);
    ids(&ex.all(&sql, &p).await?)
}

pub(crate) async fn renew(
    ex: &mut dyn Exec,
    node: &str,
    held: &[WebhookId],
    until: Timestamp,
) -> StoreResult<Vec<WebhookId>> {
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let (filter, ids_p) = ids_filter(3, held);
    let sql = format!(
        "UPDATE webhook_endpoints SET lease_until = $2 WHERE {filter} AND lease_owner = $1 \
         RETURNING id"
    );
    let mut p = vec![Param::from(node), Param::Int(until.0)];
    p.extend(ids_p);
    ids(&ex.all(&sql, &p).await?)
}

pub(crate) async fn release(ex: &mut dyn Exec, node: &str, id: WebhookId) -> StoreResult<()> {
    ex.execute(
        "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_owner = $2",
        params![id.0, node],
    )
    .await?;
    Ok(())
}

pub(crate) async fn queue(
    ex: &mut dyn Exec,
    node: &str,
    id: WebhookId,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Option<WebhookQueue>> {
    let sql = format!(
        "SELECT {WEBHOOK_COLS} FROM webhook_endpoints \
         WHERE id = $1 AND lease_owner = $2 AND lease_until >= $3 AND enabled"
    );
    let Some(row) = ex.opt(&sql, params![id.0, node, now.0]).await? else {
        return Ok(None);
    };
    let endpoint = webhook_from_row(&row)?;
    let rows = ex
        .all(
            "SELECT d.outbox_id, o.kind, o.payload, d.attempts, d.queued_at, d.next_attempt_at \
             FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id \
             WHERE d.endpoint_id = $1 AND d.status = 'pending' ORDER BY d.outbox_id LIMIT $2",
            params![id.0, i64::from(limit)],
        )
        .await?;
    let head = rows
        .iter()
        .map(|r| {
            Ok(QueuedDelivery {
                outbox: OutboxId(r.i64("outbox_id")?),
                kind: r.text("kind")?,
                payload: r.text("payload")?,
                attempts: u32::try_from(r.i64("attempts")?).unwrap_or(u32::MAX),
                queued_at: Timestamp(r.i64("queued_at")?),
                next_attempt_at: Timestamp(r.i64("next_attempt_at")?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(WebhookQueue { endpoint, head }))
}

/// Locks the endpoint row (PostgreSQL) while checking the lease, so a takeover cannot slip in
/// between the check and the writes.
pub(crate) async fn settle(
    ex: &mut dyn Exec,
    node: &str,
    id: WebhookId,
    now: Timestamp,
    settles: Vec<Settle>,
) -> StoreResult<bool> {
    let sql = format!(
        "SELECT id FROM webhook_endpoints WHERE id = $1 AND lease_owner = $2 AND lease_until >= $3{}",
        ex.lock()
    );
    if ex.opt(&sql, params![id.0, node, now.0]).await?.is_none() {
        return Ok(false);
    }
    for s in settles {
        let (status, next) = match s.settlement {
            Settlement::Delivered => ("delivered", None),
            Settlement::Skipped => ("skipped", None),
            Settlement::Failed => ("failed", None),
            Settlement::Retry(at) => ("pending", Some(at.0)),
        };
        let attempt = s.attempt.as_ref();
        ex.execute(
            "UPDATE webhook_deliveries SET status = $3, attempts = attempts + $4, \
             next_attempt_at = COALESCE($5, next_attempt_at), \
             last_attempt_at = COALESCE($6, last_attempt_at), \
             last_status = CASE WHEN $7 THEN $8 ELSE last_status END, \
             last_error = CASE WHEN $7 THEN $9 ELSE last_error END \
             WHERE endpoint_id = $1 AND outbox_id = $2 AND status = 'pending'",
            params![
                id.0,
                s.outbox.0,
                status,
                i64::from(attempt.is_some()),
                next,
                attempt.map(|a| a.at.0),
                attempt.is_some(),
                attempt.and_then(|a| a.status).map(i64::from),
                attempt.and_then(|a| a.error.clone())
            ],
        )
        .await?;
    }
    Ok(true)
}
