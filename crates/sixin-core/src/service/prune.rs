//! Keeping storage bounded: [`Core::prune`] deletes the per-member events no client can replay
//! any more (more than `max_replay` behind the member's latest position: a client resuming
//! from there is told to resync anyway) or older than `max_event_age`, the presence rows of
//! nodes that stopped renewing them, and webhook deliveries and outbox entries settled more
//! than `webhooks.retention` ago (pending ones are never deleted). `sixin serve` runs it on
//! every node in the background; the deletes are small and idempotent, so nodes running it at
//! once only repeat each other's work.

use crate::error::Result;
use crate::ids::MemberId;
use crate::Core;

/// Members visited per events statement.
const MEMBERS_PER_BATCH: u32 = 200;
/// Rows per outbox statement.
const OUTBOX_BATCH: u32 = 1000;

impl Core {
    /// One pass over the whole store, in small batches (each its own short transaction,
    /// yielding between them). Returns the rows deleted.
    pub async fn prune(&self) -> Result<u64> {
        let keep = i64::try_from(self.config().max_replay).unwrap_or(i64::MAX);
        let age = self.config().max_event_age;
        let older_than = (!age.is_zero()).then(|| self.now().minus(age));
        let mut deleted = 0;
        let mut after = MemberId(0);
        loop {
            let (n, last) = self
                .store()
                .prune_events(keep, older_than, after, MEMBERS_PER_BATCH)
                .await?;
            deleted += n;
            match last {
                Some(m) => after = m,
                None => break,
            }
            tokio::task::yield_now().await;
        }
        let before = self.now().minus(self.config().webhooks.retention);
        loop {
            let n = self.store().prune_outbox(before, OUTBOX_BATCH).await?;
            deleted += n;
            if n == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        // Nodes that stopped renewing a minute ago, and their presence rows.
        let dead = self.now().minus(super::presence::ALIVE_FOR * 3);
        deleted += self.store().remove_nodes(None, dead).await?;
        Ok(deleted)
    }
}
