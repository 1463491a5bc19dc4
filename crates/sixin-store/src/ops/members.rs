//! Members and sessions: create and look up members, credentials for login, the ban flag, sessions.

use sixin_core::webhook::MemberChange;

use super::outbox::record_member;
use super::prelude::*;

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
    record_member(ex, app, MemberChange::Created, &member, new.created_at).await?;
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
        MemberRef::ExternalId(e) => ("external_id", e.into()),
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

pub(crate) async fn members_by_external_ids(
    ex: &mut dyn Exec,
    app: AppId,
    ids: &[String],
) -> StoreResult<Vec<Member>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND external_id IN ({})",
        placeholders.join(", ")
    );
    let mut args = Vec::with_capacity(ids.len() + 1);
    args.push(app.0.into());
    args.extend(ids.iter().map(|e| e.as_str().into()));
    let rows = ex.all(&sql, &args).await?;
    rows.iter()
        .map(|r| MemberRow::from_row(r)?.into_member())
        .collect()
}

pub(crate) async fn set_banned(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    ban: Option<Ban>,
    now: Timestamp,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "UPDATE members SET banned = $1, banned_until = $2, ban_reason = $3 \
         WHERE id = $4 AND app_id = $5 RETURNING {MEMBER_COLS}"
    );
    let banned = ban.is_some();
    let (until, reason) = ban.map_or((None, None), |b| (b.until.map(|t| t.0), b.reason));
    let row = ex
        .opt(&sql, params![banned, until, reason, member.0, app.0])
        .await?;
    let Some(row) = row else { return Ok(None) };
    let member = MemberRow::from_row(&row)?.into_member()?;
    let change = if banned {
        MemberChange::Banned
    } else {
        MemberChange::Unbanned
    };
    record_member(ex, app, change, &member, now).await?;
    Ok(Some(member))
}

pub(crate) async fn set_muted(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    mute: Option<Option<Timestamp>>,
    now: Timestamp,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "UPDATE members SET muted = $1, muted_until = $2 \
         WHERE id = $3 AND app_id = $4 RETURNING {MEMBER_COLS}"
    );
    let until = mute.flatten().map(|t| t.0);
    let row = ex
        .opt(&sql, params![mute.is_some(), until, member.0, app.0])
        .await?;
    let Some(row) = row else { return Ok(None) };
    let member = MemberRow::from_row(&row)?.into_member()?;
    let change = if mute.is_some() {
        MemberChange::Muted
    } else {
        MemberChange::Unmuted
    };
    record_member(ex, app, change, &member, now).await?;
    Ok(Some(member))
}

/// Inserts unless the app already has a member with this external id (one statement, so
/// concurrent upserts of one id create one member), then updates the fields given.
pub(crate) async fn upsert_member(
    ex: &mut dyn Exec,
    app: AppId,
    up: UpsertMember,
) -> StoreResult<Option<(Member, Upserted)>> {
    let ext_info = up.ext_info.as_ref().map(ToString::to_string);
    if let Some(username) = &up.username {
        let sql = format!(
            "INSERT INTO members \
             (app_id, uuid, username, password_hash, ext_info, external_id, created_at) \
             VALUES ($1, $2, $3, '', $4, $5, $6) \
             ON CONFLICT (app_id, external_id) DO NOTHING RETURNING {MEMBER_COLS}"
        );
        let args = params![
            app.0,
            up.uuid.as_str(),
            username,
            ext_info.clone().unwrap_or_else(|| "{}".to_owned()),
            up.external_id.as_str(),
            up.created_at.0
        ];
        let row = ex.opt(&sql, args).await.map_err(unique(Entity::Username))?;
        if let Some(row) = row {
            let member = MemberRow::from_row(&row)?.into_member()?;
            ex.execute(
                "INSERT INTO member_streams (member_id) VALUES ($1)",
                params![member.id.0],
            )
            .await?;
            record_member(ex, app, MemberChange::Created, &member, up.created_at).await?;
            return Ok(Some((member, Upserted::Created)));
        }
    }
    let sql = format!(
        "UPDATE members SET username = COALESCE($1, username), \
         ext_info = COALESCE($2, ext_info) \
         WHERE app_id = $3 AND external_id = $4 RETURNING {MEMBER_COLS}"
    );
    let args = params![up.username, ext_info, app.0, up.external_id.as_str()];
    let row = ex.opt(&sql, args).await.map_err(unique(Entity::Username))?;
    row.map(|r| Ok((MemberRow::from_row(&r)?.into_member()?, Upserted::Updated)))
        .transpose()
}

pub(crate) async fn members_page(
    ex: &mut dyn Exec,
    app: AppId,
    after: Option<MemberId>,
    limit: u32,
) -> StoreResult<Page<Member>> {
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let after = after.map_or(0, |m| m.0);
    let rows = ex
        .all(&sql, params![app.0, after, i64::from(limit) + 1])
        .await?;
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(|r| MemberRow::from_row(r)?.into_member())
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page { items, has_more })
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

pub(crate) async fn revoke_sessions(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
) -> StoreResult<u64> {
    ex.execute(
        "DELETE FROM sessions WHERE member_id = $1 AND app_id = $2",
        params![member.0, app.0],
    )
    .await
    .map_err(Into::into)
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

/// An owned [`MemberRef`], to move into a job.
pub(crate) enum OwnedRef {
    Id(MemberId),
    Uuid(MemberUuid),
    Username(String),
    ExternalId(String),
}

impl OwnedRef {
    pub(crate) fn new(by: MemberRef<'_>) -> Self {
        match by {
            MemberRef::Id(id) => OwnedRef::Id(id),
            MemberRef::Uuid(u) => OwnedRef::Uuid(u.clone()),
            MemberRef::Username(u) => OwnedRef::Username(u.to_owned()),
            MemberRef::ExternalId(e) => OwnedRef::ExternalId(e.to_owned()),
        }
    }

    pub(crate) fn get(&self) -> MemberRef<'_> {
        match self {
            OwnedRef::Id(id) => MemberRef::Id(*id),
            OwnedRef::Uuid(u) => MemberRef::Uuid(u),
            OwnedRef::Username(u) => MemberRef::Username(u),
            OwnedRef::ExternalId(e) => MemberRef::ExternalId(e),
        }
    }
}
