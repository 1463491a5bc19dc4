//! Row structs shared by both backends, read from an executor [`Row`] by column name, and their
//! conversion into domain values.

use serde_json::Value;
use sixin_core::ids::{
    AppId, AppKey, AppSecret, ConversationId, MemberId, MemberUuid, MessageId, Timestamp,
};
use sixin_core::model::{
    App, Conversation, ConversationKind, DmPolicy, HistoryItem, Member, MemberTokens, Message,
    MessageType, Participant, PreviousSecret, Profile, Registration, Role,
};
use sixin_core::store::{Block, StoreError, StoreResult};

use crate::exec::Row;

/// `from_row!(row, Struct { field, … })`: each field read from the column of the same name.
macro_rules! from_row {
    ($row:expr, $name:ident { $($field:ident),* $(,)? }) => {
        Ok($name { $($field: $row.get(stringify!($field))?),* })
    };
}

mod messages;
mod safety;
pub(crate) use messages::*;
pub(crate) use safety::*;

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("corrupt {what} in the database").into())
}

fn key(s: &str) -> StoreResult<AppKey> {
    AppKey::parse(s).ok_or_else(|| corrupt("app key"))
}

fn uuid(s: &str) -> StoreResult<MemberUuid> {
    MemberUuid::parse(s).ok_or_else(|| corrupt("member uuid"))
}

fn json(s: &str) -> StoreResult<Value> {
    serde_json::from_str(s).map_err(|_| corrupt("JSON"))
}

pub(crate) const APP_COLS: &str = "id, key, secret, name, require_sign, registration, \
    previous_secret, previous_secret_until, member_tokens, dm_policy, limits, \
    word_list_version, before_send, created_at";

pub(crate) struct AppRow {
    id: i64,
    key: String,
    secret: String,
    name: String,
    require_sign: bool,
    registration: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
    member_tokens: String,
    dm_policy: String,
    limits: Option<String>,
    word_list_version: i64,
    before_send: Option<String>,
    created_at: i64,
}

impl AppRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            AppRow {
                id,
                key,
                secret,
                name,
                require_sign,
                registration,
                previous_secret,
                previous_secret_until,
                member_tokens,
                dm_policy,
                limits,
                word_list_version,
                before_send,
                created_at
            }
        )
    }

    pub(crate) fn into_app(self) -> StoreResult<App> {
        Ok(App {
            id: AppId(self.id),
            key: key(&self.key)?,
            name: self.name,
            secret: AppSecret(self.secret),
            require_sign: self.require_sign,
            registration: Registration::parse(&self.registration)
                .ok_or_else(|| corrupt("registration policy"))?,
            previous_secret: match (self.previous_secret, self.previous_secret_until) {
                (Some(secret), Some(until)) => Some(PreviousSecret {
                    secret: AppSecret(secret),
                    until: Timestamp(until),
                }),
                _ => None,
            },
            member_tokens: MemberTokens::parse(&self.member_tokens)
                .ok_or_else(|| corrupt("member token policy"))?,
            dm_policy: DmPolicy::parse(&self.dm_policy).ok_or_else(|| corrupt("dm policy"))?,
            limits: self.limits.as_deref().map(json).transpose()?,
            word_list_version: self.word_list_version,
            before_send: self
                .before_send
                .as_deref()
                .map(|s| serde_json::from_str(s).map_err(|_| corrupt("before-send hook")))
                .transpose()?,
            created_at: Timestamp(self.created_at),
        })
    }
}

pub(crate) const MEMBER_COLS: &str = "id, app_id, uuid, username, ext_info, external_id, banned, \
    banned_until, ban_reason, muted, muted_until, dm_policy, created_at";

pub(crate) struct MemberRow {
    id: i64,
    app_id: i64,
    uuid: String,
    username: String,
    ext_info: String,
    external_id: Option<String>,
    banned: bool,
    banned_until: Option<i64>,
    ban_reason: Option<String>,
    muted: bool,
    muted_until: Option<i64>,
    dm_policy: Option<String>,
    created_at: i64,
}

impl MemberRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            MemberRow {
                id,
                app_id,
                uuid,
                username,
                ext_info,
                external_id,
                banned,
                banned_until,
                ban_reason,
                muted,
                muted_until,
                dm_policy,
                created_at
            }
        )
    }

    pub(crate) fn into_member(self) -> StoreResult<Member> {
        Ok(Member {
            id: MemberId(self.id),
            app: AppId(self.app_id),
            uuid: uuid(&self.uuid)?,
            username: self.username,
            ext_info: json(&self.ext_info)?,
            external_id: self.external_id,
            banned: self.banned,
            banned_until: self.banned_until.map(Timestamp),
            ban_reason: self.ban_reason,
            muted: self.muted,
            muted_until: self.muted_until.map(Timestamp),
            dm_policy: self
                .dm_policy
                .as_deref()
                .map(|p| DmPolicy::parse(p).ok_or_else(|| corrupt("dm policy")))
                .transpose()?,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// A session joined with its app and member.
pub(crate) struct SessionRow {
    a_id: i64,
    a_key: String,
    a_secret: String,
    a_name: String,
    a_require_sign: bool,
    a_registration: String,
    a_previous_secret: Option<String>,
    a_previous_secret_until: Option<i64>,
    a_member_tokens: String,
    a_dm_policy: String,
    a_limits: Option<String>,
    a_word_list_version: i64,
    a_before_send: Option<String>,
    a_created_at: i64,
    member: MemberRow,
    expires_at: i64,
}

pub(crate) const SESSION_SELECT: &str = "SELECT a.id AS a_id, a.key AS a_key, \
    a.secret AS a_secret, a.name AS a_name, a.require_sign AS a_require_sign, \
    a.registration AS a_registration, a.previous_secret AS a_previous_secret, \
    a.previous_secret_until AS a_previous_secret_until, a.member_tokens AS a_member_tokens, \
    a.dm_policy AS a_dm_policy, a.limits AS a_limits, \
    a.word_list_version AS a_word_list_version, a.before_send AS a_before_send, \
    a.created_at AS a_created_at, m.id, m.app_id, m.uuid, \
    m.username, m.ext_info, m.external_id, m.banned, m.banned_until, m.ban_reason, m.muted, \
    m.muted_until, m.dm_policy, m.created_at, s.expires_at \
    FROM sessions s JOIN members m ON m.id = s.member_id JOIN apps a ON a.id = s.app_id \
    WHERE s.token_hash = $1 AND s.expires_at > $2";

impl SessionRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        Ok(SessionRow {
            a_id: row.get("a_id")?,
            a_key: row.get("a_key")?,
            a_secret: row.get("a_secret")?,
            a_name: row.get("a_name")?,
            a_require_sign: row.get("a_require_sign")?,
            a_registration: row.get("a_registration")?,
            a_previous_secret: row.opt_text("a_previous_secret")?,
            a_previous_secret_until: row.opt_i64("a_previous_secret_until")?,
            a_member_tokens: row.get("a_member_tokens")?,
            a_dm_policy: row.get("a_dm_policy")?,
            a_limits: row.opt_text("a_limits")?,
            a_word_list_version: row.get("a_word_list_version")?,
            a_before_send: row.opt_text("a_before_send")?,
            a_created_at: row.get("a_created_at")?,
            member: MemberRow::from_row(row)?,
            expires_at: row.get("expires_at")?,
        })
    }

    pub(crate) fn into_session(self) -> StoreResult<sixin_core::model::SessionInfo> {
        let app = AppRow {
            id: self.a_id,
            key: self.a_key,
            secret: self.a_secret,
            name: self.a_name,
            require_sign: self.a_require_sign,
            registration: self.a_registration,
            previous_secret: self.a_previous_secret,
            previous_secret_until: self.a_previous_secret_until,
            member_tokens: self.a_member_tokens,
            dm_policy: self.a_dm_policy,
            limits: self.a_limits,
            word_list_version: self.a_word_list_version,
            before_send: self.a_before_send,
            created_at: self.a_created_at,
        };
        Ok(sixin_core::model::SessionInfo {
            app: app.into_app()?,
            member: self.member.into_member()?,
            expires_at: Timestamp(self.expires_at),
        })
    }
}

pub(crate) const CONVERSATION_COLS: &str = "id, app_id, kind, subject, owner_id, created_at, \
    last_activity_at, message_count, member_count";

pub(crate) struct ConversationRow {
    id: i64,
    app_id: i64,
    kind: String,
    subject: Option<String>,
    owner_id: i64,
    created_at: i64,
    last_activity_at: i64,
    message_count: i64,
    member_count: i64,
}

impl ConversationRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            ConversationRow {
                id,
                app_id,
                kind,
                subject,
                owner_id,
                created_at,
                last_activity_at,
                message_count,
                member_count
            }
        )
    }

    pub(crate) fn into_conversation(self) -> StoreResult<Conversation> {
        Ok(Conversation {
            id: ConversationId(self.id),
            app: AppId(self.app_id),
            kind: ConversationKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            subject: self.subject,
            owner: MemberId(self.owner_id),
            created_at: Timestamp(self.created_at),
            last_activity_at: Timestamp(self.last_activity_at),
            message_count: self.message_count,
            member_count: self.member_count,
        })
    }
}

/// A block-list entry: the blocked member's public profile and when the block was set.
pub(crate) const BLOCK_SELECT: &str = "SELECT b.created_at AS blocked_at, m.id, m.uuid, \
    m.username, m.ext_info FROM blocks b JOIN members m ON m.id = b.blocked_id";

pub(crate) struct BlockRow {
    blocked_at: i64,
    id: i64,
    uuid: String,
    username: String,
    ext_info: String,
}

impl BlockRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            BlockRow {
                blocked_at,
                id,
                uuid,
                username,
                ext_info
            }
        )
    }

    pub(crate) fn into_block(self) -> StoreResult<Block> {
        Ok(Block {
            member: Profile {
                id: MemberId(self.id),
                uuid: uuid(&self.uuid)?,
                username: self.username,
                ext_info: json(&self.ext_info)?,
            },
            created_at: Timestamp(self.blocked_at),
        })
    }
}
