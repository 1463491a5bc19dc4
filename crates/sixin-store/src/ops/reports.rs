//! Members' reports: filing one (with the reporter's row locked, so the daily cap and the
//! repeat check hold under concurrent reports), pages for the app's backend, resolving.

use std::collections::HashMap;

use sixin_core::ids::ReportId;

use super::prelude::*;

/// The reported member, and the message's type and data now, for a target the reporter may
/// report.
async fn target(
    ex: &mut dyn Exec,
    app: AppId,
    reporter: MemberId,
    target: ReportTarget,
) -> StoreResult<(i64, Option<(i64, String, String)>)> {
    match target {
        ReportTarget::Member(id) => {
            let row = ex
                .opt(
                    "SELECT id FROM members WHERE id = $1 AND app_id = $2",
                    params![id.0, app.0],
                )
                .await?;
            row.ok_or(StoreError::NotFound(Entity::Member))?;
            Ok((id.0, None))
        }
        ReportTarget::Message(id) => {
            let row = ex
                .opt(
                    "SELECT m.sender_id, m.kind, m.data FROM messages m \
                     JOIN conversation_members v ON v.conversation_id = m.conversation_id \
                     AND v.member_id = $1 WHERE m.id = $2 AND m.app_id = $3 \
                     AND m.id > v.visible_from",
                    params![reporter.0, id.0, app.0],
                )
                .await?
                .ok_or(StoreError::NotFound(Entity::Message))?;
            let sender = row.i64("sender_id")?;
            Ok((sender, Some((id.0, row.text("kind")?, row.text("data")?))))
        }
    }
}

pub(crate) async fn create_report(
    ex: &mut dyn Exec,
    app: AppId,
    new: NewReport,
) -> StoreResult<(Report, bool)> {
    let lock = format!(
        "SELECT id FROM members WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    ex.opt(&lock, params![new.reporter.0, app.0])
        .await?
        .ok_or(StoreError::NotFound(Entity::Member))?;
    let (member, message) = target(ex, app, new.reporter, new.target).await?;
    if member == new.reporter.0 {
        return Err(StoreError::Refused(Refusal::OwnReport));
    }
    let message_id = message.as_ref().map(|m| m.0);
    let open = ex
        .opt(
            "SELECT id FROM reports WHERE reporter_id = $1 AND member_id = $2 \
             AND status = 'open' AND (message_id = $3 OR ($3 IS NULL AND message_id IS NULL))",
            params![new.reporter.0, member, message_id],
        )
        .await?;
    if let Some(row) = open {
        let report = report(ex, app, ReportId(row.i64("id")?)).await?;
        return Ok((report.ok_or(StoreError::NotFound(Entity::Report))?, false));
    }
    let since = new.created_at.0 - rules::REPORT_WINDOW_MS;
    let recent = ex
        .one(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM reports \
             WHERE reporter_id = $1 AND created_at > $2",
            params![new.reporter.0, since],
        )
        .await?;
    let n = u32::try_from(recent.i64("n")?).unwrap_or(u32::MAX);
    let oldest = recent.opt_i64("oldest")?.map(Timestamp);
    rules::may_report(n, oldest, new.created_at).map_err(StoreError::Refused)?;
    let (kind, data) = message.map(|(_, k, d)| (k, d)).unzip();
    let row = ex
        .one(
            "INSERT INTO reports (app_id, reporter_id, member_id, message_id, message_kind, \
             message_data, category, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            params![
                app.0,
                new.reporter.0,
                member,
                message_id,
                kind,
                data,
                new.category.as_str(),
                new.reason,
                new.created_at.0
            ],
        )
        .await?;
    let report = report(ex, app, ReportId(row.i64("id")?)).await?;
    Ok((report.ok_or(StoreError::NotFound(Entity::Report))?, true))
}

pub(crate) async fn reports(
    ex: &mut dyn Exec,
    app: AppId,
    status: Option<ReportStatus>,
    after: Option<ReportId>,
    limit: u32,
) -> StoreResult<Page<Report>> {
    let sql = format!(
        "{REPORT_SELECT} WHERE r.app_id = $1 AND ($2 IS NULL OR r.status = $2) AND r.id > $3 \
         ORDER BY r.id LIMIT $4"
    );
    let status = status.map(|s| s.as_str().to_owned());
    let after = after.map_or(0, |r| r.0);
    let rows = ex
        .all(&sql, params![app.0, status, after, i64::from(limit) + 1])
        .await?;
    let has_more = rows.len() > limit as usize;
    let rows = rows
        .iter()
        .take(limit as usize)
        .map(ReportRow::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let items = with_members(ex, app, rows).await?;
    Ok(Page { items, has_more })
}

pub(crate) async fn resolve_report(
    ex: &mut dyn Exec,
    app: AppId,
    id: ReportId,
    resolution: String,
    now: Timestamp,
) -> StoreResult<Option<Report>> {
    ex.execute(
        "UPDATE reports SET status = 'resolved', resolution = $1, resolved_at = $2 \
         WHERE id = $3 AND app_id = $4 AND status = 'open'",
        params![resolution, now.0, id.0, app.0],
    )
    .await?;
    report(ex, app, id).await
}

/// One of the app's reports.
async fn report(ex: &mut dyn Exec, app: AppId, id: ReportId) -> StoreResult<Option<Report>> {
    let sql = format!("{REPORT_SELECT} WHERE r.id = $1 AND r.app_id = $2");
    let Some(row) = ex.opt(&sql, params![id.0, app.0]).await? else {
        return Ok(None);
    };
    let rows = vec![ReportRow::from_row(&row)?];
    Ok(with_members(ex, app, rows).await?.pop())
}

/// The reports of `rows`, with their reporters and reported members read in one statement.
async fn with_members(
    ex: &mut dyn Exec,
    app: AppId,
    rows: Vec<ReportRow>,
) -> StoreResult<Vec<Report>> {
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.reporter_id, r.member_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut members = HashMap::with_capacity(ids.len());
    if !ids.is_empty() {
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND id IN ({})",
            marks.join(", ")
        );
        let mut args = vec![app.0.into()];
        args.extend(ids.iter().map(|&id| id.into()));
        for row in ex.all(&sql, &args).await? {
            let member = MemberRow::from_row(&row)?.into_member()?;
            members.insert(member.id.0, member);
        }
    }
    rows.into_iter().map(|r| r.into_report(&members)).collect()
}
