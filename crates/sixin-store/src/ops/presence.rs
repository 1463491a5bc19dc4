//! Presence: which members have an open event stream on which node. A node keeps its own
//! rows (one per member with a stream open on it) and its `nodes` row alive; the webhook
//! outbox reads them, in the send's transaction, to name the recipients who had no stream on
//! any live node ([`outbox`](super::outbox)).

use super::prelude::*;

/// Marks `node` alive until `until` and applies its members' changes: `online` now have a
/// stream open on it, `offline` no longer do.
pub(crate) async fn set_presence(
    ex: &mut dyn Exec,
    node: String,
    until: Timestamp,
    online: Vec<MemberId>,
    offline: Vec<MemberId>,
) -> StoreResult<()> {
    ex.execute(
        "INSERT INTO nodes (id, alive_until) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until",
        params![node.as_str(), until.0],
    )
    .await?;
    for m in online {
        ex.execute(
            "INSERT INTO stream_presence (member_id, node_id) VALUES ($1, $2) \
             ON CONFLICT (member_id, node_id) DO NOTHING",
            params![m.0, node.as_str()],
        )
        .await?;
    }
    for m in offline {
        ex.execute(
            "DELETE FROM stream_presence WHERE member_id = $1 AND node_id = $2",
            params![m.0, node.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// Deletes the nodes alive only until before `before` (or `node`, whatever its time) and
/// their presence rows; returns the rows deleted.
pub(crate) async fn remove_nodes(
    ex: &mut dyn Exec,
    node: Option<String>,
    before: Timestamp,
) -> StoreResult<u64> {
    let gone = "SELECT id FROM nodes WHERE id = $1 OR alive_until < $2";
    let rows = ex
        .execute(
            &format!("DELETE FROM stream_presence WHERE node_id IN ({gone})"),
            params![node.as_deref(), before.0],
        )
        .await?;
    let nodes = ex
        .execute(
            "DELETE FROM nodes WHERE id = $1 OR alive_until < $2",
            params![node.as_deref(), before.0],
        )
        .await?;
    Ok(rows + nodes)
}
