//! What an app's backend does in the members' place (the server API's messages and groups):
//! send as a member or as the app's system sender, create a group for a member, add and
//! remove group members as the app.
//!
//! Sending as a member builds a [`Caller`] for them and goes through [`Core::send`] and
//! [`Core::multi_send`], so every rule of a member's own send applies unchanged (validation,
//! mutes, membership, per-recipient multi-send results, the recipients' blocks and
//! who-may-message-me settings). The backend does not bypass moderation: a banned member is
//! [`Error::Banned`], a muted one [`Error::Muted`]. Its sends are not rate limited (no sends
//! bucket, no daily cap on new direct conversations), and the system sender's notices are held
//! to no block or setting.
//!
//! The system sender is one reserved member per app (external id
//! [`rules::SYSTEM_EXTERNAL_ID`], username [`rules::SYSTEM_USERNAME`], no password: nobody logs
//! in as it), created on first use. It writes to members only (one or many), never into a
//! conversation by id; nobody writes to it ([`rules::may_write_to`]): its messages are notices.
//!
//! Group membership changes by the app pass [`Actor::App`] to the store, which applies
//! [`rules::may_add_members`] / [`rules::may_remove`] in its transaction as for a member: the
//! app is above the owner, the group size limit still holds.

use crate::caller::{AppCaller, Caller};
use crate::config::MAX_MULTI_SEND;
use crate::error::{Entity, Error, Result};
use crate::ids::{ConversationId, MemberId, MemberUuid};
use crate::model::{Member, MessageType, MultiSendItem, Sent};
use crate::store::{Actor, MemberRef, MembershipChange, UpsertMember};
use crate::{rules, Core, Event, EventKind};

use super::messages::{MultiSend, Origin, Recipient, SendMessage};
use super::server::external_id_ok;

/// A member as the app's backend names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppMember {
    /// The app's own id for the member.
    ExternalId(String),
    /// sixin's uuid for the member.
    Uuid(String),
}

impl AppMember {
    /// The reference as given (what a multi-send result echoes).
    pub fn as_given(&self) -> &str {
        match self {
            AppMember::ExternalId(s) | AppMember::Uuid(s) => s,
        }
    }
}

/// Who a backend send is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppSender {
    /// A member of the app, as if they had sent it themself.
    Member(AppMember),
    /// The app's system sender: notices nobody can answer.
    System,
}

/// Where a backend send goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRecipients {
    /// One member: the direct conversation with them.
    One(AppMember),
    /// 1..=200 members, one direct message each (the multi-send rules).
    Many(Vec<AppMember>),
    /// A conversation the sender belongs to (members only, not the system sender).
    Conversation(ConversationId),
}

/// A send by the app's backend, as asked (not yet validated).
#[derive(Debug, Clone, PartialEq)]
pub struct AppSend {
    pub from: AppSender,
    pub to: AppRecipients,
    pub kind: MessageType,
    pub data: serde_json::Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
}

/// What a backend send did: one message, or one result per recipient in request order (each
/// `to` as the backend gave it).
#[derive(Debug)]
pub enum AppSent {
    One(Box<Sent>),
    Many(Vec<MultiSendItem>),
}

impl Core {
    /// The app's system sender, created on first use.
    pub async fn system_member(&self, app: &AppCaller) -> Result<Member> {
        let by = MemberRef::ExternalId(rules::SYSTEM_EXTERNAL_ID);
        if let Some(m) = self.store().member(app.app_id(), by).await? {
            return Ok(m);
        }
        let up = UpsertMember {
            external_id: rules::SYSTEM_EXTERNAL_ID.to_owned(),
            uuid: MemberUuid::generate(),
            username: Some(rules::SYSTEM_USERNAME.to_owned()),
            ext_info: None,
            created_at: self.now(),
        };
        let (member, _) = self
            .store()
            .upsert_member(app.app_id(), up)
            .await?
            .ok_or_else(|| Error::Internal("system sender not created".into()))?;
        Ok(member)
    }

    /// A member of the app, as the backend names them; [`Error::NotFound`] if none (a member
    /// of another app is none).
    async fn app_member(&self, app: &AppCaller, who: &AppMember) -> Result<Member> {
        let uuid;
        let by = match who {
            AppMember::ExternalId(e) => MemberRef::ExternalId(e),
            AppMember::Uuid(u) => {
                uuid = MemberUuid::parse(u.trim()).ok_or(Error::NotFound(Entity::Member))?;
                MemberRef::Uuid(&uuid)
            }
        };
        self.store()
            .member(app.app_id(), by)
            .await?
            .ok_or(Error::NotFound(Entity::Member))
    }

    /// The [`Caller`] the backend acts as (named in `field`): a member of its app, not banned
    /// (the backend does not bypass a ban; a mute is checked by each send). The system sender
    /// is named by [`AppSender::System`] only, never by its external id or uuid, so it neither
    /// posts into conversations nor owns groups.
    async fn act_as(
        &self,
        app: &AppCaller,
        who: &AppMember,
        field: &'static str,
    ) -> Result<Caller> {
        if let AppMember::ExternalId(e) = who {
            external_id_ok(e).map_err(|_| {
                Error::invalid(
                    field,
                    "external_id: 1..128 characters, not starting with sixin:",
                )
            })?;
        }
        let member = self.app_member(app, who).await?;
        if rules::is_system(member.external_id.as_deref()) {
            return Err(Error::invalid(
                field,
                "the system sender is named \"system\", and only as a sender",
            ));
        }
        if rules::banned_at(&member, self.now()) {
            return Err(Error::Banned);
        }
        Ok(Caller::for_app(app.app().clone(), member))
    }

    /// Sends as a member of the app or as its system sender, through [`Core::send`] (one
    /// recipient or a conversation) or [`Core::multi_send`] (a list).
    pub async fn app_send(&self, app: &AppCaller, req: AppSend) -> Result<AppSent> {
        let caller = match &req.from {
            AppSender::Member(who) => self.act_as(app, who, "from").await?,
            AppSender::System => Caller::for_app(app.app().clone(), self.system_member(app).await?),
        };
        let system = req.from == AppSender::System;
        let origin = if system {
            Origin::Notice
        } else {
            Origin::Backend
        };
        match req.to {
            AppRecipients::One(to) => {
                let peer = self.app_member(app, &to).await?;
                let send = SendMessage {
                    to: Recipient::Member(peer.uuid.as_str().to_owned()),
                    kind: req.kind,
                    data: req.data,
                    ext_data: req.ext_data,
                    client_msg_id: req.client_msg_id,
                };
                Ok(AppSent::One(Box::new(
                    self.send_as(&caller, send, origin).await?,
                )))
            }
            AppRecipients::Conversation(_) if system => Err(Error::invalid(
                "to",
                "the system sender writes to members (one or a list), not into a conversation",
            )),
            AppRecipients::Conversation(id) => {
                let send = SendMessage {
                    to: Recipient::Conversation(id),
                    kind: req.kind,
                    data: req.data,
                    ext_data: req.ext_data,
                    client_msg_id: req.client_msg_id,
                };
                Ok(AppSent::One(Box::new(
                    self.send_as(&caller, send, origin).await?,
                )))
            }
            AppRecipients::Many(to) => {
                if to.len() > MAX_MULTI_SEND {
                    return Err(Error::TooManyRecipients {
                        max: MAX_MULTI_SEND,
                    });
                }
                // Unknown members become an unparseable uuid: their own not_found result.
                let uuids = self
                    .lookup_all(app, &to)
                    .await?
                    .into_iter()
                    .map(|m| m.map_or_else(String::new, |m| m.uuid.as_str().to_owned()))
                    .collect();
                let send = MultiSend {
                    to: uuids,
                    kind: req.kind,
                    data: req.data,
                    ext_data: req.ext_data,
                    client_msg_id: req.client_msg_id,
                };
                let mut items = self.multi_send_as(&caller, send, origin).await?;
                for (item, who) in items.iter_mut().zip(&to) {
                    item.to = who.as_given().to_owned();
                }
                Ok(AppSent::Many(items))
            }
        }
    }

    /// Creates a group owned by `owner` (a member of the app, not banned) with `members`, as
    /// if the owner had created it ([`Core::create_group`]), except that the app may put in
    /// it members who block the owner.
    pub async fn app_create_group(
        &self,
        app: &AppCaller,
        owner: &AppMember,
        subject: &str,
        members: Vec<AppMember>,
    ) -> Result<MembershipChange> {
        let caller = self.act_as(app, owner, "owner").await?;
        let max = self.config().max_group_members;
        let ids = self.app_members(app, &members, max).await?;
        let uuids = ids
            .into_iter()
            .map(|(_, u)| u.as_str().to_owned())
            .collect();
        self.create_group_as(&caller, subject, uuids, Actor::App)
            .await
    }

    /// Adds members to a group of the app, whoever its owner ([`Actor::App`]); the group size
    /// limit holds. [`Error::NotFound`] for a group (or a member) of another app.
    pub async fn app_add_members(
        &self,
        app: &AppCaller,
        group: ConversationId,
        members: Vec<AppMember>,
    ) -> Result<MembershipChange> {
        if members.is_empty() {
            return Err(Error::invalid("members", "at least one member is required"));
        }
        let max = self.config().max_group_members;
        let ids: Vec<MemberId> = self
            .app_members(app, &members, max)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let change = self
            .store()
            .add_members(app.app_id(), Actor::App, group, &ids, max, self.now())
            .await?;
        self.announce_app_membership(app, &change).await;
        Ok(change)
    }

    /// Removes a member from a group of the app, whoever its owner ([`Actor::App`]);
    /// ownership passes as when they leave.
    pub async fn app_remove_member(
        &self,
        app: &AppCaller,
        group: ConversationId,
        member: &str,
    ) -> Result<MembershipChange> {
        let target = self.member_by_uuid(app.app(), member).await?;
        let change = self
            .store()
            .remove_member(app.app_id(), Actor::App, group, target.id, self.now())
            .await?;
        self.announce_app_membership(app, &change).await;
        Ok(change)
    }

    /// Members of the app named by the backend, deduplicated, in id order; any unknown one
    /// fails the whole call.
    async fn app_members(
        &self,
        app: &AppCaller,
        members: &[AppMember],
        max: usize,
    ) -> Result<Vec<(MemberId, MemberUuid)>> {
        if members.len() > max {
            return Err(Error::TooManyRecipients { max });
        }
        let all = self
            .lookup_all(app, members)
            .await?
            .into_iter()
            .collect::<Option<Vec<Member>>>()
            .ok_or(Error::NotFound(Entity::Member))?;
        super::conversations::no_system_sender(&all)?;
        let mut found: Vec<_> = all.into_iter().map(|m| (m.id, m.uuid)).collect();
        found.sort_by_key(|(id, _)| *id);
        found.dedup_by_key(|(id, _)| *id);
        Ok(found)
    }

    /// Each named member of the app (`None` for an unknown one), in order, in at most two
    /// reads: one by uuid, one by external id.
    async fn lookup_all(
        &self,
        app: &AppCaller,
        members: &[AppMember],
    ) -> Result<Vec<Option<Member>>> {
        let mut uuids: Vec<MemberUuid> = Vec::new();
        let mut externals: Vec<String> = Vec::new();
        for who in members {
            match who {
                AppMember::Uuid(u) => uuids.extend(MemberUuid::parse(u.trim())),
                AppMember::ExternalId(e) => externals.push(e.clone()),
            }
        }
        uuids.sort();
        uuids.dedup();
        externals.sort();
        externals.dedup();
        let by_uuid = self.store().members_by_uuids(app.app_id(), &uuids).await?;
        let by_external = self
            .store()
            .members_by_external_ids(app.app_id(), &externals)
            .await?;
        Ok(members
            .iter()
            .map(|who| match who {
                AppMember::Uuid(u) => {
                    let u = MemberUuid::parse(u.trim())?;
                    by_uuid.iter().find(|m| m.uuid == u).cloned()
                }
                AppMember::ExternalId(e) => by_external
                    .iter()
                    .find(|m| m.external_id.as_deref() == Some(e.as_str()))
                    .cloned(),
            })
            .collect())
    }

    async fn announce_app_membership(&self, app: &AppCaller, change: &MembershipChange) {
        if change.deliveries.is_empty() {
            return;
        }
        let event = Event {
            app: app.app_id(),
            kind: EventKind::Membership {
                conversation: change.conversation.id,
                added: change.added.clone(),
                removed: change.removed.clone(),
            },
            deliveries: change.deliveries.clone(),
            created_at: self.now(),
        };
        self.inner.bus.publish(event).await;
    }
}
