//! Members: registration, login, sessions, profiles, bans.

use std::net::IpAddr;

use serde_json::Value;

use crate::auth;
use crate::bus::Revocation;
use crate::caller::Caller;
use crate::error::{Entity, Error, Result};
use crate::ids::{AppId, MemberId, MemberUuid};
use crate::limits::BucketKey;
use crate::model::{App, Login, Member, Profile, Registration};
use crate::store::{Ban, MemberRef, NewMember, NewSession};
use crate::{rules, validate, Core};

impl Core {
    /// A member registers themself in `app` (native `POST /v1/members`, YesApi
    /// `App.User.Register`) from the client IP `from`: [`Error::RegistrationClosed`] when the
    /// app's registration is closed; [`Error::RateLimited`] (`registrations`) when `from` has
    /// used up the app's `registrations_per_ip` on this node (every attempt counts, refused
    /// ones too, so the limit also bounds probing for taken usernames; no IP: no per-IP
    /// limit). Usernames are unique per app ([`Error::Conflict`]). The app's word list applies
    /// to the username and `ext_info.nickname` ([`Error::ContentRejected`]).
    pub async fn register(
        &self,
        app: &App,
        username: &str,
        password: &str,
        ext_info: Option<Value>,
        from: Option<IpAddr>,
    ) -> Result<Member> {
        if app.registration == Registration::Closed {
            return Err(Error::RegistrationClosed);
        }
        if let Some(ip) = from {
            let quota = self.limits_for(app).registrations_per_ip;
            self.take_ip_token(BucketKey::Registrations(app.id, ip), quota)?;
        }
        let ext_info = self.screen_registration(app, username, ext_info).await?;
        self.create_member(app, username, password, ext_info).await
    }

    /// The operator creates a member with a password (the CLI), whatever the app's
    /// registration policy. Usernames are unique per app ([`Error::Conflict`]).
    pub async fn create_member(
        &self,
        app: &App,
        username: &str,
        password: &str,
        ext_info: Option<Value>,
    ) -> Result<Member> {
        validate::username(username)?;
        validate::password(password)?;
        let ext_info = validate::ext_info(ext_info)?;
        let password_hash = self.hash_password(password).await?;
        let new = NewMember {
            uuid: MemberUuid::generate(),
            username: username.to_owned(),
            password_hash,
            ext_info,
            created_at: self.now(),
        };
        Ok(self.store().create_member(app.id, new).await?)
    }

    /// Opens a session of `member` that lives `ttl`; [`Error::Banned`] while a ban is in force.
    pub(crate) async fn open_session(
        &self,
        app: &App,
        member: Member,
        ttl: std::time::Duration,
    ) -> Result<Login> {
        let now = self.now();
        if rules::banned_at(&member, now) {
            return Err(Error::Banned);
        }
        let token = auth::new_token();
        let expires_at = now.plus(ttl);
        let session = NewSession {
            member: member.id,
            token_hash: auth::token_hash(&token),
            created_at: now,
            expires_at,
        };
        self.store().create_session(app.id, session).await?;
        Ok(Login {
            token,
            expires_at,
            member,
        })
    }

    /// The caller behind a session token, or behind an app-signed member token (a JWT; see
    /// `member_tokens`), wherever a member authenticates: native Bearer, `/v1/events`, YesApi
    /// and PhalApi `token`, Discuz `token`.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        if super::member_tokens::is_signed(token) {
            return self.member_token_caller(token).await;
        }
        if token.is_empty() || token.len() > 256 {
            return Err(Error::Unauthenticated);
        }
        self.session_caller(&auth::token_hash(token)).await
    }

    /// The caller behind a live session, by the token's hash: unknown, expired or revoked
    /// sessions are [`Error::Unauthenticated`], banned members [`Error::Banned`].
    pub(crate) async fn session_caller(&self, hash: &crate::ids::TokenHash) -> Result<Caller> {
        let info = self
            .store()
            .session(hash, self.now())
            .await?
            .ok_or(Error::Unauthenticated)?;
        if rules::banned_at(&info.member, self.now()) {
            return Err(Error::Banned);
        }
        Ok(Caller::new(info.app, info.member))
    }

    /// The caller behind `uuid` + `token` in `app` (YesApi and PhalApi): the token must be a
    /// live session of exactly that member of exactly that app.
    pub async fn authenticate_member(&self, app: &App, uuid: &str, token: &str) -> Result<Caller> {
        let caller = self.authenticate(token).await?;
        let same_member = MemberUuid::parse(uuid).is_some_and(|u| &u == caller.uuid());
        if caller.app_id() != app.id || !same_member {
            return Err(Error::Unauthenticated);
        }
        Ok(caller)
    }

    /// Revokes the session behind `token`, and then ends its open event streams on every node
    /// (the other sessions of the member keep theirs). Unknown tokens are
    /// [`Error::Unauthenticated`].
    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = auth::token_hash(token);
        // Who the session belongs to, for the revocation (expired sessions have no live
        // streams left to end: their next session check closes them).
        let owner = self.store().session(&hash, self.now()).await?;
        if !self.store().delete_session(&hash).await? {
            return Err(Error::Unauthenticated);
        }
        if let Some(info) = owner {
            let revocation = Revocation {
                app: info.app.id,
                member: info.member.id,
                session: Some(hash),
            };
            self.bus().revoke(revocation).await;
        }
        Ok(())
    }

    /// The public profile of a member of the caller's app.
    pub async fn profile(&self, caller: &Caller, uuid: &str) -> Result<Profile> {
        Ok(self.member_by_uuid(caller.app(), uuid).await?.profile())
    }

    /// A member of `app` by uuid; [`Error::NotFound`] for unknown or malformed uuids.
    pub async fn member_by_uuid(&self, app: &App, uuid: &str) -> Result<Member> {
        let uuid = MemberUuid::parse(uuid).ok_or(Error::NotFound(Entity::Member))?;
        self.store()
            .member(app.id, MemberRef::Uuid(&uuid))
            .await?
            .ok_or(Error::NotFound(Entity::Member))
    }

    /// Bans (`Some`: for good, or until a time, with an optional reason) or unbans (`None`) a
    /// member. A ban ends every session the member has, and then their open event streams on
    /// every node; a time-limited ban lapses by itself at its `until`.
    /// [`Error::Invalid`] for an `until` not in the future or a bad reason.
    pub async fn set_banned(&self, app: &App, uuid: &str, ban: Option<Ban>) -> Result<Member> {
        let ban = ban.map(|b| self.check_ban(b)).transpose()?;
        let member = self.member_by_uuid(app, uuid).await?;
        let banned = ban.is_some();
        let member = self
            .store()
            .set_banned(app.id, member.id, ban, self.now())
            .await?
            .ok_or(Error::NotFound(Entity::Member))?;
        if banned {
            self.end_sessions(app.id, member.id).await?;
        }
        Ok(member)
    }

    /// Revokes every session of a member, then tells every node to close their open event
    /// streams at once; how many sessions there were.
    pub(crate) async fn end_sessions(&self, app: AppId, member: MemberId) -> Result<u64> {
        let ended = self.store().revoke_sessions(app, member).await?;
        let revocation = Revocation {
            app,
            member,
            session: None,
        };
        self.bus().revoke(revocation).await;
        Ok(ended)
    }

    /// Mutes (`Some(until)`, for good when `until` is `None`) or unmutes (`None`) a member of
    /// `app`. A muted member may read; every send is [`Error::Muted`]. [`Error::Invalid`] for
    /// an `until` not in the future.
    pub async fn set_muted(
        &self,
        app: &App,
        uuid: &str,
        mute: Option<Option<crate::ids::Timestamp>>,
    ) -> Result<Member> {
        if let Some(until) = mute {
            self.check_until("until", until)?;
        }
        let member = self.member_by_uuid(app, uuid).await?;
        self.store()
            .set_muted(app.id, member.id, mute, self.now())
            .await?
            .ok_or(Error::NotFound(Entity::Member))
    }

    /// A ban's `until` must be in the future; its reason 1..=500 characters without control
    /// characters (blank: none).
    fn check_ban(&self, ban: Ban) -> Result<Ban> {
        self.check_until("until", ban.until)?;
        let reason = match ban.reason {
            Some(r) if r.trim().is_empty() => None,
            Some(r) if r.chars().count() > 500 || r.chars().any(char::is_control) => {
                return Err(Error::invalid(
                    "reason",
                    "must be at most 500 characters without control characters",
                ))
            }
            other => other,
        };
        Ok(Ban {
            until: ban.until,
            reason,
        })
    }

    /// An optional end time, which must be in the future.
    pub(crate) fn check_until(
        &self,
        field: &'static str,
        until: Option<crate::ids::Timestamp>,
    ) -> Result<()> {
        match until {
            Some(t) if t <= self.now() => Err(Error::invalid(
                field,
                "must be in the future (Unix milliseconds)",
            )),
            _ => Ok(()),
        }
    }

    pub(super) async fn hash_password(&self, password: &str) -> Result<String> {
        let cfg = self.config().clone();
        let password = password.to_owned();
        self.hashing(move || auth::hash_password(&cfg, &password))
            .await?
    }

    pub(super) async fn verify_password(&self, password: &str, hash: String) -> bool {
        let password = password.to_owned();
        self.hashing(move || auth::verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    }
}
