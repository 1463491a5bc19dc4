use std::time::Duration;

use sixin_core::error::{Entity, Error};
use sixin_core::ids::MessageId;
use sixin_core::model::Role;
use sixin_core::service::Recipient;
use sixin_core::store::{HistoryWindow, ListQuery, ListWindow, ReadTarget};

use crate::{text_to, Harness};

pub async fn delete_for_me_hides_for_one_member_only(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    let m1 = h.text(&a, &b, "keep").await.message;
    let m2 = h.text(&a, &b, "hide").await.message;
    h.core.hide(&b.caller, m2.id).await.unwrap();
    assert_eq!(
        h.core.unread_total(&b.caller).await.unwrap(),
        1,
        "a hidden unread stops counting"
    );
    h.core.hide(&b.caller, m2.id).await.unwrap();
    let conv = m1.conversation;
    let mine = h
        .core
        .history(&b.caller, conv, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(
        mine.items.iter().map(|i| i.message.id).collect::<Vec<_>>(),
        vec![m1.id]
    );
    let theirs = h
        .core
        .history(&a.caller, conv, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(theirs.items.len(), 2);
    let list = h.core.conversations(
        &b.caller,
        ListQuery {
            kind: None,
            window: ListWindow::First,
            limit: 5,
        },
    );
    let last = list.await.unwrap().items[0].last_message.clone().unwrap();
    assert_eq!(
        last.message.id, m1.id,
        "the list shows the newest visible message"
    );
    assert!(matches!(
        h.core.hide(&c.caller, m1.id).await,
        Err(Error::NotFound(Entity::Message))
    ));
    let r = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(m2.id))
        .await;
    assert!(matches!(r, Err(Error::NotFound(Entity::Message))));
    assert!(matches!(
        h.core.hide(&b.caller, MessageId(i64::MAX)).await,
        Err(Error::NotFound(_))
    ));
}

pub async fn recall_works_within_the_window_for_the_sender_only(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    let m1 = h.text(&a, &b, "oops").await.message;
    assert!(matches!(
        h.core.recall(&b.caller, m1.id).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        h.core.recall(&c.caller, m1.id).await,
        Err(Error::NotFound(Entity::Message))
    ));
    let recalled = h.core.recall(&a.caller, m1.id).await.unwrap();
    assert!(recalled.recalled_at.is_some());
    assert_eq!(recalled.data, serde_json::json!({}));
    assert_eq!(
        h.core.unread_total(&b.caller).await.unwrap(),
        0,
        "a recalled unread stops counting"
    );
    let again = h.core.recall(&a.caller, m1.id).await.unwrap();
    assert_eq!(again.recalled_at, recalled.recalled_at);
    let seen = h
        .core
        .history(&b.caller, m1.conversation, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(seen.items[0].message.recalled_at, recalled.recalled_at);
    assert_eq!(seen.items[0].message.data, serde_json::json!({}));

    let m2 = h.text(&a, &b, "too late").await.message;
    h.clock
        .advance(h.core.config().recall_window + Duration::from_secs(1));
    assert!(matches!(
        h.core.recall(&a.caller, m2.id).await,
        Err(Error::RecallWindowPassed)
    ));
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
}

pub async fn groups_enforce_owner_rights_and_membership(h: &Harness) {
    let app = h.app().await;
    let o = h.person(&app, "owner").await;
    let (m1, m2, m3) = (
        h.person(&app, "m1").await,
        h.person(&app, "m2").await,
        h.person(&app, "m3").await,
    );
    let uuid = |p: &crate::Person| p.member.uuid.to_string();
    assert!(matches!(
        h.core.create_group(&o.caller, " ", vec![]).await,
        Err(Error::Invalid { .. })
    ));
    let bad = h.core.create_group(
        &o.caller,
        "g",
        vec!["0123456789ABCDEF0123456789ABCDEF".into()],
    );
    assert!(matches!(bad.await, Err(Error::NotFound(Entity::Member))));
    let g = h
        .core
        .create_group(&o.caller, "team", vec![uuid(&m1), uuid(&m2), uuid(&o)])
        .await
        .unwrap();
    assert_eq!(g.conversation.member_count, 3);
    assert_eq!(g.conversation.subject.as_deref(), Some("team"));
    let id = g.conversation.id;

    assert!(matches!(
        h.core.add_members(&m1.caller, id, vec![uuid(&m3)]).await,
        Err(Error::Forbidden(_))
    ));
    let added = h
        .core
        .add_members(&o.caller, id, vec![uuid(&m3)])
        .await
        .unwrap();
    assert_eq!(added.changed, vec![m3.member.id]);
    assert_eq!(added.conversation.member_count, 4);
    let again = h
        .core
        .add_members(&o.caller, id, vec![uuid(&m3)])
        .await
        .unwrap();
    assert!(again.changed.is_empty());
    assert!(matches!(
        h.core.remove_member(&m1.caller, id, &uuid(&m2)).await,
        Err(Error::Forbidden(_))
    ));
    h.core
        .remove_member(&o.caller, id, &uuid(&m2))
        .await
        .unwrap();
    h.core.leave(&m1.caller, id).await.unwrap();
    let gone = h.core.remove_member(&o.caller, id, &uuid(&m1)).await;
    assert!(
        matches!(gone, Err(Error::NotFound(Entity::Member))),
        "{gone:?}"
    );
    h.core.leave(&o.caller, id).await.unwrap();
    let detail = h.core.conversation(&m3.caller, id).await.unwrap();
    assert_eq!(
        detail.conversation.owner, m3.member.id,
        "the longest-standing member inherits"
    );
    assert_eq!(detail.conversation.member_count, 1);
    assert_eq!(detail.participants.len(), 1);
    assert_eq!(detail.participants[0].role, Role::Owner);

    let direct = h.text(&m1, &m2, "hi").await.conversation.id;
    let r = h
        .core
        .add_members(&m1.caller, direct, vec![uuid(&m3)])
        .await;
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
}

pub async fn removed_member_keeps_nothing_new(h: &Harness) {
    let app = h.app().await;
    let o = h.person(&app, "owner").await;
    let (m1, m2) = (h.person(&app, "m1").await, h.person(&app, "m2").await);
    let g = h
        .core
        .create_group(&o.caller, "g", vec![m1.member.uuid.to_string()])
        .await
        .unwrap();
    let id = g.conversation.id;
    let send = |p: &crate::Person, s: &str| {
        let (core, caller, req) = (
            h.core.clone(),
            p.caller.clone(),
            text_to(Recipient::Conversation(id), s),
        );
        async move { core.send(&caller, req).await }
    };
    let before = send(&o, "before").await.unwrap();
    assert_eq!(before.deliveries.len(), 2);
    h.core
        .add_members(&o.caller, id, vec![m2.member.uuid.to_string()])
        .await
        .unwrap();
    let after = send(&m1, "after").await.unwrap();
    let seen = h
        .core
        .history(&m2.caller, id, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    let seen: Vec<_> = seen.items.iter().map(|i| i.message.id).collect();
    assert_eq!(
        seen,
        vec![after.message.id],
        "new members see messages from when they joined"
    );
    assert_eq!(h.core.unread_total(&m2.caller).await.unwrap(), 1);
    assert_eq!(h.core.unread_total(&m1.caller).await.unwrap(), 1);

    h.core
        .remove_member(&o.caller, id, m1.member.uuid.as_str())
        .await
        .unwrap();
    send(&o, "secret").await.unwrap();
    assert!(matches!(
        send(&m1, "let me in").await,
        Err(Error::NotFound(Entity::Conversation))
    ));
    let r = h
        .core
        .history(&m1.caller, id, HistoryWindow::Latest, 10)
        .await;
    assert!(matches!(r, Err(Error::NotFound(Entity::Conversation))));
    assert!(matches!(
        h.core.conversation(&m1.caller, id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(h.core.unread_total(&m1.caller).await.unwrap(), 0);
    assert_eq!(
        h.core.conversation_count(&m1.caller, None).await.unwrap(),
        0
    );
    assert_eq!(h.core.participants(&o.caller, id).await.unwrap().len(), 2);
}

pub async fn every_read_is_scoped_to_its_app(h: &Harness) {
    let (app_a, app_b) = (h.app().await, h.app().await);
    let (a, b) = (h.person(&app_a, "a").await, h.person(&app_a, "b").await);
    let c = h.person(&app_b, "c").await;
    let m = h.text(&a, &b, "private").await.message;
    let conv = m.conversation;
    let nf = |r: Result<(), Error>| matches!(r, Err(Error::NotFound(_)));
    assert!(nf(h
        .core
        .history(&c.caller, conv, HistoryWindow::Latest, 10)
        .await
        .map(|_| ())));
    assert!(nf(h
        .core
        .send(&c.caller, text_to(Recipient::Conversation(conv), "x"))
        .await
        .map(|_| ())));
    assert!(nf(h
        .core
        .mark_read(&c.caller, conv, ReadTarget::All)
        .await
        .map(|_| ())));
    assert!(nf(h.core.conversation(&c.caller, conv).await.map(|_| ())));
    assert!(nf(h.core.participants(&c.caller, conv).await.map(|_| ())));
    assert!(nf(h
        .core
        .profile(&c.caller, a.member.uuid.as_str())
        .await
        .map(|_| ())));
    assert!(nf(h.core.hide(&c.caller, m.id).await));
    assert!(nf(h.core.recall(&c.caller, m.id).await.map(|_| ())));
    assert!(nf(h
        .core
        .direct_with(&c.caller, a.member.uuid.as_str())
        .await
        .map(|_| ())));
    let cross = h
        .core
        .authenticate_member(&app_b, a.member.uuid.as_str(), &a.token)
        .await;
    assert!(matches!(cross, Err(Error::Unauthenticated)));
    assert_eq!(h.core.unread_total(&c.caller).await.unwrap(), 0);
    let list = h.core.conversations(
        &c.caller,
        ListQuery {
            kind: None,
            window: ListWindow::First,
            limit: 10,
        },
    );
    assert!(list.await.unwrap().items.is_empty());
    assert_eq!(
        h.core
            .profile(&b.caller, a.member.uuid.as_str())
            .await
            .unwrap()
            .username,
        "a"
    );
}

pub async fn concurrent_group_sends_keep_unread_exact(h: &Harness) {
    const MEMBERS: usize = 6;
    const EACH: usize = 20;
    let app = h.app().await;
    let mut people = Vec::new();
    for i in 0..MEMBERS {
        people.push(h.person(&app, &format!("p{i}")).await);
    }
    let others = people[1..]
        .iter()
        .map(|p| p.member.uuid.to_string())
        .collect();
    let g = h
        .core
        .create_group(&people[0].caller, "load", others)
        .await
        .unwrap();
    let id = g.conversation.id;
    let mut tasks = Vec::new();
    for p in &people {
        let (core, caller) = (h.core.clone(), p.caller.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                core.send(
                    &caller,
                    text_to(Recipient::Conversation(id), &format!("{i}")),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
    }
    for p in &people {
        assert_eq!(
            h.core.unread_total(&p.caller).await.unwrap(),
            ((MEMBERS - 1) * EACH) as u64,
            "{}",
            p.member.username
        );
    }
    let detail = h.core.conversation(&people[0].caller, id).await.unwrap();
    assert_eq!(detail.conversation.message_count, (MEMBERS * EACH) as i64);
    assert_eq!(detail.visible_count, (MEMBERS * EACH) as i64);
}
