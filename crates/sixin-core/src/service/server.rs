//! The server API: what an app's backend does for the app. The backend proves itself with a
//! short-lived, single-use JWT signed with the app secret ([`Core::authenticate_server`]), and
//! every operation takes the [`AppCaller`] that proves, confined to that app: provision members
//! under the app's own ids, issue and revoke their sessions, ban and mute them, and set the
//! app's registration policy.
//!
//! Why a JWT and not a static API key (Sendbird's `Api-Token`), a token without expiry (Stream's
//! default server token) or a signature in the query string (Tencent's `UserSig`): the secret
//! never travels, a captured token dies within `server_token_max_lifetime` (5 minutes by
//! default), and its `jti` is refused a second time on every node sharing the database.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::caller::AppCaller;
use crate::config::SERVER_TOKEN_SKEW;
use crate::error::{Entity, Error, Result, ServerTokenProblem};
use crate::ids::{AppSecret, MemberId, MemberUuid, Timestamp};
use crate::model::{App, Login, Member, MemberTokens, Page, Registration};
use crate::store::{Ban, MemberRef, UpsertMember, Upserted};
use crate::{auth, rules, validate, Core};

/// The audience every server API token must name, so no other JWT signed with the app secret
/// (a member token, say) opens the server API.
pub const SERVER_AUDIENCE: &str = "sixin-server";

/// The longest server token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// How the backend names a member in a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberLookup<'a> {
    ExternalId(&'a str),
    Username(&'a str),
    Uuid(&'a str),
}

/// A server token's claims, as sent (types are checked one by one, to say which is wrong).
#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<Value>,
    aud: Option<Value>,
    iat: Option<Value>,
    exp: Option<Value>,
    jti: Option<Value>,
}

impl Core {
    /// The app backend behind a server API token: an HS256 JWT signed with the app secret,
    /// with `iss` = the app key, `aud` = [`SERVER_AUDIENCE`], `iat` and `exp` (Unix seconds;
    /// `exp` in the future, `iat` at most 30 s ahead of this node's clock, `exp - iat` at most
    /// `server_token_max_lifetime`) and a `jti` used once. [`Error::BadServerToken`] with the
    /// reason otherwise.
    pub async fn authenticate_server(&self, token: Option<&str>) -> Result<AppCaller> {
        use ServerTokenProblem as P;
        let refuse = |p: P| Error::BadServerToken(p);
        let token = token.filter(|t| !t.is_empty()).ok_or(refuse(P::Missing))?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refuse(P::Malformed));
        }
        let (alg, unverified) = auth::jwt_peek::<Claims>(token).ok_or(refuse(P::Malformed))?;
        if alg != "HS256" {
            return Err(refuse(P::Algorithm));
        }
        let iss = unverified
            .iss
            .as_ref()
            .and_then(Value::as_str)
            .ok_or(refuse(P::MissingClaim("iss")))?;
        let app = self.app_by_key(iss).await.map_err(|e| match e {
            Error::UnknownApp => refuse(P::UnknownApp),
            other => other,
        })?;
        let claims = verify(token, self.accepted_secrets(&app))?;
        let aud_ok = match claims.aud.as_ref().ok_or(refuse(P::MissingClaim("aud")))? {
            Value::String(a) => a == SERVER_AUDIENCE,
            Value::Array(all) => all.iter().any(|a| a.as_str() == Some(SERVER_AUDIENCE)),
            _ => return Err(refuse(P::MissingClaim("aud"))),
        };
        if !aud_ok {
            return Err(refuse(P::Audience));
        }
        let iat = seconds(claims.iat.as_ref()).ok_or(refuse(P::MissingClaim("iat")))?;
        let exp = seconds(claims.exp.as_ref()).ok_or(refuse(P::MissingClaim("exp")))?;
        let jti = claims
            .jti
            .as_ref()
            .and_then(Value::as_str)
            .filter(|j| (1..=128).contains(&j.len()) && j.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or(refuse(P::MissingClaim("jti")))?;
        let now = self.now();
        let now_s = now.unix_seconds();
        let skew = secs(SERVER_TOKEN_SKEW);
        if exp <= now_s {
            return Err(refuse(P::Expired));
        }
        if iat > now_s.saturating_add(skew) {
            return Err(refuse(P::IssuedInFuture));
        }
        if exp <= iat {
            return Err(refuse(P::Malformed));
        }
        if exp.saturating_sub(iat) > secs(self.config().server_token_max_lifetime) {
            return Err(refuse(P::TooLong));
        }
        let expires_at = Timestamp(exp.saturating_mul(1000));
        if !self
            .store()
            .use_server_token(app.id, jti, expires_at, now)
            .await?
        {
            return Err(refuse(P::Replayed));
        }
        Ok(AppCaller::new(app))
    }

    /// Sets what an app-signed member token naming an unknown member does: refused
    /// (`existing`) or the member is created from its claims (`provision`).
    pub async fn set_member_tokens(&self, caller: &AppCaller, policy: MemberTokens) -> Result<App> {
        self.store()
            .set_member_tokens(caller.app_id(), policy)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Sets the app's registration policy.
    pub async fn set_registration(&self, caller: &AppCaller, policy: Registration) -> Result<App> {
        self.store()
            .set_registration(caller.app_id(), policy)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Creates the member with the app's own id `external_id` (a `username` is then required)
    /// or updates the fields given. Provisioned members have no password. [`Error::Conflict`]
    /// when the username is another member's.
    pub async fn upsert_member(
        &self,
        caller: &AppCaller,
        external_id: &str,
        username: Option<&str>,
        ext_info: Option<Value>,
    ) -> Result<(Member, Upserted)> {
        external_id_ok(external_id)?;
        if let Some(u) = username {
            validate::username(u)?;
        }
        let ext_info = match ext_info {
            None => None,
            given => Some(validate::ext_info(given)?),
        };
        let up = UpsertMember {
            external_id: external_id.to_owned(),
            uuid: MemberUuid::generate(),
            username: username.map(str::to_owned),
            ext_info,
            created_at: self.now(),
        };
        let (member, done) = self
            .store()
            .upsert_member(caller.app_id(), up)
            .await?
            .ok_or_else(|| Error::invalid("username", "is required to create a member"))?;
        Ok((self.in_force(member), done))
    }

    /// One member of the app, by the app's id, username or uuid; [`Error::NotFound`] if none.
    pub async fn find_member(&self, caller: &AppCaller, by: MemberLookup<'_>) -> Result<Member> {
        let uuid;
        let by = match by {
            MemberLookup::ExternalId(e) => MemberRef::ExternalId(e),
            MemberLookup::Username(u) => MemberRef::Username(u),
            MemberLookup::Uuid(u) => {
                uuid = MemberUuid::parse(u).ok_or(Error::NotFound(Entity::Member))?;
                MemberRef::Uuid(&uuid)
            }
        };
        let member = self
            .store()
            .member(caller.app_id(), by)
            .await?
            .ok_or(Error::NotFound(Entity::Member))?;
        Ok(self.in_force(member))
    }

    /// A page of the app's members in id order, after `after`.
    pub async fn list_members(
        &self,
        caller: &AppCaller,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Page<Member>> {
        let limit = super::page_limit("limit", limit)?;
        let page = self
            .store()
            .members_page(caller.app_id(), after, limit)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|m| self.in_force(m)).collect(),
            has_more: page.has_more,
        })
    }

    /// A session token for the member with `external_id`, usable wherever a login's is; it
    /// lives `ttl` (1 s or more), at most `session_ttl` (the default). [`Error::Banned`] while a
    /// ban is in force.
    pub async fn issue_session(
        &self,
        caller: &AppCaller,
        external_id: &str,
        ttl: Option<Duration>,
    ) -> Result<Login> {
        let max = self.config().session_ttl;
        let ttl = match ttl {
            Some(t) if t < Duration::from_secs(1) => {
                return Err(Error::invalid("ttl_secs", "must be at least 1"))
            }
            Some(t) => t.min(max),
            None => max,
        };
        let member = self.by_external_id(caller, external_id).await?;
        let mut login = self.open_session(caller.app(), member, ttl).await?;
        login.member = self.in_force(login.member);
        Ok(login)
    }

    /// Ends every session of the member with `external_id`, and their open event streams on
    /// every node at once; how many sessions there were.
    pub async fn revoke_member_sessions(
        &self,
        caller: &AppCaller,
        external_id: &str,
    ) -> Result<u64> {
        let member = self.by_external_id(caller, external_id).await?;
        self.end_sessions(caller.app_id(), member.id).await
    }

    /// Bans (`Some`) or unbans (`None`) the member with `external_id`, through
    /// [`Core::set_banned`]: a ban ends every session at once.
    pub async fn ban_member(
        &self,
        caller: &AppCaller,
        external_id: &str,
        ban: Option<Ban>,
    ) -> Result<Member> {
        let member = self.by_external_id(caller, external_id).await?;
        let member = self
            .set_banned(caller.app(), member.uuid.as_str(), ban)
            .await?;
        Ok(self.in_force(member))
    }

    /// Mutes (`Some(until)`, for good when `until` is `None`) or unmutes (`None`) the member
    /// with `external_id`. A muted member may read; every send is [`Error::Muted`].
    pub async fn mute_member(
        &self,
        caller: &AppCaller,
        external_id: &str,
        mute: Option<Option<Timestamp>>,
    ) -> Result<Member> {
        let member = self.by_external_id(caller, external_id).await?;
        let member = self
            .set_muted(caller.app(), member.uuid.as_str(), mute)
            .await?;
        Ok(self.in_force(member))
    }

    /// The operator acting for the app with `key`: the CLI, which holds the database itself,
    /// may do whatever the app's backend may. [`Error::UnknownApp`] for an unknown key.
    pub async fn act_for_app(&self, key: &str) -> Result<AppCaller> {
        Ok(AppCaller::new(self.app_by_key(key).await?))
    }

    async fn by_external_id(&self, caller: &AppCaller, external_id: &str) -> Result<Member> {
        external_id_ok(external_id)?;
        self.find_member(caller, MemberLookup::ExternalId(external_id))
            .await
    }

    /// The member as things stand now: a ban or mute that has lapsed is shown as none.
    pub fn in_force(&self, mut m: Member) -> Member {
        let now = self.now();
        if !rules::banned_at(&m, now) {
            m.banned = false;
            m.banned_until = None;
            m.ban_reason = None;
        }
        if !rules::muted_at(&m, now) {
            m.muted = false;
            m.muted_until = None;
        }
        m
    }
}

/// An app's own member id: 1..=128 characters, no control characters, not blank, not starting
/// with [`rules::RESERVED_PREFIX`] (the system sender's is `sixin:system`).
pub(crate) fn external_id_ok(s: &str) -> Result<()> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > 128 || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            "external_id",
            "must be 1..128 characters without control characters",
        ));
    }
    if s.starts_with(rules::RESERVED_PREFIX) {
        return Err(Error::invalid(
            "external_id",
            "must not start with sixin: (reserved)",
        ));
    }
    Ok(())
}

/// The claims once the signature verifies with one of `secrets`, or why not.
fn verify<'a>(token: &str, secrets: impl Iterator<Item = &'a AppSecret>) -> Result<Claims> {
    use jsonwebtoken::errors::ErrorKind;
    auth::jwt_verify(token, secrets).map_err(|kind| {
        Error::BadServerToken(match kind {
            ErrorKind::InvalidSignature => ServerTokenProblem::Signature,
            ErrorKind::InvalidAlgorithm => ServerTokenProblem::Algorithm,
            _ => ServerTokenProblem::Malformed,
        })
    })
}

/// A NumericDate claim as whole seconds (integers, or numbers with a fraction, truncated).
fn seconds(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15)?;
    // In range: the cast is exact for the integer part.
    Some(f.trunc() as i64)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
