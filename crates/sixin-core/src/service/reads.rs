//! Read state and unread counters.

use crate::bus::{Event, EventKind};
use crate::caller::Caller;
use crate::error::Result;
use crate::ids::ConversationId;
use crate::model::{ReadOutcome, UnreadCounts};
use crate::store::ReadTarget;
use crate::Core;

impl Core {
    /// Marks one message or the whole conversation read for the caller.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<ReadOutcome> {
        let outcome = self
            .store()
            .mark_read(
                caller.app_id(),
                caller.member_id(),
                conversation,
                target,
                self.now(),
            )
            .await?;
        if outcome.marked > 0 {
            let kind = EventKind::Read {
                conversation,
                reader: caller.member_id(),
                unread: outcome.unread,
            };
            self.publish(Event {
                app: caller.app_id(),
                audience: vec![caller.member_id()],
                kind,
            })
            .await;
        }
        Ok(outcome)
    }

    /// The caller's unread counters: the total and each conversation with unread messages.
    pub async fn unread(&self, caller: &Caller) -> Result<UnreadCounts> {
        Ok(self
            .store()
            .unread(caller.app_id(), caller.member_id())
            .await?)
    }

    /// The caller's unread count in their direct conversation with `peer` (0 while they have
    /// none). Errors as [`Core::direct_with`].
    pub async fn unread_with(&self, caller: &Caller, peer: &str) -> Result<u32> {
        let Some(id) = self.direct_with(caller, peer).await? else {
            return Ok(0);
        };
        let counts = self.unread(caller).await?;
        Ok(counts
            .conversations
            .iter()
            .find(|(c, _)| *c == id)
            .map_or(0, |(_, n)| *n))
    }
}
