//! Webhook endpoints of an app, their deliveries, replays and test events. Every statement is
//! confined to the app: another app's endpoint is as good as absent.

use sixin_core::webhook::store::Replayed;
use sixin_core::webhook::{
    DeliveryQuery, DeliveryRecord, DeliveryStatus, NewWebhook, OutboxEntry, Subscription, Webhook,
    WebhookChange, WebhookSecret,
};

use super::prelude::*;
use crate::exec::{Param, Row};

pub(crate) const WEBHOOK_COLS: &str =
    "id, app_id, url, secret, events, enabled, description, created_at, updated_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("corrupt {what} in the database").into())
}

/// An endpoint from a row of [`WEBHOOK_COLS`].
pub(crate) fn webhook_from_row(r: &Row) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: WebhookId(r.i64("id")?),
        app: AppId(r.i64("app_id")?),
        url: r.text("url")?,
        secret: WebhookSecret(r.text("secret")?),
        events: Subscription::from_stored(&r.text("events")?)
            .ok_or_else(|| corrupt("webhook subscription"))?,
        enabled: r.bool("enabled")?,
        description: r.opt_text("description")?,
        created_at: Timestamp(r.i64("created_at")?),
        updated_at: Timestamp(r.i64("updated_at")?),
    })
}

pub(crate) async fn create_webhook(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewWebhook,
) -> StoreResult<Webhook> {
    let sql = format!(
        "INSERT INTO webhook_endpoints (app_id, url, secret, events, enabled, description, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {WEBHOOK_COLS}"
    );
    let p = params![
        app.0,
        new.url,
        new.secret.0,
        new.events.stored(),
        new.enabled,
        new.description,
        new.created_at.0
    ];
    webhook_from_row(&ex.one(&sql, p).await?)
}

pub(crate) async fn webhooks(ex: &mut dyn Exec, app: AppId) -> StoreResult<Vec<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhook_endpoints WHERE app_id = $1 ORDER BY id");
    let rows = ex.all(&sql, params![app.0]).await?;
    rows.iter().map(webhook_from_row).collect()
}

pub(crate) async fn webhook(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
) -> StoreResult<Option<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhook_endpoints WHERE app_id = $1 AND id = $2");
    let row = ex.opt(&sql, params![app.0, id.0]).await?;
    row.as_ref().map(webhook_from_row).transpose()
}

pub(crate) async fn update_webhook(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
    change: WebhookChange,
) -> StoreResult<Option<Webhook>> {
    let sql = format!(
        "UPDATE webhook_endpoints SET url = COALESCE($1, url), events = COALESCE($2, events), \
         enabled = CASE WHEN $3 THEN $4 ELSE enabled END, \
         description = CASE WHEN $5 THEN $6 ELSE description END, \
         secret = COALESCE($7, secret), updated_at = $8 \
         WHERE app_id = $9 AND id = $10 RETURNING {WEBHOOK_COLS}"
    );
    let p = params![
        change.url,
        change.events.map(|e| e.stored()),
        change.enabled.is_some(),
        change.enabled.unwrap_or(false),
        change.description.is_some(),
        change.description.flatten(),
        change.secret.map(|s| s.0),
        change.updated_at.0,
        app.0,
        id.0
    ];
    let row = ex.opt(&sql, p).await?;
    row.as_ref().map(webhook_from_row).transpose()
}

pub(crate) async fn delete_webhook(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
) -> StoreResult<bool> {
    if webhook(ex, app, id).await?.is_none() {
        return Ok(false);
    }
    ex.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
        params![id.0],
    )
    .await?;
    let gone = ex
        .execute(
            "DELETE FROM webhook_endpoints WHERE app_id = $1 AND id = $2",
            params![app.0, id.0],
        )
        .await?;
    Ok(gone > 0)
}

fn delivery_from_row(r: &Row) -> StoreResult<DeliveryRecord> {
    let status = r.text("status")?;
    let status = DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status"))?;
    let pending = status == DeliveryStatus::Pending;
    Ok(DeliveryRecord {
        outbox: OutboxId(r.i64("outbox_id")?),
        kind: r.text("kind")?,
        status,
        attempts: u32::try_from(r.i64("attempts")?).unwrap_or(u32::MAX),
        created_at: Timestamp(r.i64("created_at")?),
        queued_at: Timestamp(r.i64("queued_at")?),
        next_attempt_at: pending
            .then(|| r.i64("next_attempt_at").map(Timestamp))
            .transpose()?,
        last_attempt_at: r.opt_i64("last_attempt_at")?.map(Timestamp),
        last_status: r
            .opt_i64("last_status")?
            .and_then(|s| u16::try_from(s).ok()),
        last_error: r.opt_text("last_error")?,
    })
}

pub(crate) async fn deliveries(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
    q: DeliveryQuery,
) -> StoreResult<Option<Page<DeliveryRecord>>> {
    if webhook(ex, app, id).await?.is_none() {
        return Ok(None);
    }
    let by_status = if q.status.is_some() {
        "AND d.status = $4 "
    } else {
        ""
    };
    let sql = format!(
        "SELECT d.outbox_id, o.kind, d.status, d.attempts, o.created_at, d.queued_at, \
         d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error \
         FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id \
         WHERE d.endpoint_id = $1 AND d.outbox_id > $2 {by_status}\
         ORDER BY d.outbox_id LIMIT $3"
    );
    let mut p = vec![
        Param::Int(id.0),
        Param::Int(q.after.map_or(0, |a| a.0)),
        Param::Int(i64::from(q.limit) + 1),
    ];
    if let Some(status) = q.status {
        p.push(status.as_str().into());
    }
    let rows = ex.all(&sql, &p).await?;
    let has_more = rows.len() > q.limit as usize;
    let items = rows
        .iter()
        .take(q.limit as usize)
        .map(delivery_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Page { items, has_more }))
}

pub(crate) async fn replay(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
    from: OutboxId,
    limit: u32,
    now: Timestamp,
) -> StoreResult<Option<Replayed>> {
    if webhook(ex, app, id).await?.is_none() {
        return Ok(None);
    }
    // The first event past the limit, if any: the replay stops before it.
    let next = ex
        .opt(
            "SELECT id FROM outbox WHERE app_id = $1 AND id >= $2 ORDER BY id LIMIT 1 OFFSET $3",
            params![app.0, from.0, i64::from(limit)],
        )
        .await?
        .map(|r| r.i64("id"))
        .transpose()?;
    let queued = ex
        .execute(
            "INSERT INTO webhook_deliveries (endpoint_id, outbox_id, status, attempts, queued_at, \
             next_attempt_at) \
             SELECT $1, id, 'pending', 0, $4, $4 FROM outbox \
             WHERE app_id = $2 AND id >= $3 AND id < $5 \
             ON CONFLICT (endpoint_id, outbox_id) DO UPDATE SET status = 'pending', attempts = 0, \
             queued_at = excluded.queued_at, next_attempt_at = excluded.next_attempt_at",
            params![id.0, app.0, from.0, now.0, next.unwrap_or(i64::MAX)],
        )
        .await?;
    Ok(Some(Replayed {
        queued,
        next_from: next.map(OutboxId),
    }))
}

pub(crate) async fn queue_event(
    ex: &mut dyn Exec,
    app: AppId,
    id: WebhookId,
    entry: OutboxEntry,
) -> StoreResult<Option<OutboxId>> {
    if webhook(ex, app, id).await?.is_none() {
        return Ok(None);
    }
    let row = ex
        .one(
            "INSERT INTO outbox (app_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
            params![app.0, entry.kind, entry.payload, entry.created_at.0],
        )
        .await?;
    let outbox = row.i64("id")?;
    ex.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, outbox_id, status, attempts, queued_at, \
         next_attempt_at) VALUES ($1, $2, 'pending', 0, $3, $3)",
        params![id.0, outbox, entry.created_at.0],
    )
    .await?;
    Ok(Some(OutboxId(outbox)))
}
