//! Password logins: a member's credentials with their lockout, the attempt counted before the
//! password is checked (the decision is [`rules::login_attempt`]'s), and the reset after a
//! right password. The lockout lives in the member's row, so every node sharing the database
//! sees one lockout.

use super::prelude::*;

pub(crate) async fn credentials(
    ex: &mut dyn Exec,
    app: AppId,
    username: &str,
) -> StoreResult<Option<Credentials>> {
    let sql = format!(
        "SELECT {MEMBER_COLS}, password_hash, failed_logins, login_locked_until \
         FROM members WHERE app_id = $1 AND username = $2"
    );
    let row = ex.opt(&sql, params![app.0, username]).await?;
    row.map(|r| {
        Ok(Credentials {
            member: MemberRow::from_row(&r)?.into_member()?,
            password_hash: r.text("password_hash")?,
            failed_logins: failures(r.i64("failed_logins")?),
            login_locked_until: r.opt_i64("login_locked_until")?.map(Timestamp),
        })
    })
    .transpose()
}

/// Reads the member's row under a row lock (PostgreSQL: concurrent attempts on one account
/// queue here, on every node; SQLite's single writer serialises them anyway), then stores what
/// the rule decided.
pub(crate) async fn count_login_attempt(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
    lockout: rules::Lockout,
    now: Timestamp,
) -> StoreResult<rules::LoginAttempt> {
    let sql = format!(
        "SELECT failed_logins, login_locked_until FROM members \
         WHERE id = $1 AND app_id = $2{}",
        ex.lock()
    );
    let row = ex
        .opt(&sql, params![member.0, app.0])
        .await?
        .ok_or(StoreError::NotFound(Entity::Member))?;
    let before = failures(row.i64("failed_logins")?);
    let locked_until = row.opt_i64("login_locked_until")?.map(Timestamp);
    let attempt = rules::login_attempt(before, locked_until, now, lockout);
    if let rules::LoginAttempt::Counted {
        failures,
        locked_until,
    } = attempt
    {
        ex.execute(
            "UPDATE members SET failed_logins = $1, login_locked_until = $2 WHERE id = $3",
            params![i64::from(failures), locked_until.map(|t| t.0), member.0],
        )
        .await?;
    }
    Ok(attempt)
}

pub(crate) async fn reset_failed_logins(
    ex: &mut dyn Exec,
    app: AppId,
    member: MemberId,
) -> StoreResult<()> {
    ex.execute(
        "UPDATE members SET failed_logins = 0, login_locked_until = NULL \
         WHERE id = $1 AND app_id = $2",
        params![member.0, app.0],
    )
    .await?;
    Ok(())
}

/// A stored count (never negative; the rule caps it far below `u32::MAX`).
fn failures(stored: i64) -> u32 {
    u32::try_from(stored.max(0)).unwrap_or(u32::MAX)
}
