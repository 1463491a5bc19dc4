//! Members: registration, login, sessions, profiles, bans.

use serde_json::Value;

use crate::auth;
use crate::bus::Revocation;
use crate::caller::Caller;
use crate::error::{Entity, Error, Result};
use crate::ids::MemberUuid;
use crate::model::{App, Login, Member, Profile};
use crate::store::{MemberRef, NewMember, NewSession};
use crate::{validate, Core};

impl Core {
    /// Registers a member of `app`. Usernames are unique per app ([`Error::Conflict`]).
    pub async fn register(
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

    /// Checks a username and password and opens a session.
    pub async fn login(&self, app: &App, username: &str, password: &str) -> Result<Login> {
        validate::no_nul("username", username)?;
        validate::no_nul("password", password)?;
        let found = self.store().credentials(app.id, username).await?;
        let (member, hash) = match found {
            Some(pair) => pair,
            None => {
                // Spend what a verification would, so timing does not reveal which usernames
                // exist.
                let _ = self.hash_password(password).await;
                return Err(Error::BadCredentials);
            }
        };
        if !self.verify_password(password, hash).await {
            return Err(Error::BadCredentials);
        }
        if member.banned {
            return Err(Error::Banned);
        }
        let token = auth::new_token();
        let now = self.now();
        let expires_at = now.plus(self.config().session_ttl);
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

    /// The caller behind a session token (native Bearer, Discuz `token`).
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
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
        if info.member.banned {
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

    /// Bans or unbans a member. A ban ends every session the member has, and then their open
    /// event streams on every node.
    pub async fn set_banned(&self, app: &App, uuid: &str, banned: bool) -> Result<Member> {
        let member = self.member_by_uuid(app, uuid).await?;
        let member = self
            .store()
            .set_banned(app.id, member.id, banned)
            .await?
            .ok_or(Error::NotFound(Entity::Member))?;
        if banned {
            self.store().revoke_sessions(app.id, member.id).await?;
            let revocation = Revocation {
                app: app.id,
                member: member.id,
                session: None,
            };
            self.bus().revoke(revocation).await;
        }
        Ok(member)
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        let cfg = self.config().clone();
        let password = password.to_owned();
        self.hashing(move || auth::hash_password(&cfg, &password))
            .await?
    }

    async fn verify_password(&self, password: &str, hash: String) -> bool {
        let password = password.to_owned();
        self.hashing(move || auth::verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    }
}
