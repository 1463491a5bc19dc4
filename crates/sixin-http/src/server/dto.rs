//! Server API bodies and query parameters, with their OpenAPI schemas. Times are Unix
//! milliseconds, as in the rest of `/v1`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sixin_core::ids::{MemberId, Timestamp};
use sixin_core::model::{App, Login, Member, MemberTokens, Page, Registration};
use sixin_core::service::MemberLookup;
use sixin_core::store::Ban;
use sixin_core::Error;
use utoipa::{IntoParams, ToSchema};

use crate::native::dto::DmPolicyDto;

/// Page size when the backend does not give `limit`.
const DEFAULT_LIMIT: u32 = 20;

/// Create or update a member under the app's own id.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpsertRequest {
    /// Required to create a member; when given for an existing one, renames them.
    pub username: Option<String>,
    /// Free-form JSON object (nickname, avatar, …); replaces the stored one when given.
    #[schema(value_type = Option<Object>)]
    pub ext_info: Option<Value>,
}

/// Issue a session token.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionRequest {
    /// Lifetime in seconds, at least 1; capped at (and by default) the server's session
    /// lifetime (`limits.session_ttl_secs`).
    pub ttl_secs: Option<u64>,
}

/// Ban a member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BanRequest {
    /// When the ban lapses by itself (Unix milliseconds, in the future); for good when absent.
    pub until: Option<i64>,
    /// Why, for the app's own records (at most 500 characters).
    pub reason: Option<String>,
}

impl BanRequest {
    pub(crate) fn into_ban(self) -> Ban {
        Ban {
            until: self.until.map(Timestamp),
            reason: self.reason,
        }
    }
}

/// Mute a member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MuteRequest {
    /// When the mute lapses by itself (Unix milliseconds, in the future); for good when absent.
    pub until: Option<i64>,
}

/// The app's registration policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Policy {
    /// Members register themselves (`POST /v1/members`, YesApi `App.User.Register`).
    Open,
    /// Self-registration is refused; members come from this API and the CLI.
    Closed,
}

impl From<Policy> for Registration {
    fn from(p: Policy) -> Self {
        match p {
            Policy::Open => Registration::Open,
            Policy::Closed => Registration::Closed,
        }
    }
}

impl From<Registration> for Policy {
    fn from(r: Registration) -> Self {
        match r {
            Registration::Open => Policy::Open,
            Registration::Closed => Policy::Closed,
        }
    }
}

/// Set the app's registration policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistrationRequest {
    pub policy: Policy,
}

/// What an app-signed member token naming no member yet does on its first use.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MemberTokenPolicy {
    /// Refused: the member must exist first (this API, or registration).
    Existing,
    /// The member is created from the token's `sub`, `name` and `ext_info`.
    Provision,
}

impl From<MemberTokenPolicy> for MemberTokens {
    fn from(p: MemberTokenPolicy) -> Self {
        match p {
            MemberTokenPolicy::Existing => MemberTokens::Existing,
            MemberTokenPolicy::Provision => MemberTokens::Provision,
        }
    }
}

impl From<MemberTokens> for MemberTokenPolicy {
    fn from(m: MemberTokens) -> Self {
        match m {
            MemberTokens::Existing => MemberTokenPolicy::Existing,
            MemberTokens::Provision => MemberTokenPolicy::Provision,
        }
    }
}

/// Set the app's member-token policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberTokensRequest {
    pub policy: MemberTokenPolicy,
}

/// Set the app's default who-may-message-me setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppDmPolicyRequest {
    pub policy: DmPolicyDto,
}

/// Look one member up (exactly one of `external_id`, `username`, `uuid`), or list the app's
/// members (none of them; `limit` and `cursor` page).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MembersParams {
    /// The app's own id for the member.
    pub external_id: Option<String>,
    pub username: Option<String>,
    pub uuid: Option<String>,
    /// Page size of a list, 1..=100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// What a members query asks for.
pub(crate) enum MembersQuery<'a> {
    One(MemberLookup<'a>),
    Page { after: Option<MemberId>, limit: u32 },
}

impl MembersParams {
    /// Exactly one filter, or none (a list page); anything else is `400 invalid_request`.
    pub(crate) fn query(&self) -> Result<MembersQuery<'_>, Error> {
        let filters = [
            self.external_id.as_deref().map(MemberLookup::ExternalId),
            self.username.as_deref().map(MemberLookup::Username),
            self.uuid.as_deref().map(MemberLookup::Uuid),
        ];
        let mut given = filters.into_iter().flatten();
        let (first, second) = (given.next(), given.next());
        let paging = self.limit.is_some() || self.cursor.is_some();
        match (first, second) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "external_id",
                "give exactly one of external_id, username, uuid",
            )),
            (Some(_), None) if paging => Err(Error::invalid(
                "limit",
                "limit and cursor page a list; a lookup (external_id, username, uuid) has none",
            )),
            (Some(one), None) => Ok(MembersQuery::One(one)),
            (None, _) => Ok(MembersQuery::Page {
                after: self.cursor.as_deref().map(parse_cursor).transpose()?,
                limit: self.limit.unwrap_or(DEFAULT_LIMIT),
            }),
        }
    }
}

/// The opaque cursor after member `id`.
fn cursor(id: MemberId) -> String {
    URL_SAFE_NO_PAD.encode(format!("m:{}", id.0))
}

fn parse_cursor(c: &str) -> Result<MemberId, Error> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("m:")?.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .map(MemberId)
        .ok_or_else(|| Error::invalid("cursor", "malformed cursor"))
}

/// A ban in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BanDto {
    /// Unix milliseconds when it lapses; `null`: for good.
    pub until: Option<i64>,
    pub reason: Option<String>,
}

/// A mute in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MuteDto {
    /// Unix milliseconds when it lapses; `null`: for good.
    pub until: Option<i64>,
}

/// A member, as the app's backend sees them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServerMemberDto {
    pub uuid: String,
    pub uid: i64,
    /// The app's own id for the member; `null` for self-registered members.
    pub external_id: Option<String>,
    pub username: String,
    #[schema(value_type = Object)]
    pub ext_info: Value,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The ban in force now, if any (a lapsed one is not shown).
    pub banned: Option<BanDto>,
    /// The mute in force now, if any.
    pub muted: Option<MuteDto>,
}

impl From<&Member> for ServerMemberDto {
    fn from(m: &Member) -> Self {
        ServerMemberDto {
            uuid: m.uuid.to_string(),
            uid: m.id.0,
            external_id: m.external_id.clone(),
            username: m.username.clone(),
            ext_info: m.ext_info.clone(),
            created_at: m.created_at.0,
            banned: m.banned.then(|| BanDto {
                until: m.banned_until.map(|t| t.0),
                reason: m.ban_reason.clone(),
            }),
            muted: m.muted.then(|| MuteDto {
                until: m.muted_until.map(|t| t.0),
            }),
        }
    }
}

/// A page of members, in id order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberPageDto {
    pub members: Vec<ServerMemberDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl From<&Page<Member>> for MemberPageDto {
    fn from(p: &Page<Member>) -> Self {
        MemberPageDto {
            members: p.items.iter().map(ServerMemberDto::from).collect(),
            next_cursor: p
                .has_more
                .then(|| p.items.last().map(|m| cursor(m.id)))
                .flatten(),
        }
    }
}

/// A lookup answers one member; a list, a page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum MembersAnswer {
    One(ServerMemberDto),
    Page(MemberPageDto),
}

/// A session token issued for a member: a normal Bearer token (and YesApi/PhalApi/Discuz
/// `token`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IssuedSessionDto {
    /// Shown only here.
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub member: ServerMemberDto,
}

impl From<&Login> for IssuedSessionDto {
    fn from(l: &Login) -> Self {
        IssuedSessionDto {
            token: l.token.clone(),
            expires_at: l.expires_at.0,
            member: ServerMemberDto::from(&l.member),
        }
    }
}

/// How many sessions were ended.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevokedDto {
    pub revoked: u64,
}

/// What erasing a member did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErasedDto {
    /// The erased member's uuid (its messages now show a `sixin:deleted:<uuid>` sender).
    pub erased: String,
    /// How many groups they left.
    pub groups_left: usize,
}

/// The app, as its backend sees it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServerAppDto {
    pub app_key: String,
    pub name: String,
    pub registration: Policy,
    /// What an app-signed member token naming no member yet does.
    pub member_tokens: MemberTokenPolicy,
    /// Who may start a direct conversation with a member who has not chosen for themself.
    pub dm_policy: DmPolicyDto,
    pub require_sign: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<&App> for ServerAppDto {
    fn from(a: &App) -> Self {
        ServerAppDto {
            app_key: a.key.to_string(),
            name: a.name.clone(),
            registration: a.registration.into(),
            member_tokens: a.member_tokens.into(),
            dm_policy: a.dm_policy.into(),
            require_sign: a.require_sign,
            created_at: a.created_at.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a=1&b=2` into the params (plain values only).
    fn params(q: &str) -> MembersParams {
        let get = |k: &str| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_owned())
        };
        MembersParams {
            external_id: get("external_id"),
            username: get("username"),
            uuid: get("uuid"),
            limit: get("limit").map(|l| l.parse().unwrap()),
            cursor: get("cursor"),
        }
    }

    #[test]
    fn a_query_is_one_lookup_or_a_page() {
        assert!(matches!(
            params("external_id=7").query(),
            Ok(MembersQuery::One(MemberLookup::ExternalId("7")))
        ));
        assert!(params("external_id=7&username=a").query().is_err());
        assert!(params("uuid=7&limit=3").query().is_err());
        assert!(matches!(
            params("").query(),
            Ok(MembersQuery::Page {
                after: None,
                limit: 20
            })
        ));
        let next = cursor(MemberId(42));
        assert!(matches!(
            params(&format!("limit=5&cursor={next}")).query(),
            Ok(MembersQuery::Page {
                after: Some(MemberId(42)),
                limit: 5
            })
        ));
        assert!(params("cursor=!!").query().is_err());
    }
}
