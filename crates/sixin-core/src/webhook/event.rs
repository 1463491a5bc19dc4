//! The webhook event types and their payloads. A payload is the exact request body an
//! endpoint receives, in the Standard Webhooks shape:
//! `{"type": "message.created", "timestamp": "2024-05-01T08:00:00.123Z", "data": {…}}`, with
//! `timestamp` the time of the change (RFC 3339) and times inside `data` in Unix milliseconds,
//! as everywhere in `/v1`. Members are named as the app's backend knows them:
//! `{"uuid": "…", "uid": 7, "external_id": "u-7"}` (`external_id` `null` for members the
//! backend did not provision).
//!
//! The store builds each entry with these functions inside the transaction that makes the
//! change, from facts it read there, so the store never names an event itself.

use serde_json::{json, Value};

use crate::bus::EventKind;
use crate::ids::{MemberId, MemberUuid, Timestamp, WebhookId};
use crate::model::{Member, Message};

pub const MESSAGE_CREATED: &str = "message.created";
pub const MESSAGE_RECALLED: &str = "message.recalled";
pub const MESSAGE_HIDDEN: &str = "message.hidden";
pub const CONVERSATION_READ: &str = "conversation.read";
pub const MEMBERSHIP_CHANGED: &str = "membership.changed";
pub const MEMBER_CREATED: &str = "member.created";
pub const MEMBER_BANNED: &str = "member.banned";
pub const MEMBER_UNBANNED: &str = "member.unbanned";
pub const MEMBER_MUTED: &str = "member.muted";
pub const MEMBER_UNMUTED: &str = "member.unmuted";
pub const MEMBER_ERASED: &str = "member.erased";
/// Sent on request (`POST /v1/server/webhooks/{id}/test`), to one endpoint only.
pub const TEST: &str = "webhook.test";

/// Every type an endpoint can subscribe to.
pub const TYPES: [&str; 11] = [
    MESSAGE_CREATED,
    MESSAGE_RECALLED,
    MESSAGE_HIDDEN,
    CONVERSATION_READ,
    MEMBERSHIP_CHANGED,
    MEMBER_CREATED,
    MEMBER_BANNED,
    MEMBER_UNBANNED,
    MEMBER_MUTED,
    MEMBER_UNMUTED,
    MEMBER_ERASED,
];

/// One outbox row: an event's type and its payload (the request body), built at `created_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub kind: &'static str,
    pub payload: String,
    pub created_at: Timestamp,
}

impl OutboxEntry {
    fn new(kind: &'static str, data: Value, at: Timestamp) -> OutboxEntry {
        let body = json!({
            "type": kind,
            "timestamp": crate::error::rfc3339(at),
            "data": data,
        });
        OutboxEntry {
            kind,
            payload: body.to_string(),
            created_at: at,
        }
    }
}

/// What the store read of a member an event concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub id: MemberId,
    pub uuid: MemberUuid,
    pub external_id: Option<String>,
    /// Whether the member had an event stream open on a live node when the change committed
    /// (read for new messages only: their payload names the recipients without one).
    pub online: bool,
}

/// The reference to a member in a payload.
fn reference(m: &MemberFacts) -> Value {
    json!({"uuid": m.uuid.as_str(), "uid": m.id.0, "external_id": m.external_id})
}

/// The reference to the member with `uuid` among `known` (uuid alone if not among them).
fn by_uuid(known: &[MemberFacts], uuid: &MemberUuid) -> Value {
    known.iter().find(|m| &m.uuid == uuid).map_or_else(
        || json!({"uuid": uuid.as_str(), "uid": null, "external_id": null}),
        reference,
    )
}

fn message_json(m: &Message, known: &[MemberFacts]) -> Value {
    json!({
        "id": m.id.0,
        "conversation_id": m.conversation.0,
        "sender": by_uuid(known, &m.sender_uuid),
        "type": m.kind.as_str(),
        "data": m.data,
        "ext_data": m.ext_data,
        "client_msg_id": m.client_msg_id,
        "created_at": m.created_at.0,
        "recalled_at": m.recalled_at.map(|t| t.0),
    })
}

/// The entry for a change a member stream records. `audience` are the members the stream
/// event was appended for (for a new message: every member of the conversation, who, but the
/// sender, are its `recipients`).
pub fn member_event(kind: &EventKind, audience: &[MemberFacts], at: Timestamp) -> OutboxEntry {
    let (name, data) = match kind {
        EventKind::Message { message } => {
            let recipients = audience.iter().filter(|m| m.uuid != message.sender_uuid);
            let offline: Vec<Value> = recipients
                .clone()
                .filter(|m| !m.online)
                .map(reference)
                .collect();
            let data = json!({
                "message": message_json(message, audience),
                "recipients": recipients.map(reference).collect::<Vec<_>>(),
                "offline_recipients": offline,
            });
            (MESSAGE_CREATED, data)
        }
        EventKind::Recalled { message } => (
            MESSAGE_RECALLED,
            json!({"message": message_json(message, audience)}),
        ),
        EventKind::Hidden {
            conversation,
            message,
        } => (
            MESSAGE_HIDDEN,
            json!({
                "conversation_id": conversation.0,
                "message_id": message.0,
                "member": audience.first().map(reference),
            }),
        ),
        EventKind::Read {
            conversation,
            reader,
            last_read,
            message,
        } => (
            CONVERSATION_READ,
            json!({
                "conversation_id": conversation.0,
                "reader": by_uuid(audience, reader),
                "last_read": last_read.0,
                "message_id": message.map(|m| m.0),
            }),
        ),
        EventKind::Membership {
            conversation,
            added,
            removed,
        } => {
            let refs = |v: &[MemberUuid]| -> Vec<Value> {
                v.iter().map(|u| by_uuid(audience, u)).collect()
            };
            (
                MEMBERSHIP_CHANGED,
                json!({
                    "conversation_id": conversation.0,
                    "added": refs(added),
                    "removed": refs(removed),
                }),
            )
        }
    };
    OutboxEntry::new(name, data, at)
}

/// A change to a member that their stream does not record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Registered, created by the operator, or provisioned by the app's backend.
    Created,
    /// Banned (the member carries the expiry and reason).
    Banned,
    Unbanned,
    /// Muted (the member carries the expiry).
    Muted,
    Unmuted,
    /// Erased: the member as they were before.
    Erased,
}

/// The entry for a change to `member` (for [`MemberChange::Erased`], as they were before).
pub fn member_change(change: MemberChange, member: &Member, at: Timestamp) -> OutboxEntry {
    let facts = MemberFacts {
        id: member.id,
        uuid: member.uuid.clone(),
        external_id: member.external_id.clone(),
        online: false,
    };
    let mut subject = reference(&facts);
    let (name, data) = match change {
        MemberChange::Created => {
            subject["username"] = json!(member.username);
            subject["ext_info"] = member.ext_info.clone();
            subject["created_at"] = json!(member.created_at.0);
            (MEMBER_CREATED, json!({"member": subject}))
        }
        MemberChange::Banned => (
            MEMBER_BANNED,
            json!({
                "member": subject,
                "until": member.banned_until.map(|t| t.0),
                "reason": member.ban_reason,
            }),
        ),
        MemberChange::Unbanned => (MEMBER_UNBANNED, json!({"member": subject})),
        MemberChange::Muted => (
            MEMBER_MUTED,
            json!({"member": subject, "until": member.muted_until.map(|t| t.0)}),
        ),
        MemberChange::Unmuted => (MEMBER_UNMUTED, json!({"member": subject})),
        MemberChange::Erased => (MEMBER_ERASED, json!({"member": subject})),
    };
    OutboxEntry::new(name, data, at)
}

/// A test event for endpoint `webhook`, asked for at `at`.
pub fn test_event(webhook: WebhookId, at: Timestamp) -> OutboxEntry {
    OutboxEntry::new(TEST, json!({"webhook_id": webhook.0}), at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AppId, ConversationId, MessageId};
    use crate::model::MessageType;

    fn facts(id: i64, ext: Option<&str>) -> MemberFacts {
        MemberFacts {
            id: MemberId(id),
            uuid: MemberUuid::generate(),
            external_id: ext.map(str::to_owned),
            online: false,
        }
    }

    fn body(e: &OutboxEntry) -> Value {
        serde_json::from_str(&e.payload).unwrap()
    }

    #[test]
    fn a_new_message_names_its_sender_and_recipients_as_the_backend_knows_them() {
        let (ann, bob) = (facts(1, Some("u-1")), facts(2, None));
        let cat = MemberFacts {
            online: true,
            ..facts(3, None)
        };
        let message = Message {
            id: MessageId(9),
            conversation: ConversationId(3),
            sender: ann.id,
            sender_uuid: ann.uuid.clone(),
            sender_username: "ann".into(),
            kind: MessageType::Text,
            data: json!({"content": "hi"}),
            ext_data: None,
            client_msg_id: Some("c1".into()),
            created_at: Timestamp(1_700_000_000_123),
            recalled_at: None,
        };
        let bob_uuid = bob.uuid.clone();
        let e = member_event(
            &EventKind::Message { message },
            &[ann, bob, cat.clone()],
            Timestamp(1_700_000_000_123),
        );
        assert_eq!(e.kind, MESSAGE_CREATED);
        let b = body(&e);
        assert_eq!(b["type"], "message.created");
        assert_eq!(b["timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(b["data"]["message"]["sender"]["external_id"], "u-1");
        assert_eq!(b["data"]["message"]["data"]["content"], "hi");
        let bob_ref = json!({"uuid": bob_uuid.as_str(), "uid": 2, "external_id": null});
        let cat_ref = json!({"uuid": cat.uuid.as_str(), "uid": 3, "external_id": null});
        assert_eq!(b["data"]["recipients"], json!([bob_ref, cat_ref]));
        // Cat had an event stream open: only Bob needs a push.
        assert_eq!(b["data"]["offline_recipients"], json!([bob_ref]));
    }

    #[test]
    fn member_changes_carry_the_member_and_the_change() {
        let member = Member {
            id: MemberId(4),
            app: AppId(1),
            uuid: MemberUuid::generate(),
            username: "cat".into(),
            ext_info: json!({"nick": "C"}),
            external_id: Some("u-4".into()),
            banned: true,
            banned_until: Some(Timestamp(5)),
            ban_reason: Some("spam".into()),
            muted: false,
            muted_until: None,
            dm_policy: None,
            created_at: Timestamp(1),
        };
        let b = body(&member_change(MemberChange::Banned, &member, Timestamp(2)));
        assert_eq!(b["type"], "member.banned");
        assert_eq!(
            (&b["data"]["until"], &b["data"]["reason"]),
            (&json!(5), &json!("spam"))
        );
        assert_eq!(b["data"]["member"]["external_id"], "u-4");
        let b = body(&member_change(MemberChange::Created, &member, Timestamp(2)));
        assert_eq!(b["data"]["member"]["ext_info"]["nick"], "C");
        let b = body(&test_event(WebhookId(3), Timestamp(2)));
        assert_eq!(
            (&b["type"], &b["data"]["webhook_id"]),
            (&json!(TEST), &json!(3))
        );
    }
}
