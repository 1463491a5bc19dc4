//! The webhook outbox, written inside the transaction of the change it records: one outbox
//! row (the payload the core built) and one pending delivery per enabled endpoint of the app.
//!
//! A change of an app without an enabled endpoint costs one indexed read and writes nothing;
//! the payload is only built when some endpoint may want it, and building it may need the
//! members' external ids, which that read decides whether to look up. A new message's entry
//! also names the recipients who had no event stream open on a live node at its commit (the
//! offline hint), read from the [`presence`](super::presence) rows in the same statement.

use sixin_core::webhook::{event, MemberChange, MemberFacts, OutboxEntry};

use super::prelude::*;
use crate::exec::Param;

/// A boolean column `wanted`: whether the app whose id is `$1` has an enabled endpoint (for a
/// statement that reads it alongside other work, then calls [`record_wanted_event`]).
pub(crate) const WANTED: &str =
    "EXISTS (SELECT 1 FROM webhook_endpoints WHERE app_id = $1 AND enabled) AS wanted";

/// Whether the app has an enabled endpoint.
async fn wanted(ex: &mut dyn Exec, app: AppId) -> StoreResult<bool> {
    ex.one(&format!("SELECT {WANTED}"), params![app.0])
        .await?
        .bool("wanted")
}

/// Writes `entry` with a pending delivery, due at once, for every enabled endpoint of the app.
pub(crate) async fn write(
    ex: &mut dyn Exec,
    app: AppId,
    entry: &OutboxEntry,
) -> StoreResult<OutboxId> {
    let row = ex
        .one(
            "INSERT INTO outbox (app_id, kind, payload, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
            params![
                app.0,
                entry.kind,
                entry.payload.as_str(),
                entry.created_at.0
            ],
        )
        .await?;
    let id = row.i64("id")?;
    ex.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, outbox_id, status, attempts, queued_at, \
         next_attempt_at) \
         SELECT id, $2, 'pending', 0, $3, $3 FROM webhook_endpoints WHERE app_id = $1 AND enabled",
        params![app.0, id, entry.created_at.0],
    )
    .await?;
    Ok(OutboxId(id))
}

/// Records a member-stream event (from [`append`](super::events::append)) for the app's
/// endpoints; `deliveries` name the members it was appended for.
pub(crate) async fn record_event(
    ex: &mut dyn Exec,
    app: AppId,
    kind: &EventKind,
    deliveries: &[Delivery],
    now: Timestamp,
) -> StoreResult<()> {
    if !wanted(ex, app).await? {
        return Ok(());
    }
    record_wanted_event(ex, app, kind, deliveries, now).await
}

/// [`record_event`] for a transaction that has already read (in a statement of its own) that
/// the app has an enabled endpoint: [`WANTED`] is that read.
pub(crate) async fn record_wanted_event(
    ex: &mut dyn Exec,
    app: AppId,
    kind: &EventKind,
    deliveries: &[Delivery],
    now: Timestamp,
) -> StoreResult<()> {
    // Only a new message's payload says who was online (the offline hint).
    let presence = matches!(kind, EventKind::Message { .. }).then_some(now);
    let facts = member_facts(ex, deliveries.iter().map(|d| d.member), presence).await?;
    write(ex, app, &event::member_event(kind, &facts, now)).await?;
    Ok(())
}

/// Records a change to `member` (as they were before, for an erasure).
pub(crate) async fn record_member(
    ex: &mut dyn Exec,
    app: AppId,
    change: MemberChange,
    member: &Member,
    now: Timestamp,
) -> StoreResult<()> {
    if !wanted(ex, app).await? {
        return Ok(());
    }
    write(ex, app, &event::member_change(change, member, now)).await?;
    Ok(())
}

/// Uuid and external id of each member, in id order, and with `presence_at`, whether they had
/// an event stream open on a node alive at that time.
async fn member_facts(
    ex: &mut dyn Exec,
    ids: impl Iterator<Item = MemberId>,
    presence_at: Option<Timestamp>,
) -> StoreResult<Vec<MemberFacts>> {
    let mut params: Vec<Param> = ids.map(|m| Param::Int(m.0)).collect();
    if params.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
    let online = match presence_at {
        Some(at) => {
            params.push(Param::Int(at.0));
            format!(
                "EXISTS (SELECT 1 FROM stream_presence p JOIN nodes n ON n.id = p.node_id \
                 WHERE p.member_id = members.id AND n.alive_until > ${})",
                params.len()
            )
        }
        None => "FALSE".to_owned(),
    };
    let sql = format!(
        "SELECT id, uuid, external_id, {online} AS online FROM members WHERE id IN ({}) \
         ORDER BY id",
        marks.join(", ")
    );
    ex.all(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            Ok(MemberFacts {
                id: MemberId(r.i64("id")?),
                uuid: MemberUuid::parse(&r.text("uuid")?)
                    .ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?,
                external_id: r.opt_text("external_id")?,
                online: r.bool("online")?,
            })
        })
        .collect()
}
