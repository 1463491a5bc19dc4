//! The block list's plain data, as the [`Store`](super::Store) hands it out.

use crate::ids::{MemberId, Timestamp};
use crate::model::Profile;

/// One entry of a member's block list: whom they block, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The blocked member's public profile.
    pub member: Profile,
    /// When the block was first set (blocking again keeps this time).
    pub created_at: Timestamp,
}

/// Where a block-list page starts: after the entry with this time and member (the last one of
/// the previous page), in the list's order (most recent first, ties by member id descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCursor {
    pub created_at: Timestamp,
    pub member: MemberId,
}
