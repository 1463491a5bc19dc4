//! Multi-send: one direct message to each of 1..=200 members in one transaction, each
//! recipient reported on its own.

use std::collections::HashMap;

use crate::caller::Caller;
use crate::config::MAX_MULTI_SEND;
use crate::error::{Entity, Error, Result, Throttle};
use crate::ids::{MemberId, MemberUuid};
use crate::model::{MultiSendItem, Sent};
use crate::store::{NewContent, Refusal};
use crate::{rules, Core};

use super::before_send::HookTo;
use super::messages::{MultiSend, Origin};

/// A recipient the caller named, as found in the app.
struct Found {
    id: MemberId,
    /// `false` for the app's system sender (nobody writes to it).
    writable: bool,
}

/// What became of the recipients: who they are, what the store answered for those it was
/// asked about, and the refusal of those the sends bucket left out.
struct Outcomes {
    found: HashMap<MemberUuid, Found>,
    sent: HashMap<MemberId, Result<Sent, Refusal>>,
    /// The recipients the app's before-send hook refused.
    screened: HashMap<MemberId, Error>,
    /// The refusal of the recipients the sends bucket had no token for.
    throttle: Option<Throttle>,
}

impl Core {
    /// Sends one direct message to each of 1..=200 members in one transaction, reporting each
    /// recipient in request order. Unknown and self recipients, the app's system sender
    /// ([`Error::CannotReply`]), members who do not accept the caller's messages
    /// ([`Error::NotAccepted`]) and openings past the daily cap ([`Error::RateLimited`]; when
    /// fewer openings are left than the call needs, they go in the store's order, by uuid) get
    /// their own error and do not stop the others. The caller's sends bucket pays one token
    /// per distinct recipient that can be sent to; when it holds fewer, the later recipients
    /// in request order are each [`Error::RateLimited`]. A muted caller gets [`Error::Muted`]
    /// for the whole call.
    pub async fn multi_send(&self, caller: &Caller, req: MultiSend) -> Result<Vec<MultiSendItem>> {
        self.multi_send_as(caller, req, Origin::Member).await
    }

    pub(crate) async fn multi_send_as(
        &self,
        caller: &Caller,
        req: MultiSend,
        origin: Origin,
    ) -> Result<Vec<MultiSendItem>> {
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
        let found = self.recipients(caller, &parsed).await?;
        // Distinct recipients that can be sent to, in request order: the bucket pays for the
        // first ones.
        let mut deliverable: Vec<&MemberUuid> = Vec::new();
        for uuid in parsed.iter().flatten() {
            let ok = found.get(uuid).is_some_and(|f| f.writable);
            if ok && uuid != caller.uuid() && !deliverable.contains(&uuid) {
                deliverable.push(uuid);
            }
        }
        let wanted = u32::try_from(deliverable.len()).unwrap_or(u32::MAX);
        let (paid, throttle) = match origin {
            Origin::Member => self.take_sends_up_to(caller, wanted),
            Origin::Backend | Origin::Notice => (wanted, None),
        };
        // The store is asked in uuid order, as before rate limits existed.
        let mut allowed: Vec<&MemberUuid> = deliverable.into_iter().take(paid as usize).collect();
        allowed.sort();
        let targets: Vec<(MemberId, &MemberUuid)> = allowed
            .iter()
            .filter_map(|u| found.get(*u).map(|f| (f.id, *u)))
            .collect();
        let (batches, screened) = self.screen_many(caller, origin, &targets, content).await;
        let checks = self.send_checks(caller, origin);
        let mut sent = HashMap::new();
        for (content, ids) in batches {
            let results = self
                .store()
                .send_many(caller.app_id(), caller.member_id(), &ids, content, checks)
                .await?;
            for r in results.iter().flatten() {
                self.announce(caller, r).await;
            }
            sent.extend(ids.into_iter().zip(results));
        }
        let outcomes = Outcomes {
            found,
            sent,
            screened,
            throttle,
        };
        Ok(req
            .to
            .into_iter()
            .zip(parsed)
            .map(|(raw, uuid)| {
                let result = outcomes.of(caller, uuid.as_ref());
                let to = uuid.map_or(raw, |u| u.as_str().to_owned());
                MultiSendItem { to, result }
            })
            .collect())
    }

    /// The named members of the caller's app, by uuid, in one read.
    async fn recipients(
        &self,
        caller: &Caller,
        parsed: &[Option<MemberUuid>],
    ) -> Result<HashMap<MemberUuid, Found>> {
        let mut wanted: Vec<MemberUuid> = parsed.iter().flatten().cloned().collect();
        wanted.sort();
        wanted.dedup();
        let members = self
            .store()
            .members_by_uuids(caller.app_id(), &wanted)
            .await?;
        Ok(members
            .into_iter()
            .map(|m| {
                let writable = rules::may_write_to(m.external_id.as_deref()).is_ok();
                (m.uuid, Found { id: m.id, writable })
            })
            .collect())
    }
}

impl Outcomes {
    /// The result for one recipient as named (`None`: not a well-formed uuid).
    fn of(&self, caller: &Caller, uuid: Option<&MemberUuid>) -> Result<Sent> {
        let uuid = uuid.ok_or(Error::NotFound(Entity::Member))?;
        if uuid == caller.uuid() {
            return Err(Error::SelfSend);
        }
        let found = self
            .found
            .get(uuid)
            .ok_or(Error::NotFound(Entity::Member))?;
        if !found.writable {
            return Err(Error::CannotReply);
        }
        if let Some(e) = self.screened.get(&found.id) {
            return Err(e.clone());
        }
        match self.sent.get(&found.id) {
            Some(Ok(sent)) => Ok(sent.clone()),
            Some(Err(refusal)) => Err(Error::from(*refusal)),
            None => Err(self.throttle.map_or_else(
                || Error::Internal("a multi-send recipient was left out".into()),
                Error::RateLimited,
            )),
        }
    }
}

/// One batch of a multi-send: a content and the recipients it goes to.
type Batch = (NewContent, Vec<MemberId>);

impl Core {
    /// Puts each recipient of a member's multi-send to the app's before-send hook (all at
    /// once): the recipients grouped by the content they get (one batch when the hook replaces
    /// nothing), and the refusals. The app's backend and notices are not screened.
    async fn screen_many(
        &self,
        caller: &Caller,
        origin: Origin,
        targets: &[(MemberId, &MemberUuid)],
        content: NewContent,
    ) -> (Vec<Batch>, HashMap<MemberId, Error>) {
        let mut screened = HashMap::new();
        if targets.is_empty() {
            return (Vec::new(), screened);
        }
        if origin != Origin::Member || caller.app().before_send.is_none() {
            let ids = targets.iter().map(|(id, _)| *id).collect();
            return (vec![(content, ids)], screened);
        }
        let asks = targets.iter().map(|(id, uuid)| {
            let content = content.clone();
            async move {
                let to = HookTo::Member(uuid);
                (*id, self.screen_send(caller, to, content).await)
            }
        });
        let mut batches: Vec<Batch> = Vec::new();
        for (id, result) in futures::future::join_all(asks).await {
            match result {
                Ok(c) => match batches.iter_mut().find(|(b, _)| same_content(b, &c)) {
                    Some((_, ids)) => ids.push(id),
                    None => batches.push((c, vec![id])),
                },
                Err(e) => {
                    screened.insert(id, e);
                }
            }
        }
        (batches, screened)
    }
}

fn same_content(a: &NewContent, b: &NewContent) -> bool {
    a.kind == b.kind && a.data == b.data && a.ext_data == b.ext_data
}
