//! App-signed member tokens: a member's client presents a JWT its app's backend signed with the
//! app secret, accepted wherever a session token is (native Bearer, `/v1/events`, YesApi and
//! PhalApi `token`, Discuz `token`), so a member of the app's own accounts needs no second
//! password and no login call.
//!
//! The token: header `alg` HS256 (nothing else, `none` included); claims `iss` = the app key,
//! `sub` = the member's `external_id`, `exp` required (in the future, and at most
//! [`CoreConfig::member_token_max_lifetime`](crate::CoreConfig) after `iat`, or after now without
//! `iat`), `iat` optional (at most [`SERVER_TOKEN_SKEW`] ahead), `aud` optional but never the
//! server API's audience (a server token is not a member token, nor the other way round), and,
//! for a first use that provisions the member, `name` (the username; `sub` when absent) and
//! `ext_info`. Every refusal is [`Error::Unauthenticated`]; the reason is logged at `debug`.

use serde::Deserialize;
use serde_json::Value;

use super::server::SERVER_AUDIENCE;
use crate::auth;
use crate::caller::{AppCaller, Caller};
use crate::config::SERVER_TOKEN_SKEW;
use crate::error::{Error, Result};
use crate::model::{App, Member, MemberTokens};
use crate::store::MemberRef;
use crate::{rules, Core};

/// The longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// Whether `token` has the shape of a JWT (three dot-separated parts) rather than of a session
/// token (64 hex digits).
pub(crate) fn is_signed(token: &str) -> bool {
    token.len() <= MAX_TOKEN_BYTES && token.bytes().filter(|b| *b == b'.').count() == 2
}

/// A member token's claims, as sent.
#[derive(Debug, Deserialize)]
struct MemberClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    iat: Option<f64>,
    exp: Option<f64>,
    name: Option<String>,
    ext_info: Option<Value>,
}

impl Core {
    /// The member behind an app-signed member token (see the module documentation); the first
    /// use provisions the member when the app's policy is [`MemberTokens::Provision`].
    pub(crate) async fn member_token_caller(&self, token: &str) -> Result<Caller> {
        let refuse = |why: &str| {
            tracing::debug!(reason = why, "app-signed member token refused: {why}");
            Error::Unauthenticated
        };
        let (alg, unverified) =
            auth::jwt_peek::<MemberClaims>(token).ok_or_else(|| refuse("not a JWT"))?;
        if alg != "HS256" {
            return Err(refuse("algorithm other than HS256"));
        }
        let iss = unverified.iss.ok_or_else(|| refuse("no iss"))?;
        // An unknown app is a refused token; a store that cannot answer stays `Unavailable`
        // (a database outage must not look like a bad token).
        let app = self.app_by_key(&iss).await.map_err(|e| match e {
            Error::UnknownApp => refuse("unknown app"),
            other => other,
        })?;
        let claims = self
            .verified(token, &app)
            .ok_or_else(|| refuse("bad signature"))?;
        self.check_times(&claims).map_err(refuse)?;
        if audience_is_server(claims.aud.as_ref()) {
            return Err(refuse("a server API token"));
        }
        let sub = claims.sub.as_deref().ok_or_else(|| refuse("no sub"))?;
        let member = match self
            .store()
            .member(app.id, MemberRef::ExternalId(sub))
            .await?
        {
            Some(m) => m,
            None if app.member_tokens == MemberTokens::Provision => {
                self.provision(&app, sub, &claims).await?
            }
            None => {
                return Err(refuse(
                    "no member with this sub, and the app does not provision",
                ))
            }
        };
        if rules::banned_at(&member, self.now()) {
            return Err(Error::Banned);
        }
        Ok(Caller::new(app, member))
    }

    /// The claims if the signature verifies with the app's secret (or, during a rotation's
    /// grace period, its previous one).
    fn verified(&self, token: &str, app: &App) -> Option<MemberClaims> {
        auth::jwt_verify(token, self.accepted_secrets(app)).ok()
    }

    /// `exp` in the future and within the lifetime limit; `iat`, when given, not ahead.
    fn check_times(&self, c: &MemberClaims) -> std::result::Result<(), &'static str> {
        let now = self.now().unix_seconds();
        let exp = c.exp.filter(|e| e.is_finite()).ok_or("no exp")?.trunc() as i64;
        let iat = c.iat.filter(|i| i.is_finite()).map(|i| i.trunc() as i64);
        let skew = i64::try_from(SERVER_TOKEN_SKEW.as_secs()).unwrap_or(i64::MAX);
        let max = self.config().member_token_max_lifetime.as_secs();
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        if exp <= now {
            return Err("expired");
        }
        if iat.is_some_and(|i| i > now.saturating_add(skew)) {
            return Err("iat in the future");
        }
        if exp.saturating_sub(iat.unwrap_or(now)) > max {
            return Err("lifetime over server_api.member_token_max_secs");
        }
        Ok(())
    }

    /// Creates the member `sub` names from the token's `name` and `ext_info` (the first use).
    async fn provision(&self, app: &App, sub: &str, claims: &MemberClaims) -> Result<Member> {
        let name = claims.name.as_deref().unwrap_or(sub);
        let caller = AppCaller::new(app.clone());
        let (member, _) = self
            .upsert_member(&caller, sub, Some(name), claims.ext_info.clone())
            .await?;
        Ok(member)
    }
}

fn audience_is_server(aud: Option<&Value>) -> bool {
    match aud {
        Some(Value::String(a)) => a == SERVER_AUDIENCE,
        Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(SERVER_AUDIENCE)),
        _ => false,
    }
}
