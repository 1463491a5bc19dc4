//! The block list and who may message a member: a member blocks and unblocks others and
//! chooses their own who-may-message-me setting; the app's backend sets the app's default.
//! The sends they govern are checked in the store's send transaction
//! ([`rules::may_open_direct`], [`rules::may_continue_direct`]).

use crate::caller::{AppCaller, Caller};
use crate::error::{Error, Result};
use crate::model::{App, DmPolicy, Member, Page};
use crate::store::{Block, BlockCursor};
use crate::{rules, Core};

/// A member's who-may-message-me setting: their own choice, and what is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmSetting {
    /// The member's own choice (`None`: the app's default applies).
    pub own: Option<DmPolicy>,
    /// What is in force: their own choice, else the app's default.
    pub effective: DmPolicy,
}

impl DmSetting {
    fn of(member: &Member, app: &App) -> DmSetting {
        DmSetting {
            own: member.dm_policy,
            effective: rules::effective_dm_policy(member.dm_policy, app.dm_policy),
        }
    }
}

impl Core {
    /// Blocks the member with `uuid` for the caller; blocking again changes nothing (the entry
    /// keeps its first time). [`Error::NotFound`] for an unknown member (or one of another
    /// app), [`Error::SelfSend`] for the caller, [`Error::Invalid`] for the app's system sender.
    pub async fn block(&self, caller: &Caller, uuid: &str) -> Result<Block> {
        let target = self.member_by_uuid(caller.app(), uuid).await?;
        rules::may_block(caller.member_id(), target.id, target.external_id.as_deref())?;
        let now = self.now();
        Ok(self
            .store()
            .block(caller.app_id(), caller.member_id(), target.id, now)
            .await?)
    }

    /// Lifts the caller's block of the member with `uuid`, if there is one (whether there was).
    /// Errors as [`Core::block`].
    pub async fn unblock(&self, caller: &Caller, uuid: &str) -> Result<bool> {
        let target = self.member_by_uuid(caller.app(), uuid).await?;
        rules::may_block(caller.member_id(), target.id, target.external_id.as_deref())?;
        Ok(self
            .store()
            .unblock(caller.app_id(), caller.member_id(), target.id)
            .await?)
    }

    /// A page of the caller's blocks, most recent first, after `after`.
    pub async fn blocks(
        &self,
        caller: &Caller,
        after: Option<BlockCursor>,
        limit: u32,
    ) -> Result<Page<Block>> {
        let limit = super::page_limit("limit", limit)?;
        Ok(self
            .store()
            .blocks(caller.app_id(), caller.member_id(), after, limit)
            .await?)
    }

    /// The caller's who-may-message-me setting.
    pub fn dm_setting(&self, caller: &Caller) -> DmSetting {
        DmSetting::of(caller.member(), caller.app())
    }

    /// Sets the caller's own who-may-message-me setting (`None`: follow the app's default).
    /// It governs new direct conversations only: those that exist carry on.
    pub async fn set_dm_policy(
        &self,
        caller: &Caller,
        policy: Option<DmPolicy>,
    ) -> Result<DmSetting> {
        let member = self
            .store()
            .set_dm_policy(caller.app_id(), caller.member_id(), policy)
            .await?
            .ok_or(Error::Unauthenticated)?;
        Ok(DmSetting::of(&member, caller.app()))
    }

    /// Sets the app's default who-may-message-me setting, for members who have not chosen.
    pub async fn set_app_dm_policy(&self, caller: &AppCaller, policy: DmPolicy) -> Result<App> {
        self.store()
            .set_app_dm_policy(caller.app_id(), policy)
            .await?
            .ok_or(Error::UnknownApp)
    }
}
