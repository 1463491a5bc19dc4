//! Messages: send (with the limits and checks each sender is held to), history,
//! delete-for-me, recall.

use serde_json::Value;

use crate::bus::EventKind;
use crate::caller::Caller;
use crate::error::{Entity, Error, Result, Throttle};
use crate::ids::{ConversationId, MemberUuid, MessageId};
use crate::limits::BucketKey;
use crate::model::{HistoryItem, Message, MessageType, Page, Sent};
use crate::store::{HistoryWindow, MemberRef, NewContent, SendChecks, SendTarget};
use crate::{rules, validate, Core};

use super::before_send::HookTo;

/// Where a message goes, as a client names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The direct conversation with this member (created on first send).
    Member(String),
    /// A conversation the caller belongs to.
    Conversation(ConversationId),
}

/// A send, as a client asks for it (not yet validated).
#[derive(Debug, Clone, PartialEq)]
pub struct SendMessage {
    pub to: Recipient,
    pub kind: MessageType,
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
}

/// A multi-send, as a client asks for it (not yet validated).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSend {
    /// Member uuids, 1..=200; duplicates are sent to once and reported for each mention.
    pub to: Vec<String>,
    pub kind: MessageType,
    pub data: Value,
    pub ext_data: Option<String>,
    pub client_msg_id: Option<String>,
}

/// Who a send comes from, which decides the limits and checks it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A member, through a dialect: the sends bucket, the daily cap on new direct
    /// conversations, the recipients' blocks and who-may-message-me settings.
    Member,
    /// The app's backend sending as a member (server API): not rate limited, but the
    /// recipients' blocks and settings hold.
    Backend,
    /// The app's system sender: notices, held to none of them.
    Notice,
}

impl Core {
    /// Sends one message. Direct sends to yourself are [`Error::SelfSend`]; to an unknown member
    /// (or one of another app) [`Error::NotFound`]`(Member)`; into a conversation the caller
    /// does not belong to, [`Error::NotFound`]`(Conversation)`.
    /// A muted caller gets [`Error::Muted`]; writing to the app's system sender,
    /// [`Error::CannotReply`]; to a member who blocks the caller or whose who-may-message-me
    /// setting leaves them out, [`Error::NotAccepted`]. Each send spends one token of the
    /// caller's sends bucket, and opening a direct conversation one of the daily cap: either
    /// exhausted is [`Error::RateLimited`].
    pub async fn send(&self, caller: &Caller, req: SendMessage) -> Result<Sent> {
        self.send_as(caller, req, Origin::Member).await
    }

    pub(crate) async fn send_as(
        &self,
        caller: &Caller,
        req: SendMessage,
        origin: Origin,
    ) -> Result<Sent> {
        self.may_send(caller)?;
        let mut content = self
            .content(caller, req.kind, req.data, req.ext_data, req.client_msg_id)
            .await?;
        let target = match req.to {
            Recipient::Member(uuid) => {
                let uuid = MemberUuid::parse(&uuid).ok_or(Error::NotFound(Entity::Member))?;
                if &uuid == caller.uuid() {
                    return Err(Error::SelfSend);
                }
                let peer = self
                    .store()
                    .member(caller.app_id(), MemberRef::Uuid(&uuid))
                    .await?
                    .ok_or(Error::NotFound(Entity::Member))?;
                rules::may_write_to(peer.external_id.as_deref())?;
                (SendTarget::Direct(peer.id), Some(peer.uuid))
            }
            Recipient::Conversation(id) => (SendTarget::Conversation(id), None),
        };
        let (target, peer) = target;
        if origin == Origin::Member {
            self.take_sends(caller, 1)?;
            // Only members' sends are put to the app's before-send hook, after the bucket so
            // a throttled member cannot make sixin call it.
            let to = match (&peer, target) {
                (Some(uuid), _) => HookTo::Member(uuid),
                (None, SendTarget::Conversation(id)) => HookTo::Conversation(id),
                (None, SendTarget::Direct(_)) => {
                    return Err(Error::Internal("a direct send without its peer".into()))
                }
            };
            content = self.screen_send(caller, to, content).await?;
        }
        let checks = self.send_checks(caller, origin);
        let sent = self
            .store()
            .send(caller.app_id(), caller.member_id(), target, content, checks)
            .await?;
        self.announce(caller, &sent).await;
        Ok(sent)
    }

    /// What a send from `origin` is held to in the store ([`SendChecks`]).
    pub(super) fn send_checks(&self, caller: &Caller, origin: Origin) -> SendChecks {
        match origin {
            Origin::Member => SendChecks {
                consent: true,
                new_direct_cap: Some(self.limits_for(caller.app()).new_direct_per_day),
            },
            Origin::Backend => SendChecks {
                consent: true,
                new_direct_cap: None,
            },
            Origin::Notice => SendChecks::NOTICE,
        }
    }

    /// Takes `n` tokens of the caller's sends bucket, all or nothing.
    fn take_sends(&self, caller: &Caller, n: u32) -> Result<()> {
        let quota = self.limits_for(caller.app()).sends;
        let key = BucketKey::Sends(caller.member_id());
        self.inner
            .buckets
            .take(key, quota, n, self.now())
            .map_err(Error::RateLimited)
    }

    /// Takes up to `n` tokens of the caller's sends bucket: how many were taken, and the
    /// refusal for the rest.
    pub(super) fn take_sends_up_to(&self, caller: &Caller, n: u32) -> (u32, Option<Throttle>) {
        let quota = self.limits_for(caller.app()).sends;
        let key = BucketKey::Sends(caller.member_id());
        self.inner.buckets.take_up_to(key, quota, n, self.now())
    }

    /// [`Error::Muted`] while the caller's mute is in force (it lapses by itself at its end).
    pub(super) fn may_send(&self, caller: &Caller) -> Result<()> {
        let member = caller.member();
        if rules::muted_at(member, self.now()) {
            return Err(Error::Muted {
                until: member.muted_until,
            });
        }
        Ok(())
    }

    /// A page of a conversation the caller belongs to, ascending by id.
    pub async fn history(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        window: HistoryWindow,
        limit: u32,
    ) -> Result<Page<HistoryItem>> {
        let limit = super::page_limit("limit", limit)?;
        self.store()
            .history(
                caller.app_id(),
                caller.member_id(),
                conversation,
                window,
                limit,
            )
            .await?
            .ok_or(Error::NotFound(Entity::Conversation))
    }

    /// The direct conversation between the caller and `peer`, if they have one.
    /// [`Error::SelfSend`] for the caller's own uuid, [`Error::NotFound`] for unknown members.
    pub async fn direct_with(&self, caller: &Caller, peer: &str) -> Result<Option<ConversationId>> {
        let peer = self.member_by_uuid(caller.app(), peer).await;
        let peer = match peer {
            Ok(p) if p.id == caller.member_id() => return Err(Error::SelfSend),
            other => other?,
        };
        Ok(self
            .store()
            .direct_conversation(caller.app_id(), caller.member_id(), peer.id)
            .await?)
    }

    /// A page of the caller's direct conversation with `peer`; an empty page while the two
    /// have never exchanged a message. Errors as [`Core::direct_with`].
    pub async fn history_with(
        &self,
        caller: &Caller,
        peer: &str,
        window: HistoryWindow,
        limit: u32,
    ) -> Result<Page<HistoryItem>> {
        let limit = super::page_limit("limit", limit)?;
        match self.direct_with(caller, peer).await? {
            Some(id) => self.history(caller, id, window, limit).await,
            None => Ok(Page {
                items: Vec::new(),
                has_more: false,
            }),
        }
    }

    /// Hides a message from the caller only (delete for me).
    pub async fn hide(&self, caller: &Caller, message: MessageId) -> Result<()> {
        let now = self.now();
        let done = self
            .store()
            .hide_message(caller.app_id(), caller.member_id(), message, now)
            .await?;
        let kind = EventKind::Hidden {
            conversation: done.message.conversation,
            message: done.message.id,
        };
        self.publish(caller, kind, done.deliveries, now).await;
        Ok(())
    }

    /// Withdraws one of the caller's messages for everyone, within the recall window.
    pub async fn recall(&self, caller: &Caller, message: MessageId) -> Result<Message> {
        let now = self.now();
        let window = self.config().recall_window;
        let done = self
            .store()
            .recall(caller.app_id(), caller.member_id(), message, window, now)
            .await?;
        let kind = EventKind::Recalled {
            message: done.message.clone(),
        };
        self.publish(caller, kind, done.deliveries, now).await;
        Ok(done.message)
    }

    /// The validated content of a send, with the app's word list applied (`service::words`):
    /// one check however many recipients a multi-send has, so a rejected text refuses the
    /// whole call (the same text goes to each of them, so none could get it).
    pub(super) async fn content(
        &self,
        caller: &Caller,
        kind: MessageType,
        data: Value,
        ext_data: Option<String>,
        client_msg_id: Option<String>,
    ) -> Result<NewContent> {
        let data = validate::message_data(kind, data)?;
        Ok(NewContent {
            kind,
            data: self.screen_message(caller, kind, data).await?,
            ext_data: validate::ext_data(ext_data)?,
            client_msg_id: validate::client_msg_id(client_msg_id)?,
            created_at: self.now(),
        })
    }

    pub(super) async fn announce(&self, caller: &Caller, sent: &Sent) {
        if !sent.created {
            return;
        }
        self.count_sent(1);
        tracing::debug!(
            app.id = %caller.app_id(),
            member.id = %caller.member_id(),
            conversation.id = %sent.conversation.id,
            message.id = %sent.message.id,
            "message {} sent in conversation {}", sent.message.id, sent.conversation.id
        );
        let kind = EventKind::Message {
            message: sent.message.clone(),
        };
        let created_at = sent.message.created_at;
        self.publish(caller, kind, sent.deliveries.clone(), created_at)
            .await;
    }
}
