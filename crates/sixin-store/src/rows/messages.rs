//! Message, participant and conversation-list rows.

use super::*;

/// The columns of a message `m` with its sender `s` and the viewer's read flag (`$1` is the
/// viewer, `v` their membership).
macro_rules! item_columns {
    () => {
        "SELECT m.id, m.conversation_id, m.sender_id, \
    s.uuid AS sender_uuid, s.username AS sender_username, m.kind, m.data, m.ext_data, \
    m.client_msg_id, m.created_at, m.recalled_at, \
    CASE WHEN m.sender_id = $1 THEN NOT EXISTS (SELECT 1 FROM conversation_members o \
        WHERE o.conversation_id = m.conversation_id AND o.member_id <> m.sender_id \
        AND o.last_read_id < m.id AND o.visible_from < m.id \
        AND NOT EXISTS (SELECT 1 FROM message_reads r \
            WHERE r.member_id = o.member_id AND r.message_id = m.id)) \
    ELSE (m.id <= v.last_read_id OR EXISTS (SELECT 1 FROM message_reads r \
        WHERE r.member_id = $1 AND r.message_id = m.id)) END AS is_read "
    };
}

/// [`ITEM_SELECT`]'s columns alone: the caller supplies `FROM` with `m`, `s` and `v`.
pub(crate) const ITEM_COLUMNS: &str = item_columns!();

/// A message with its sender and the viewer's read flag. `$1` is the viewer; the select joins
/// the viewer's membership as `v` and leaves out messages hidden from the viewer or sent
/// before they joined.
pub(crate) const ITEM_SELECT: &str = concat!(
    item_columns!(),
    "FROM messages m JOIN members s ON s.id = m.sender_id \
    JOIN conversation_members v ON v.conversation_id = m.conversation_id AND v.member_id = $1 \
    WHERE m.id > v.visible_from AND NOT EXISTS (SELECT 1 FROM message_hides h \
        WHERE h.member_id = $1 AND h.message_id = m.id)"
);

/// A message with its sender, regardless of viewer (`is_read` is always false).
pub(crate) const MESSAGE_SELECT: &str = "SELECT m.id, m.conversation_id, m.sender_id, \
    s.uuid AS sender_uuid, s.username AS sender_username, m.kind, m.data, m.ext_data, \
    m.client_msg_id, m.created_at, m.recalled_at, FALSE AS is_read \
    FROM messages m JOIN members s ON s.id = m.sender_id";

pub(crate) struct MessageRow {
    id: i64,
    conversation_id: i64,
    sender_id: i64,
    sender_uuid: String,
    sender_username: String,
    kind: String,
    data: String,
    ext_data: Option<String>,
    client_msg_id: Option<String>,
    created_at: i64,
    recalled_at: Option<i64>,
    is_read: bool,
}

impl MessageRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            MessageRow {
                id,
                conversation_id,
                sender_id,
                sender_uuid,
                sender_username,
                kind,
                data,
                ext_data,
                client_msg_id,
                created_at,
                recalled_at,
                is_read
            }
        )
    }

    pub(crate) fn into_item(self) -> StoreResult<HistoryItem> {
        let read = self.is_read;
        Ok(HistoryItem {
            message: self.into_message()?,
            read,
        })
    }

    pub(crate) fn into_message(self) -> StoreResult<Message> {
        Ok(Message {
            id: MessageId(self.id),
            conversation: ConversationId(self.conversation_id),
            sender: MemberId(self.sender_id),
            sender_uuid: uuid(&self.sender_uuid)?,
            sender_username: self.sender_username,
            kind: MessageType::parse(&self.kind).ok_or_else(|| corrupt("message type"))?,
            data: json(&self.data)?,
            ext_data: self.ext_data,
            client_msg_id: self.client_msg_id,
            created_at: Timestamp(self.created_at),
            recalled_at: self.recalled_at.map(Timestamp),
        })
    }
}

pub(crate) struct ParticipantRow {
    id: i64,
    uuid: String,
    username: String,
    ext_info: String,
    role: String,
    unread_count: i64,
    read_updated_at: i64,
    joined_at: i64,
}

pub(crate) const PARTICIPANT_SELECT: &str = "SELECT m.id, m.uuid, m.username, m.ext_info, \
    cm.role, cm.unread_count, cm.read_updated_at, cm.joined_at \
    FROM conversation_members cm JOIN members m ON m.id = cm.member_id \
    WHERE cm.conversation_id = $1 ORDER BY cm.joined_at, m.id";

impl ParticipantRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        from_row!(
            row,
            ParticipantRow {
                id,
                uuid,
                username,
                ext_info,
                role,
                unread_count,
                read_updated_at,
                joined_at
            }
        )
    }

    pub(crate) fn into_participant(self) -> StoreResult<Participant> {
        Ok(Participant {
            profile: Profile {
                id: MemberId(self.id),
                uuid: uuid(&self.uuid)?,
                username: self.username,
                ext_info: json(&self.ext_info)?,
            },
            role: Role::parse(&self.role)
                .ok_or_else(|| StoreError::Other(format!("corrupt role `{}`", self.role).into()))?,
            unread: u32::try_from(self.unread_count.max(0)).unwrap_or(u32::MAX),
            read_updated_at: Timestamp(self.read_updated_at),
            joined_at: Timestamp(self.joined_at),
        })
    }
}

/// One entry of a member's conversation list: the conversation, the member's counters, the
/// newest message they can see (columns prefixed `m_`) and, for direct conversations, the
/// peer (prefixed `p_`).
pub(crate) struct ListRow {
    conversation: ConversationRow,
    unread_count: i64,
    activity: i64,
    m_id: Option<i64>,
    m_sender_id: Option<i64>,
    m_sender_uuid: Option<String>,
    m_sender_username: Option<String>,
    m_kind: Option<String>,
    m_data: Option<String>,
    m_ext_data: Option<String>,
    m_client_msg_id: Option<String>,
    m_created_at: Option<i64>,
    m_recalled_at: Option<i64>,
    m_is_read: bool,
    p_id: Option<i64>,
    p_uuid: Option<String>,
    p_username: Option<String>,
    p_ext_info: Option<String>,
}

impl ListRow {
    pub(crate) fn from_row(row: &Row) -> StoreResult<Self> {
        Ok(ListRow {
            conversation: ConversationRow::from_row(row)?,
            unread_count: row.get("unread_count")?,
            activity: row.get("activity")?,
            m_id: row.get("m_id")?,
            m_sender_id: row.get("m_sender_id")?,
            m_sender_uuid: row.get("m_sender_uuid")?,
            m_sender_username: row.get("m_sender_username")?,
            m_kind: row.get("m_kind")?,
            m_data: row.get("m_data")?,
            m_ext_data: row.get("m_ext_data")?,
            m_client_msg_id: row.get("m_client_msg_id")?,
            m_created_at: row.get("m_created_at")?,
            m_recalled_at: row.get("m_recalled_at")?,
            m_is_read: row.get("m_is_read")?,
            p_id: row.get("p_id")?,
            p_uuid: row.get("p_uuid")?,
            p_username: row.get("p_username")?,
            p_ext_info: row.get("p_ext_info")?,
        })
    }

    pub(crate) fn into_summary(self) -> StoreResult<sixin_core::model::ConversationSummary> {
        let conversation = self.conversation.into_conversation()?;
        let last_message = match (self.m_id, self.m_sender_id, self.m_sender_uuid) {
            (Some(id), Some(sender_id), Some(sender_uuid)) => Some(
                MessageRow {
                    id,
                    conversation_id: conversation.id.0,
                    sender_id,
                    sender_uuid,
                    sender_username: self.m_sender_username.unwrap_or_default(),
                    kind: self.m_kind.unwrap_or_default(),
                    data: self.m_data.unwrap_or_default(),
                    ext_data: self.m_ext_data,
                    client_msg_id: self.m_client_msg_id,
                    created_at: self.m_created_at.unwrap_or_default(),
                    recalled_at: self.m_recalled_at,
                    is_read: self.m_is_read,
                }
                .into_item()?,
            ),
            _ => None,
        };
        let peer = match (self.p_id, self.p_uuid) {
            (Some(id), Some(p_uuid)) => Some(Profile {
                id: MemberId(id),
                uuid: uuid(&p_uuid)?,
                username: self.p_username.unwrap_or_default(),
                ext_info: json(self.p_ext_info.as_deref().unwrap_or("{}"))?,
            }),
            _ => None,
        };
        Ok(sixin_core::model::ConversationSummary {
            activity_at: Timestamp(self.activity),
            unread: u32::try_from(self.unread_count.max(0)).unwrap_or(u32::MAX),
            conversation,
            last_message,
            peer,
        })
    }
}
