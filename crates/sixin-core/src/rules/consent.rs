//! Who may message whom (issue 12): blocks, the who-may-message-me setting and the daily cap on
//! new direct conversations, as pure functions of facts the store reads inside its send
//! transaction.
//!
//! - A block stops the blocked member's direct messages to the blocker, in a conversation that
//!   exists as well as in a new one, and stops them adding the blocker to a group.
//! - The who-may-message-me setting is enforced only when a new direct conversation would be
//!   created: a conversation that exists carries on (a block is what stops one).
//! - Both refusals look the same ([`Refusal::NotAccepted`]), so a sender cannot tell a block
//!   from a setting.
//! - The cap counts the direct conversations the sender opened (sent the first message of) in
//!   the last 24 hours, a sliding window.

use std::time::Duration;

use super::{Actor, Refusal, SYSTEM_EXTERNAL_ID};
use crate::ids::{MemberId, Timestamp};
use crate::model::DmPolicy;

/// The window of the daily cap on new direct conversations.
pub const NEW_DIRECT_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The policy name a refusal under the daily cap carries (as the `RateLimit-Policy` header
/// shows it).
pub const NEW_DIRECT_POLICY: &str = "new_direct_conversations";

/// What a send is held to besides membership, chosen by the core for who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendChecks {
    /// The recipient's blocks and who-may-message-me setting apply (a member's send, also when
    /// the app's backend sends for them; not the app's system-sender notices).
    pub consent: bool,
    /// At most this many new direct conversations in any 24 hours (`None`: no cap — the app's
    /// backend is not rate limited).
    pub new_direct_cap: Option<u32>,
}

impl SendChecks {
    /// A notice from the app's system sender: no block, setting or cap applies.
    pub const NOTICE: SendChecks = SendChecks {
        consent: false,
        new_direct_cap: None,
    };
}

/// The who-may-message-me setting in force for a member: their own, else the app's default.
pub fn effective_dm_policy(own: Option<DmPolicy>, app_default: DmPolicy) -> DmPolicy {
    own.unwrap_or(app_default)
}

/// What the store read, inside its transaction, about a direct conversation about to be
/// opened by a sender with a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectFacts {
    /// The peer blocks the sender.
    pub blocked_by_peer: bool,
    /// The peer's setting in force ([`effective_dm_policy`]).
    pub peer_policy: DmPolicy,
    /// The sender and the peer are both members of some group conversation.
    pub share_group: bool,
    /// When the sender opened the `cap`-th most recent of their direct conversations within
    /// the window (`None`: fewer than `cap` there, or no cap). With the cap reached, this is
    /// the conversation whose leaving the window frees the next opening.
    pub cap_th_opened_at: Option<Timestamp>,
}

/// Whether a sender may open a new direct conversation at `now`: not blocked by the peer,
/// allowed by the peer's setting (`everyone`; `contacts`: they share a group; `nobody`: no
/// one), then under the daily cap.
pub fn may_open_direct(f: &DirectFacts, checks: SendChecks, now: Timestamp) -> Result<(), Refusal> {
    if checks.consent {
        let allowed = match f.peer_policy {
            DmPolicy::Everyone => true,
            DmPolicy::Contacts => f.share_group,
            DmPolicy::Nobody => false,
        };
        if f.blocked_by_peer || !allowed {
            return Err(Refusal::NotAccepted);
        }
    }
    let Some(cap) = checks.new_direct_cap else {
        return Ok(());
    };
    let window_ms = NEW_DIRECT_WINDOW.as_millis() as i64;
    let frees_at = match (cap, f.cap_th_opened_at) {
        (0, _) => now.0.saturating_add(window_ms),
        (_, Some(t)) if t.0 > now.0.saturating_sub(window_ms) => t.0.saturating_add(window_ms),
        _ => return Ok(()),
    };
    let wait_ms = u64::try_from(frees_at.saturating_sub(now.0)).unwrap_or(0);
    Err(Refusal::NewDirectCap {
        cap,
        retry_after_secs: wait_ms.div_ceil(1000).max(1),
    })
}

/// Whether a sender may write into the direct conversation that exists with a peer: not when
/// the peer blocks them (and consent applies to this send).
pub fn may_continue_direct(blocked_by_peer: bool, checks: SendChecks) -> Result<(), Refusal> {
    if checks.consent && blocked_by_peer {
        Err(Refusal::NotAccepted)
    } else {
        Ok(())
    }
}

/// A member may not put someone who blocks them into a group (creating it or adding to it);
/// the app's backend may. `blocked_by_any`: one of the members being added blocks the actor.
pub fn may_add_to_group(actor: Actor, blocked_by_any: bool) -> Result<(), Refusal> {
    match actor {
        Actor::Member(_) if blocked_by_any => Err(Refusal::NotAccepted),
        _ => Ok(()),
    }
}

/// A member blocks another member: not themself, and not the app's system sender, whose
/// notices are the app's and reach every member.
pub fn may_block(
    blocker: MemberId,
    target: MemberId,
    target_external_id: Option<&str>,
) -> Result<(), Refusal> {
    if blocker == target {
        Err(Refusal::SelfTarget)
    } else if target_external_id == Some(SYSTEM_EXTERNAL_ID) {
        Err(Refusal::SystemSender)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMBER: SendChecks = SendChecks {
        consent: true,
        new_direct_cap: Some(2),
    };
    const NOW: Timestamp = Timestamp(1_000_000_000);

    fn facts(policy: DmPolicy) -> DirectFacts {
        DirectFacts {
            blocked_by_peer: false,
            peer_policy: policy,
            share_group: false,
            cap_th_opened_at: None,
        }
    }

    #[test]
    fn the_peers_setting_decides_who_opens_a_conversation() {
        use DmPolicy::{Contacts, Everyone, Nobody};
        assert_eq!(may_open_direct(&facts(Everyone), MEMBER, NOW), Ok(()));
        let contacts = facts(Contacts);
        assert_eq!(
            may_open_direct(&contacts, MEMBER, NOW),
            Err(Refusal::NotAccepted)
        );
        let in_a_group = DirectFacts {
            share_group: true,
            ..contacts
        };
        assert_eq!(may_open_direct(&in_a_group, MEMBER, NOW), Ok(()));
        let nobody = DirectFacts {
            share_group: true,
            ..facts(Nobody)
        };
        assert_eq!(
            may_open_direct(&nobody, MEMBER, NOW),
            Err(Refusal::NotAccepted)
        );
        // Notices pass every setting.
        assert_eq!(may_open_direct(&nobody, SendChecks::NOTICE, NOW), Ok(()));
        assert_eq!(effective_dm_policy(None, Contacts), Contacts);
        assert_eq!(effective_dm_policy(Some(Everyone), Nobody), Everyone);
    }

    #[test]
    fn a_block_refuses_like_a_setting_in_new_and_existing_conversations() {
        let blocked = DirectFacts {
            blocked_by_peer: true,
            ..facts(DmPolicy::Everyone)
        };
        assert_eq!(
            may_open_direct(&blocked, MEMBER, NOW),
            Err(Refusal::NotAccepted)
        );
        assert_eq!(may_continue_direct(true, MEMBER), Err(Refusal::NotAccepted));
        assert_eq!(may_continue_direct(false, MEMBER), Ok(()));
        assert_eq!(may_continue_direct(true, SendChecks::NOTICE), Ok(()));
        let backend = SendChecks {
            consent: true,
            new_direct_cap: None,
        };
        assert_eq!(
            may_open_direct(&blocked, backend, NOW),
            Err(Refusal::NotAccepted)
        );
    }

    #[test]
    fn the_daily_cap_frees_a_slot_when_the_cap_th_opening_leaves_the_window() {
        let window = NEW_DIRECT_WINDOW.as_millis() as i64;
        let at = |t| DirectFacts {
            cap_th_opened_at: Some(Timestamp(t)),
            ..facts(DmPolicy::Everyone)
        };
        // Opened 10 s ago: a slot frees in 24 h − 10 s.
        assert_eq!(
            may_open_direct(&at(NOW.0 - 10_000), MEMBER, NOW),
            Err(Refusal::NewDirectCap {
                cap: 2,
                retry_after_secs: 86_390
            })
        );
        // Exactly 24 h ago: it has left the window.
        assert_eq!(may_open_direct(&at(NOW.0 - window), MEMBER, NOW), Ok(()));
        // 1 ms inside the window: retry in at least a second.
        assert_eq!(
            may_open_direct(&at(NOW.0 - window + 1), MEMBER, NOW),
            Err(Refusal::NewDirectCap {
                cap: 2,
                retry_after_secs: 1
            })
        );
        let no_cap = SendChecks {
            consent: true,
            new_direct_cap: None,
        };
        assert_eq!(may_open_direct(&at(NOW.0), no_cap, NOW), Ok(()));
        let zero = SendChecks {
            consent: true,
            new_direct_cap: Some(0),
        };
        assert!(may_open_direct(&facts(DmPolicy::Everyone), zero, NOW).is_err());
    }

    #[test]
    fn members_cannot_add_who_blocks_them_but_the_app_can() {
        let a = Actor::Member(MemberId(1));
        assert_eq!(may_add_to_group(a, true), Err(Refusal::NotAccepted));
        assert_eq!(may_add_to_group(a, false), Ok(()));
        assert_eq!(may_add_to_group(Actor::App, true), Ok(()));
    }

    #[test]
    fn nobody_blocks_themself_or_the_system_sender() {
        let (a, b) = (MemberId(1), MemberId(2));
        assert_eq!(may_block(a, a, None), Err(Refusal::SelfTarget));
        assert_eq!(
            may_block(a, b, Some(SYSTEM_EXTERNAL_ID)),
            Err(Refusal::SystemSender)
        );
        assert_eq!(may_block(a, b, Some("u-2")), Ok(()));
    }
}
