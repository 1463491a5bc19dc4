//! Members and sessions: create and look up members, credentials for login, the ban flag, sessions.

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
