//! Native bodies of the block list and the who-may-message-me setting.

use serde::{Deserialize, Serialize};
use sixin_core::model::{DmPolicy, Page};
use sixin_core::service::DmSetting;
use sixin_core::store::{Block, BlockCursor};
use sixin_core::Error;
use utoipa::{IntoParams, ToSchema};

use super::response::{MemberDto, ProfileDto};
use crate::native::cursor;

/// Page size when a client does not give `limit`.
const DEFAULT_LIMIT: u32 = 20;

/// Who may start a direct conversation with a member.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DmPolicyDto {
    /// Any member of the app.
    Everyone,
    /// Only members who share a group conversation with them (and, as always, anyone they
    /// already have a direct conversation with).
    Contacts,
    /// No one: nobody can start a new direct conversation with them.
    Nobody,
}

impl From<DmPolicyDto> for DmPolicy {
    fn from(p: DmPolicyDto) -> Self {
        match p {
            DmPolicyDto::Everyone => DmPolicy::Everyone,
            DmPolicyDto::Contacts => DmPolicy::Contacts,
            DmPolicyDto::Nobody => DmPolicy::Nobody,
        }
    }
}

impl From<DmPolicy> for DmPolicyDto {
    fn from(p: DmPolicy) -> Self {
        match p {
            DmPolicy::Everyone => DmPolicyDto::Everyone,
            DmPolicy::Contacts => DmPolicyDto::Contacts,
            DmPolicy::Nobody => DmPolicyDto::Nobody,
        }
    }
}

/// Set the caller's own who-may-message-me setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DmPolicyRequest {
    /// `null` (or left out): follow the app's default.
    pub policy: Option<DmPolicyDto>,
}

/// A member's who-may-message-me setting.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DmSettingDto {
    /// The member's own choice; `null`: the app's default applies.
    pub dm_policy: Option<DmPolicyDto>,
    /// What is in force: their own choice, else the app's default.
    pub effective_dm_policy: DmPolicyDto,
}

impl From<DmSetting> for DmSettingDto {
    fn from(s: DmSetting) -> Self {
        DmSettingDto {
            dm_policy: s.own.map(Into::into),
            effective_dm_policy: s.effective.into(),
        }
    }
}

/// The caller: their member record and their who-may-message-me setting.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MeDto {
    #[serde(flatten)]
    pub member: MemberDto,
    #[serde(flatten)]
    pub dm: DmSettingDto,
}

/// One entry of the caller's block list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BlockDto {
    /// The blocked member's public profile.
    pub member: ProfileDto,
    /// Unix milliseconds, when the block was first set.
    pub created_at: i64,
}

impl From<&Block> for BlockDto {
    fn from(b: &Block) -> Self {
        BlockDto {
            member: ProfileDto::from(&b.member),
            created_at: b.created_at.0,
        }
    }
}

/// A page of the caller's block list, most recent first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BlockPageDto {
    pub items: Vec<BlockDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// Whether more entries follow this page.
    pub has_more: bool,
}

impl From<&Page<Block>> for BlockPageDto {
    fn from(p: &Page<Block>) -> Self {
        let next = p.items.last().filter(|_| p.has_more).map(|b| {
            cursor::block(BlockCursor {
                created_at: b.created_at,
                member: b.member.id,
            })
        });
        BlockPageDto {
            items: p.items.iter().map(BlockDto::from).collect(),
            next_cursor: next,
            has_more: p.has_more,
        }
    }
}

/// Block-list query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlockParams {
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl BlockParams {
    /// Where the page starts and its size; `400 invalid_request` for a malformed cursor.
    pub(crate) fn page(&self) -> Result<(Option<BlockCursor>, u32), Error> {
        let after = self
            .cursor
            .as_deref()
            .map(|c| cursor::parse_block("cursor", c))
            .transpose()?;
        Ok((after, self.limit.unwrap_or(DEFAULT_LIMIT)))
    }
}
