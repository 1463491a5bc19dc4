//! Read state and unread counters.

use crate::bus::EventKind;
use crate::caller::Caller;
use crate::error::Result;
use crate::ids::ConversationId;
use crate::model::{ReadOutcome, UnreadCounts};
use crate::store::{ReadTarget, UnreadQuery};
use crate::Core;

impl Core {
    /// Marks one message or the whole conversation read for the caller.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<ReadOutcome> {
        let now = self.now();
        let outcome = self
            .store()
            .mark_read(
                caller.app_id(),
                caller.member_id(),
                conversation,
                target,
                now,
            )
            .await?;
        let kind = EventKind::Read {
            conversation,
            reader: caller.uuid().clone(),
            last_read: outcome.last_read,
            message: match target {
                ReadTarget::One(id) => Some(id),
                ReadTarget::All => None,
            },
        };
        self.publish(caller, kind, outcome.deliveries.clone(), now)
            .await;
        Ok(outcome)
    }

    /// The caller's total unread count: one kept counter, however many conversations.
    pub async fn unread_total(&self, caller: &Caller) -> Result<u64> {
        Ok(self
            .store()
            .unread_total(caller.app_id(), caller.member_id())
            .await?)
    }

    /// The caller's unread total and one page of their conversations with unread messages (by
    /// ascending id, after `query.after`); `limit` 1..=[`MAX_PAGE`](crate::config::MAX_PAGE).
    pub async fn unread(&self, caller: &Caller, query: UnreadQuery) -> Result<UnreadCounts> {
        super::page_limit("limit", query.limit)?;
        Ok(self
            .store()
            .unread(caller.app_id(), caller.member_id(), query)
            .await?)
    }

    /// The caller's unread count in their direct conversation with `peer` (0 while they have
    /// none). Errors as [`Core::direct_with`].
    pub async fn unread_with(&self, caller: &Caller, peer: &str) -> Result<u32> {
        let Some(id) = self.direct_with(caller, peer).await? else {
            return Ok(0);
        };
        let unread = self
            .store()
            .unread_in(caller.app_id(), caller.member_id(), id)
            .await?;
        Ok(unread.unwrap_or(0))
    }
}
