//! Who may do what: every permission and product decision about conversations, as pure
//! functions of plain values. The services call them before a write; the store calls the same
//! functions inside its transaction on what it read there (a role or a membership can change
//! between the two), so a decision is never made twice in two ways — and never in SQL.
//!
//! Each function returns the decision; a refusal is a [`Refusal`], which the core turns into
//! an [`Error`](crate::Error) by meaning.

use std::time::Duration;

use crate::ids::{MemberId, Timestamp};
use crate::model::{ConversationKind, Member, Role};

/// Whether `member`'s ban is in force at `now`: set, and not lapsed (a time-limited ban ends
/// by itself at its `until`, with no job to lift it).
pub fn banned_at(member: &Member, now: Timestamp) -> bool {
    member.banned && member.banned_until.is_none_or(|until| now < until)
}

/// Whether `member`'s mute is in force at `now` (as [`banned_at`] for bans).
pub fn muted_at(member: &Member, now: Timestamp) -> bool {
    member.muted && member.muted_until.is_none_or(|until| now < until)
}

/// Why a rule refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The acting member is not (or no longer) a member of the conversation.
    NotMember,
    /// Only the group owner may do this.
    NotOwner,
    /// The operation needs a group conversation.
    NotGroup,
    /// Only the sender may recall a message.
    NotSender,
    /// The message is older than the recall window allows.
    RecallWindowPassed,
    /// The group would exceed its member limit.
    GroupFull { max: usize },
}

/// Membership of a group can change only in a group, and only at a member's request.
/// Returns the actor's role.
pub fn may_change_membership(kind: ConversationKind, actor: Option<Role>) -> Result<Role, Refusal> {
    let role = actor.ok_or(Refusal::NotMember)?;
    match kind {
        ConversationKind::Group => Ok(role),
        ConversationKind::Direct => Err(Refusal::NotGroup),
    }
}

/// Only the owner adds members to a group.
pub fn may_add_members(actor: Role) -> Result<(), Refusal> {
    match actor {
        Role::Owner => Ok(()),
        Role::Member => Err(Refusal::NotOwner),
    }
}

/// The owner may remove anyone; any member may remove themself (leave).
pub fn may_remove(actor: MemberId, actor_role: Role, target: MemberId) -> Result<(), Refusal> {
    if actor == target || actor_role == Role::Owner {
        Ok(())
    } else {
        Err(Refusal::NotOwner)
    }
}

/// A group of `members` (owner included) fits under the limit.
pub fn group_fits(members: usize, max: usize) -> Result<(), Refusal> {
    if members > max {
        Err(Refusal::GroupFull { max })
    } else {
        Ok(())
    }
}

/// A member's standing in a group, for choosing an heir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub member: MemberId,
    pub joined_at: Timestamp,
}

/// Who becomes owner when a member with `removed_role` leaves: when the owner leaves, the
/// longest-standing remaining member (earliest `joined_at`, then lowest id); otherwise nobody.
pub fn heir(removed_role: Role, remaining: &[Standing]) -> Option<MemberId> {
    if removed_role != Role::Owner {
        return None;
    }
    remaining
        .iter()
        .min_by_key(|s| (s.joined_at, s.member))
        .map(|s| s.member)
}

/// Only the sender recalls a message, and only within `window` of sending it.
pub fn may_recall(
    actor: MemberId,
    author: MemberId,
    sent_at: Timestamp,
    now: Timestamp,
    window: Duration,
) -> Result<(), Refusal> {
    if actor != author {
        return Err(Refusal::NotSender);
    }
    if sent_at < now.minus(window) {
        return Err(Refusal::RecallWindowPassed);
    }
    Ok(())
}

/// Who hears of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every current member of the conversation (the actor's other devices included).
    EveryMember,
    /// Exactly these members, in ascending id order.
    These(Vec<MemberId>),
}

/// A new or recalled message: every current member of its conversation.
pub fn message_audience() -> Audience {
    Audience::EveryMember
}

/// A read: the reader's own devices, and in a direct conversation the peer (so a sender sees
/// "read"); in a group only the reader, so reading never broadcasts to a whole group.
pub fn read_audience(kind: ConversationKind, reader: MemberId, members: &[MemberId]) -> Audience {
    let mut to: Vec<MemberId> = match kind {
        ConversationKind::Direct => members.to_vec(),
        ConversationKind::Group => vec![reader],
    };
    if !to.contains(&reader) {
        to.push(reader);
    }
    sorted(to)
}

/// Hiding a message for oneself: only one's own devices.
pub fn hidden_audience(member: MemberId) -> Audience {
    Audience::These(vec![member])
}

/// A membership change: every current member, and the members who just left (so their
/// clients drop the conversation).
pub fn membership_audience(current: &[MemberId], removed: &[MemberId]) -> Audience {
    sorted(current.iter().chain(removed).copied().collect())
}

fn sorted(mut members: Vec<MemberId>) -> Audience {
    members.sort();
    members.dedup();
    Audience::These(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MemberId = MemberId(1);
    const B: MemberId = MemberId(2);
    const C: MemberId = MemberId(3);

    #[test]
    fn membership_changes_need_a_member_of_a_group() {
        use ConversationKind::{Direct, Group};
        assert_eq!(may_change_membership(Group, None), Err(Refusal::NotMember));
        assert_eq!(
            may_change_membership(Direct, Some(Role::Owner)),
            Err(Refusal::NotGroup)
        );
        assert_eq!(
            may_change_membership(Group, Some(Role::Member)),
            Ok(Role::Member)
        );
    }

    #[test]
    fn bans_and_mutes_hold_until_their_end_or_for_good() {
        let mut m = crate::model::Member {
            id: A,
            app: crate::ids::AppId(1),
            uuid: crate::ids::MemberUuid::generate(),
            username: "m".into(),
            ext_info: serde_json::json!({}),
            external_id: None,
            banned: false,
            banned_until: None,
            ban_reason: None,
            muted: false,
            muted_until: None,
            created_at: Timestamp(0),
        };
        assert!(!banned_at(&m, Timestamp(5)) && !muted_at(&m, Timestamp(5)));
        (m.banned, m.muted) = (true, true);
        assert!(banned_at(&m, Timestamp(i64::MAX)) && muted_at(&m, Timestamp(i64::MAX)));
        (m.banned_until, m.muted_until) = (Some(Timestamp(10)), Some(Timestamp(10)));
        assert!(banned_at(&m, Timestamp(9)) && muted_at(&m, Timestamp(9)));
        assert!(!banned_at(&m, Timestamp(10)) && !muted_at(&m, Timestamp(10)));
        // An expiry without the flag is no ban.
        (m.banned, m.muted) = (false, false);
        assert!(!banned_at(&m, Timestamp(9)) && !muted_at(&m, Timestamp(9)));
    }

    #[test]
    fn only_the_owner_adds_and_removes_others() {
        assert_eq!(may_add_members(Role::Owner), Ok(()));
        assert_eq!(may_add_members(Role::Member), Err(Refusal::NotOwner));
        assert_eq!(may_remove(A, Role::Owner, B), Ok(()));
        assert_eq!(may_remove(B, Role::Member, B), Ok(()));
        assert_eq!(may_remove(B, Role::Member, C), Err(Refusal::NotOwner));
    }

    #[test]
    fn a_group_fits_up_to_its_limit() {
        assert_eq!(group_fits(3, 3), Ok(()));
        assert_eq!(group_fits(4, 3), Err(Refusal::GroupFull { max: 3 }));
    }

    #[test]
    fn the_longest_standing_member_inherits_ownership() {
        let s = |member, at| Standing {
            member,
            joined_at: Timestamp(at),
        };
        let remaining = [s(C, 10), s(B, 20), s(A, 10)];
        assert_eq!(heir(Role::Owner, &remaining), Some(A));
        assert_eq!(heir(Role::Member, &remaining), None);
        assert_eq!(heir(Role::Owner, &[]), None);
    }

    #[test]
    fn only_the_sender_recalls_within_the_window() {
        let window = Duration::from_secs(120);
        let now = Timestamp(1_000_000);
        let sent = now.minus(window);
        assert_eq!(may_recall(A, A, sent, now, window), Ok(()));
        assert_eq!(
            may_recall(A, A, Timestamp(sent.0 - 1), now, window),
            Err(Refusal::RecallWindowPassed)
        );
        assert_eq!(may_recall(B, A, sent, now, window), Err(Refusal::NotSender));
    }

    #[test]
    fn reads_reach_the_peer_only_in_direct_conversations() {
        assert_eq!(
            read_audience(ConversationKind::Direct, B, &[B, A]),
            Audience::These(vec![A, B])
        );
        assert_eq!(
            read_audience(ConversationKind::Group, B, &[A, B, C]),
            Audience::These(vec![B])
        );
        assert_eq!(hidden_audience(C), Audience::These(vec![C]));
        assert_eq!(message_audience(), Audience::EveryMember);
    }

    #[test]
    fn members_who_leave_hear_of_it() {
        assert_eq!(
            membership_audience(&[C, A], &[B]),
            Audience::These(vec![A, B, C])
        );
    }
}
