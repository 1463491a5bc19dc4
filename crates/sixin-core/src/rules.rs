//! Who may do what: every permission and product decision about conversations, as pure
//! functions of plain values. The services call them before a write; the store calls the same
//! functions inside its transaction on what it read there (a role or a membership can change
//! between the two), so a decision is never made twice in two ways — and never in SQL.
//!
//! Each function returns the decision; a refusal is a [`Refusal`], which the core turns into
//! an [`Error`](crate::Error) by meaning.

use std::time::Duration;

mod consent;
pub use consent::*;

use crate::ids::{MemberId, Timestamp};
use crate::model::{ConversationKind, Member, Role};

mod safety;
pub use safety::*;
mod lockout;
pub use lockout::{lockout_secs, login_attempt, Lockout, LoginAttempt};

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
    /// The peer is the app's system sender: its messages are notices, nobody writes to it.
    NoticesOnly,
    /// A member reports themself or their own message.
    OwnReport,
    /// The reporter filed [`REPORTS_PER_DAY`] reports in the last 24 hours.
    TooManyReports { retry_after_secs: u64 },
    /// The app's word list would hold more than `max` words.
    WordListFull { max: u64 },
    /// The recipient does not accept messages from the sender: they block the sender, or their
    /// who-may-message-me setting leaves the sender out (the two look the same on purpose).
    NotAccepted,
    /// The sender opened `cap` new direct conversations in the last 24 hours; the next may be
    /// opened in `retry_after_secs`.
    NewDirectCap { cap: u32, retry_after_secs: u64 },
    /// A member names themself where another member is needed (blocking themself).
    SelfTarget,
    /// The app's system sender cannot be the target (of a block).
    SystemSender,
}

/// The external id of an app's system sender: the member the app's backend sends notices as
/// (`"from": "system"` in the server API), created on first use.
pub const SYSTEM_EXTERNAL_ID: &str = "sixin:system";

/// The system sender's username. Usernames and external ids starting with
/// [`RESERVED_PREFIX`] are refused to members and apps, so it never collides with a real one.
pub const SYSTEM_USERNAME: &str = "sixin:system";

/// Usernames and external ids starting with this are reserved for sixin's own members.
pub const RESERVED_PREFIX: &str = "sixin:";

/// Whether a member with this external id is the app's system sender.
pub fn is_system(external_id: Option<&str>) -> bool {
    external_id == Some(SYSTEM_EXTERNAL_ID)
}

/// Nobody writes to the system sender (a reply to a notice, or a first message to it): its
/// direct conversations carry its notices only. `peer_external_id` is the recipient's.
pub fn may_write_to(peer_external_id: Option<&str>) -> Result<(), Refusal> {
    if is_system(peer_external_id) {
        Err(Refusal::NoticesOnly)
    } else {
        Ok(())
    }
}

/// Who acts on a group's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A member, for themself.
    Member(MemberId),
    /// The app's backend (the server API): above every member, the owner included.
    App,
}

/// The authority an actor has over one group, as [`may_change_membership`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// A member of the group, with their role.
    Member(MemberId, Role),
    /// The app's backend.
    App,
}

/// Membership of a group can change only in a group, at the request of one of its members
/// (`role`: the actor's role in it, if any) or of the app. Returns the actor's authority.
pub fn may_change_membership(
    kind: ConversationKind,
    actor: Actor,
    role: Option<Role>,
) -> Result<Authority, Refusal> {
    let authority = match actor {
        Actor::Member(id) => Authority::Member(id, role.ok_or(Refusal::NotMember)?),
        Actor::App => Authority::App,
    };
    match kind {
        ConversationKind::Group => Ok(authority),
        ConversationKind::Direct => Err(Refusal::NotGroup),
    }
}

/// The owner, or the app, adds members to a group.
pub fn may_add_members(actor: Authority) -> Result<(), Refusal> {
    match actor {
        Authority::App | Authority::Member(_, Role::Owner) => Ok(()),
        Authority::Member(_, Role::Member) => Err(Refusal::NotOwner),
    }
}

/// The owner, or the app, may remove anyone; any member may remove themself (leave).
pub fn may_remove(actor: Authority, target: MemberId) -> Result<(), Refusal> {
    match actor {
        Authority::App | Authority::Member(_, Role::Owner) => Ok(()),
        Authority::Member(id, _) if id == target => Ok(()),
        Authority::Member(..) => Err(Refusal::NotOwner),
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
    fn membership_changes_need_a_member_of_a_group_or_the_app() {
        use ConversationKind::{Direct, Group};
        let a = Actor::Member(A);
        assert_eq!(
            may_change_membership(Group, a, None),
            Err(Refusal::NotMember)
        );
        assert_eq!(
            may_change_membership(Direct, a, Some(Role::Owner)),
            Err(Refusal::NotGroup)
        );
        assert_eq!(
            may_change_membership(Group, a, Some(Role::Member)),
            Ok(Authority::Member(A, Role::Member))
        );
        assert_eq!(
            may_change_membership(Group, Actor::App, None),
            Ok(Authority::App)
        );
        assert_eq!(
            may_change_membership(Direct, Actor::App, None),
            Err(Refusal::NotGroup)
        );
    }

    #[test]
    fn nobody_writes_to_the_system_sender() {
        assert_eq!(
            may_write_to(Some(SYSTEM_EXTERNAL_ID)),
            Err(Refusal::NoticesOnly)
        );
        assert_eq!(may_write_to(Some("u-1")), Ok(()));
        assert_eq!(may_write_to(None), Ok(()));
        assert!(SYSTEM_EXTERNAL_ID.starts_with(RESERVED_PREFIX));
        assert!(SYSTEM_USERNAME.starts_with(RESERVED_PREFIX));
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
            dm_policy: None,
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
    fn only_the_owner_or_the_app_adds_and_removes_others() {
        let owner = Authority::Member(A, Role::Owner);
        let member = Authority::Member(B, Role::Member);
        assert_eq!(may_add_members(owner), Ok(()));
        assert_eq!(may_add_members(member), Err(Refusal::NotOwner));
        assert_eq!(may_add_members(Authority::App), Ok(()));
        assert_eq!(may_remove(owner, B), Ok(()));
        assert_eq!(may_remove(member, B), Ok(()));
        assert_eq!(may_remove(member, C), Err(Refusal::NotOwner));
        assert_eq!(may_remove(Authority::App, A), Ok(()));
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
