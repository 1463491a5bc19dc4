use serde_json::json;
use sixin_core::error::{Entity, Error};
use sixin_core::model::MessageType;
use sixin_core::service::{MultiSend, Recipient, SendMessage};
use sixin_core::store::{HistoryWindow, ListQuery, ListWindow};

use crate::{text_to, Harness};

fn to(p: &crate::Person) -> Recipient {
    Recipient::Member(p.member.uuid.to_string())
}

pub async fn first_send_creates_one_direct_conversation_per_pair(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let first = h.text(&a, &b, "hello").await;
    assert!(first.created);
    let members: Vec<_> = first.deliveries.iter().map(|d| d.member).collect();
    assert_eq!(members, {
        let mut v = vec![a.member.id, b.member.id];
        v.sort();
        v
    });
    let reply = h.text(&b, &a, "hi").await;
    assert_eq!(first.conversation.id, reply.conversation.id);
    assert_eq!(reply.conversation.message_count, 2);
    assert!(reply.message.id > first.message.id);
    assert_eq!(reply.message.sender_uuid, b.member.uuid);
    let direct = h
        .core
        .direct_with(&a.caller, b.member.uuid.as_str())
        .await
        .unwrap();
    assert_eq!(direct, Some(first.conversation.id));
    assert!(matches!(
        h.core.direct_with(&a.caller, a.member.uuid.as_str()).await,
        Err(Error::SelfSend)
    ));
}

pub async fn concurrent_first_sends_share_one_conversation(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (core, from, peer) = if i % 2 == 0 {
            (h.core.clone(), a.caller.clone(), to(&b))
        } else {
            (h.core.clone(), b.caller.clone(), to(&a))
        };
        tasks.push(tokio::spawn(async move {
            core.send(&from, text_to(peer, "x")).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().conversation.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one direct conversation per pair");
    let count = h.core.conversation_count(&a.caller, None).await.unwrap();
    assert_eq!(count, 1);
}

pub async fn bad_sends_are_rejected_and_write_nothing(h: &Harness) {
    let app = h.app().await;
    let other_app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let stranger = h.person(&other_app, "c").await;
    let cases: Vec<(SendMessage, &str)> = vec![
        (text_to(to(&a), "me"), "self"),
        (text_to(to(&stranger), "x"), "other app"),
        (
            text_to(
                Recipient::Member("0123456789ABCDEF0123456789ABCDEF".into()),
                "x",
            ),
            "unknown",
        ),
        (text_to(Recipient::Member("short".into()), "x"), "malformed"),
        (
            SendMessage {
                data: json!({"content": ""}),
                ..text_to(to(&b), "")
            },
            "empty",
        ),
        (
            SendMessage {
                data: json!("plain"),
                ..text_to(to(&b), "")
            },
            "not an object",
        ),
        (
            SendMessage {
                kind: MessageType::Image,
                data: json!({"url": "javascript:alert(1)"}),
                ..text_to(to(&b), "")
            },
            "bad url",
        ),
        (
            SendMessage {
                ext_data: Some("x".repeat(5000)),
                ..text_to(to(&b), "x")
            },
            "ext_data",
        ),
        (
            SendMessage {
                client_msg_id: Some("a b".into()),
                ..text_to(to(&b), "x")
            },
            "key",
        ),
        (
            text_to(
                Recipient::Conversation(sixin_core::ids::ConversationId(i64::MAX)),
                "x",
            ),
            "conv",
        ),
    ];
    for (req, why) in cases {
        let err = h.core.send(&a.caller, req).await.expect_err(why);
        let expected = match why {
            "self" => matches!(err, Error::SelfSend),
            "other app" | "unknown" | "malformed" => matches!(err, Error::NotFound(Entity::Member)),
            "conv" => matches!(err, Error::NotFound(Entity::Conversation)),
            _ => matches!(err, Error::Invalid { .. }),
        };
        assert!(expected, "{why}: {err:?}");
    }
    assert_eq!(h.core.conversation_count(&a.caller, None).await.unwrap(), 0);
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 0);
    assert_eq!(h.core.unread_total(&stranger.caller).await.unwrap(), 0);
    assert_eq!(h.core.messages_sent(), 0);
}

/// Sending by id into a direct conversation one is not a member of is refused as an unknown
/// conversation, before anything about its members is looked at: a member of it who blocks the
/// sender does not turn the answer into "not accepted" (which would tell the sender the
/// conversation exists and who is in it), and nothing is written.
pub async fn a_stranger_cannot_write_into_a_direct_conversation_by_id(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let stranger = h.person(&app, "s").await;
    let conversation = h.text(&a, &b, "hi").await.conversation.id;
    // `a`, the member with the lower id, blocks the stranger.
    h.core
        .block(&a.caller, &stranger.member.uuid.to_string())
        .await
        .unwrap();
    let by_id = text_to(Recipient::Conversation(conversation), "let me in");
    let err = h.core.send(&stranger.caller, by_id).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound(Entity::Conversation)),
        "{err:?}"
    );
    let history = h
        .core
        .history(&b.caller, conversation, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1);
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
}

pub async fn send_is_idempotent_on_client_key(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let req = SendMessage {
        client_msg_id: Some("k-1".into()),
        ..text_to(to(&b), "once")
    };
    let first = h.core.send(&a.caller, req.clone()).await.unwrap();
    let retry = h.core.send(&a.caller, req.clone()).await.unwrap();
    assert!(first.created && !retry.created);
    assert_eq!(first.message.id, retry.message.id);
    assert_eq!(retry.message.client_msg_id.as_deref(), Some("k-1"));
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
    let other = SendMessage {
        client_msg_id: Some("k-2".into()),
        ..req
    };
    assert!(h.core.send(&a.caller, other).await.unwrap().created);
    let page = h
        .core
        .history(&b.caller, first.conversation.id, HistoryWindow::Latest, 10);
    assert_eq!(page.await.unwrap().items.len(), 2);
}

pub async fn multi_send_reports_each_recipient(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let (b, c) = (h.person(&app, "b").await, h.person(&app, "c").await);
    let req = MultiSend {
        to: vec![
            b.member.uuid.to_string(),
            a.member.uuid.to_string(),
            "0123456789ABCDEF0123456789ABCDEF".into(),
            c.member.uuid.as_str().to_lowercase(),
            "garbage".into(),
            b.member.uuid.to_string(),
        ],
        kind: MessageType::Text,
        data: json!({"content": "news"}),
        ext_data: None,
        client_msg_id: None,
    };
    let items = h.core.multi_send(&a.caller, req).await.unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(items[0].to, b.member.uuid.as_str());
    assert!(matches!(items[1].result, Err(Error::SelfSend)));
    assert!(matches!(
        items[2].result,
        Err(Error::NotFound(Entity::Member))
    ));
    assert_eq!(
        items[3].to,
        c.member.uuid.as_str(),
        "normalised to upper case"
    );
    assert!(matches!(
        items[4].result,
        Err(Error::NotFound(Entity::Member))
    ));
    let sent_b = items[0].result.as_ref().unwrap();
    let sent_c = items[3].result.as_ref().unwrap();
    assert_eq!(
        items[5].result.as_ref().unwrap().message.id,
        sent_b.message.id
    );
    assert_ne!(sent_b.conversation.id, sent_c.conversation.id);
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
    assert_eq!(h.core.unread_total(&c.caller).await.unwrap(), 1);
    assert_eq!(h.core.messages_sent(), 2);
    let list = h.core.conversations(
        &a.caller,
        ListQuery {
            kind: None,
            window: ListWindow::First,
            limit: 10,
        },
    );
    assert_eq!(list.await.unwrap().items.len(), 2);
}

pub async fn multi_send_limits_recipients(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let req = |n: usize| MultiSend {
        to: vec!["0123456789ABCDEF0123456789ABCDEF".to_string(); n],
        kind: MessageType::Text,
        data: json!({"content": "x"}),
        ext_data: None,
        client_msg_id: None,
    };
    assert!(matches!(
        h.core.multi_send(&a.caller, req(0)).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        h.core.multi_send(&a.caller, req(201)).await,
        Err(Error::TooManyRecipients { max: 200 })
    ));
    let ok = h.core.multi_send(&a.caller, req(200)).await.unwrap();
    assert!(ok.iter().all(|i| i.result.is_err()));
    let bad = MultiSend {
        data: json!({"content": ""}),
        ..req(1)
    };
    assert!(matches!(
        h.core.multi_send(&a.caller, bad).await,
        Err(Error::Invalid { .. })
    ));
}
