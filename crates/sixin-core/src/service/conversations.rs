//! The conversation list and detail, and groups.

use crate::bus::EventKind;
use crate::caller::Caller;
use crate::error::{Entity, Error, Result};
use crate::ids::{ConversationId, MemberId, MemberUuid};
use crate::model::{ConversationDetail, ConversationKind, ConversationSummary, Page, Profile};
use crate::store::{Actor, ListQuery, MembershipChange, NewGroup};
use crate::{rules, validate, Core};

/// Members named by a client for a group operation.
pub type GroupMembers = Vec<String>;

impl Core {
    /// The caller's conversations by last activity, newest first.
    pub async fn conversations(
        &self,
        caller: &Caller,
        query: ListQuery,
    ) -> Result<Page<ConversationSummary>> {
        super::page_limit("limit", query.limit)?;
        Ok(self
            .store()
            .conversations(caller.app_id(), caller.member_id(), query)
            .await?)
    }

    /// How many conversations (of one kind, or all) the caller belongs to.
    pub async fn conversation_count(
        &self,
        caller: &Caller,
        kind: Option<ConversationKind>,
    ) -> Result<u64> {
        Ok(self
            .store()
            .conversation_count(caller.app_id(), caller.member_id(), kind)
            .await?)
    }

    /// One conversation the caller belongs to, with participants and read states.
    pub async fn conversation(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> Result<ConversationDetail> {
        self.store()
            .conversation(caller.app_id(), caller.member_id(), id)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))
    }

    /// Current members of a conversation the caller belongs to.
    pub async fn participants(&self, caller: &Caller, id: ConversationId) -> Result<Vec<Profile>> {
        self.store()
            .participants(caller.app_id(), caller.member_id(), id)
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))
    }

    /// Creates a group owned by the caller with the named members (the caller is added anyway).
    /// [`Error::NotAccepted`] if one of them blocks the caller.
    pub async fn create_group(
        &self,
        caller: &Caller,
        subject: &str,
        members: GroupMembers,
    ) -> Result<MembershipChange> {
        let actor = Actor::Member(caller.member_id());
        self.create_group_as(caller, subject, members, actor).await
    }

    /// Creates a group owned by the caller, for `actor` (the caller, or the app's backend).
    pub(super) async fn create_group_as(
        &self,
        caller: &Caller,
        subject: &str,
        members: GroupMembers,
        actor: Actor,
    ) -> Result<MembershipChange> {
        validate::subject("subject", subject)?;
        let subject = self.screen_subject(caller, subject).await?;
        let max = self.config().max_group_members;
        let members = self.resolve(caller, &members, max).await?;
        rules::group_fits(members.len() + 1, max)?;
        let new = NewGroup {
            owner: caller.member_id(),
            actor,
            subject,
            members,
            max_members: max,
            created_at: self.now(),
        };
        let change = self.store().create_group(caller.app_id(), new).await?;
        self.announce_membership(caller, &change).await;
        Ok(change)
    }

    /// Adds members to a group the caller owns. [`Error::NotAccepted`] if one of the new
    /// members blocks the caller.
    pub async fn add_members(
        &self,
        caller: &Caller,
        group: ConversationId,
        members: GroupMembers,
    ) -> Result<MembershipChange> {
        if members.is_empty() {
            return Err(Error::invalid("members", "at least one member is required"));
        }
        let max = self.config().max_group_members;
        let ids = self.resolve(caller, &members, max).await?;
        let change = self
            .store()
            .add_members(
                caller.app_id(),
                Actor::Member(caller.member_id()),
                group,
                &ids,
                max,
                self.now(),
            )
            .await?;
        self.announce_membership(caller, &change).await;
        Ok(change)
    }

    /// Removes a member from a group (owner only), or the caller themself (leave).
    pub async fn remove_member(
        &self,
        caller: &Caller,
        group: ConversationId,
        member: &str,
    ) -> Result<MembershipChange> {
        let target = self.member_by_uuid(caller.app(), member).await?;
        let change = self
            .store()
            .remove_member(
                caller.app_id(),
                Actor::Member(caller.member_id()),
                group,
                target.id,
                self.now(),
            )
            .await?;
        self.announce_membership(caller, &change).await;
        Ok(change)
    }

    /// Leaves a group.
    pub async fn leave(&self, caller: &Caller, group: ConversationId) -> Result<MembershipChange> {
        let me = caller.uuid().as_str().to_owned();
        self.remove_member(caller, group, &me).await
    }

    /// Resolves client-named uuids to members of the caller's app: duplicates and the caller
    /// are dropped; any unknown uuid fails the whole call.
    async fn resolve(
        &self,
        caller: &Caller,
        uuids: &[String],
        max: usize,
    ) -> Result<Vec<MemberId>> {
        if uuids.len() > max {
            return Err(Error::TooManyRecipients { max });
        }
        let mut parsed = Vec::with_capacity(uuids.len());
        for raw in uuids {
            let uuid = MemberUuid::parse(raw.trim()).ok_or(Error::NotFound(Entity::Member))?;
            if &uuid != caller.uuid() {
                parsed.push(uuid);
            }
        }
        parsed.sort();
        parsed.dedup();
        let found = self
            .store()
            .members_by_uuids(caller.app_id(), &parsed)
            .await?;
        if found.len() != parsed.len() {
            return Err(Error::NotFound(Entity::Member));
        }
        no_system_sender(&found)?;
        let mut ids: Vec<MemberId> = found.into_iter().map(|m| m.id).collect();
        ids.sort();
        Ok(ids)
    }

    pub(super) async fn announce_membership(&self, caller: &Caller, change: &MembershipChange) {
        let kind = EventKind::Membership {
            conversation: change.conversation.id,
            added: change.added.clone(),
            removed: change.removed.clone(),
        };
        let deliveries = change.deliveries.clone();
        self.publish(caller, kind, deliveries, self.now()).await;
    }
}

/// The app's system sender never joins a group: it writes to members directly, and could
/// otherwise inherit a group nobody then manages.
pub(super) fn no_system_sender(members: &[crate::model::Member]) -> Result<()> {
    if members
        .iter()
        .any(|m| rules::is_system(m.external_id.as_deref()))
    {
        return Err(Error::invalid(
            "members",
            "the app's system sender cannot join a group",
        ));
    }
    Ok(())
}
