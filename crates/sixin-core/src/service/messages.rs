//! Messages: send, multi-send, history, delete-for-me, recall.

use std::collections::HashMap;

use serde_json::Value;

use crate::bus::EventKind;
use crate::caller::Caller;
use crate::config::MAX_MULTI_SEND;
use crate::error::{Entity, Error, Result};
use crate::ids::{ConversationId, MemberUuid, MessageId};
use crate::model::{HistoryItem, Message, MessageType, MultiSendItem, Page, Sent};
use crate::store::{HistoryWindow, MemberRef, NewContent, SendTarget};
use crate::{rules, validate, Core};

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

impl Core {
    /// Sends one message. Direct sends to yourself are [`Error::SelfSend`]; to an unknown member
    /// (or one of another app) [`Error::NotFound`]`(Member)`; into a conversation the caller
    /// does not belong to, [`Error::NotFound`]`(Conversation)`.
    /// A muted caller gets [`Error::Muted`]; writing to the app's system sender,
    /// [`Error::CannotReply`].
    pub async fn send(&self, caller: &Caller, req: SendMessage) -> Result<Sent> {
        self.may_send(caller)?;
        let content = self
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
                SendTarget::Direct(peer.id)
            }
            Recipient::Conversation(id) => SendTarget::Conversation(id),
        };
        let sent = self
            .store()
            .send(caller.app_id(), caller.member_id(), target, content)
            .await?;
        self.announce(caller, &sent).await;
        Ok(sent)
    }

    /// Sends one direct message to each of 1..=200 members in one transaction, reporting each
    /// recipient in request order. Unknown and self recipients (and the app's system sender,
    /// [`Error::CannotReply`]) get their own error and do not stop the others. A muted caller gets [`Error::Muted`] for the whole call.
    pub async fn multi_send(&self, caller: &Caller, req: MultiSend) -> Result<Vec<MultiSendItem>> {
        self.may_send(caller)?;
        if req.to.is_empty() {
            return Err(Error::invalid("to", "at least one recipient is required"));
        }
        if req.to.len() > MAX_MULTI_SEND {
            return Err(Error::TooManyRecipients {
                max: MAX_MULTI_SEND,
            });
        }
        let content = self
            .content(caller, req.kind, req.data, req.ext_data, req.client_msg_id)
            .await?;
        let parsed: Vec<Option<MemberUuid>> =
            req.to.iter().map(|u| MemberUuid::parse(u.trim())).collect();
        let mut wanted: Vec<MemberUuid> = parsed.iter().flatten().cloned().collect();
        wanted.sort();
        wanted.dedup();
        let found = self
            .store()
            .members_by_uuids(caller.app_id(), &wanted)
            .await?;
        let ids: HashMap<&MemberUuid, _> = found.iter().map(|m| (&m.uuid, m.id)).collect();
        let writable: HashMap<&MemberUuid, Result<()>> = found
            .iter()
            .map(|m| {
                let ok = rules::may_write_to(m.external_id.as_deref()).map_err(Error::from);
                (&m.uuid, ok)
            })
            .collect();

        let mut targets = Vec::new();
        for uuid in &wanted {
            if let Some(id) = ids.get(uuid) {
                let ok = writable.get(uuid).is_some_and(Result::is_ok);
                if uuid != caller.uuid() && ok {
                    targets.push(*id);
                }
            }
        }
        let sent = if targets.is_empty() {
            Vec::new()
        } else {
            self.store()
                .send_many(caller.app_id(), caller.member_id(), &targets, content)
                .await?
        };
        let by_member: HashMap<_, &Sent> = targets.iter().copied().zip(sent.iter()).collect();
        for s in &sent {
            self.announce(caller, s).await;
        }

        let items = req
            .to
            .into_iter()
            .zip(parsed)
            .map(|(raw, uuid)| {
                let result = match uuid {
                    Some(u) if &u == caller.uuid() => Err(Error::SelfSend),
                    Some(u) if matches!(writable.get(&u), Some(Err(_))) => Err(Error::CannotReply),
                    Some(u) => ids
                        .get(&u)
                        .and_then(|id| by_member.get(id))
                        .map(|s| (*s).clone())
                        .ok_or(Error::NotFound(Entity::Member)),
                    None => Err(Error::NotFound(Entity::Member)),
                };
                let to = MemberUuid::parse(raw.trim()).map_or(raw, |u| u.as_str().to_owned());
                MultiSendItem { to, result }
            })
            .collect();
        Ok(items)
    }

    /// [`Error::Muted`] while the caller's mute is in force (it lapses by itself at its end).
    fn may_send(&self, caller: &Caller) -> Result<()> {
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
    async fn content(
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

    async fn announce(&self, caller: &Caller, sent: &Sent) {
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
