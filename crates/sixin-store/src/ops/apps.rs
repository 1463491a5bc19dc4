//! Apps: create, look up by key, list, require-sign, registration policy, own rate limits,
//! secret rotation, and the single-use
//! record of server tokens.

use super::prelude::*;

pub(crate) async fn create_app(ex: &mut dyn Exec, new: NewApp) -> StoreResult<App> {
    let sql = format!(
        "INSERT INTO apps (key, secret, name, require_sign, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {APP_COLS}"
    );
    let row = ex
        .one(
            &sql,
            params![
                new.key.as_str(),
                new.secret.0,
                new.name,
                new.require_sign,
                new.created_at.0
            ],
        )
        .await
        .map_err(unique(Entity::App))?;
    AppRow::from_row(&row)?.into_app()
}

pub(crate) async fn app_by_key(ex: &mut dyn Exec, key: &AppKey) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE key = $1");
    let row = ex.opt(&sql, params![key.as_str()]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn apps(ex: &mut dyn Exec) -> StoreResult<Vec<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps ORDER BY id");
    let rows = ex.all(&sql, params![]).await?;
    rows.iter()
        .map(|r| AppRow::from_row(r)?.into_app())
        .collect()
}

pub(crate) async fn set_require_sign(
    ex: &mut dyn Exec,
    key: &AppKey,
    on: bool,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET require_sign = $1 WHERE key = $2 RETURNING {APP_COLS}");
    let row = ex.opt(&sql, params![on, key.as_str()]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn set_registration(
    ex: &mut dyn Exec,
    app: AppId,
    policy: Registration,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET registration = $1 WHERE id = $2 RETURNING {APP_COLS}");
    let row = ex.opt(&sql, params![policy.as_str(), app.0]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn set_limits(
    ex: &mut dyn Exec,
    app: AppId,
    limits: Option<serde_json::Value>,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET limits = $1 WHERE id = $2 RETURNING {APP_COLS}");
    let text = limits.map(|v| v.to_string());
    let row = ex.opt(&sql, params![text, app.0]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn set_before_send(
    ex: &mut dyn Exec,
    app: AppId,
    hook: Option<serde_json::Value>,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET before_send = $1 WHERE id = $2 RETURNING {APP_COLS}");
    let text = hook.map(|v| v.to_string());
    let row = ex.opt(&sql, params![text, app.0]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

pub(crate) async fn set_member_tokens(
    ex: &mut dyn Exec,
    app: AppId,
    policy: MemberTokens,
) -> StoreResult<Option<App>> {
    let sql = format!("UPDATE apps SET member_tokens = $1 WHERE id = $2 RETURNING {APP_COLS}");
    let row = ex.opt(&sql, params![policy.as_str(), app.0]).await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

/// One statement: the right-hand sides read the row as it was, so the previous secret is the
/// one being replaced.
pub(crate) async fn rotate_secret(
    ex: &mut dyn Exec,
    app: AppId,
    new_secret: AppSecret,
    previous_until: Timestamp,
) -> StoreResult<Option<App>> {
    let sql = format!(
        "UPDATE apps SET previous_secret = secret, previous_secret_until = $1, secret = $2 \
         WHERE id = $3 RETURNING {APP_COLS}"
    );
    let row = ex
        .opt(&sql, params![previous_until.0, new_secret.0, app.0])
        .await?;
    row.map(|r| AppRow::from_row(&r)?.into_app()).transpose()
}

/// Prunes the app's expired token records, then inserts this one against the unique key:
/// `false` when it was there already (a replay).
pub(crate) async fn use_server_token(
    ex: &mut dyn Exec,
    app: AppId,
    jti: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<bool> {
    ex.execute(
        "DELETE FROM server_token_uses WHERE app_id = $1 AND expires_at <= $2",
        params![app.0, now.0],
    )
    .await?;
    let inserted = ex
        .execute(
            "INSERT INTO server_token_uses (app_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, jti) DO NOTHING",
            params![app.0, jti, expires_at.0],
        )
        .await?;
    Ok(inserted == 1)
}
