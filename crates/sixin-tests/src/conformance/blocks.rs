//! Blocks and who may message a member (issue 12): the block list, refusals of direct sends in
//! new and existing conversations (by member and by conversation id), in multi-send per
//! recipient, and of group adds by a member; the who-may-message-me settings and the app's
//! default; erase.

use std::time::Duration;

use serde_json::json;
use sixin_core::error::{Entity, Error};
use sixin_core::model::{DmPolicy, MessageType, Sent};
use sixin_core::service::{AppMember, AppRecipients, AppSend, AppSender, MultiSend, Recipient};
use sixin_core::store::{BlockCursor, HistoryWindow};

use crate::{text_to, Harness, Person};

fn uuid(p: &Person) -> String {
    p.member.uuid.to_string()
}

/// `from` sends a text to `to`, directly.
async fn dm(h: &Harness, from: &Person, to: &Person) -> Result<Sent, Error> {
    let req = text_to(Recipient::Member(uuid(to)), "hi");
    h.core.send(&from.caller, req).await
}

fn assert_not_accepted<T: std::fmt::Debug>(r: Result<T, Error>) {
    match r {
        Err(Error::NotAccepted) => {}
        other => panic!("expected not_accepted, got {other:?}"),
    }
}

/// The backend's send of a text as `from` (a member) or as the system sender (`None`).
fn app_text(from: Option<&Person>, to: &Person) -> AppSend {
    AppSend {
        from: from.map_or(AppSender::System, |p| {
            AppSender::Member(AppMember::Uuid(uuid(p)))
        }),
        to: AppRecipients::One(AppMember::Uuid(uuid(to))),
        kind: MessageType::Text,
        data: json!({"content": "from the app"}),
        ext_data: None,
        client_msg_id: None,
    }
}

pub async fn blocks_are_idempotent_listed_newest_first_and_lifted(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let a = h.person(&app, "a").await;
    let mut blocked = Vec::new();
    for name in ["b", "c", "d"] {
        let p = h.person(&app, name).await;
        h.clock.advance(Duration::from_secs(1));
        let entry = h.core.block(&a.caller, &uuid(&p)).await.unwrap();
        assert_eq!(entry.member.uuid, p.member.uuid);
        assert_eq!(entry.created_at, h.core.now());
        blocked.push((p, entry.created_at));
    }
    // Blocking again keeps the first time.
    h.clock.advance(Duration::from_secs(1));
    let again = h.core.block(&a.caller, &uuid(&blocked[0].0)).await.unwrap();
    assert_eq!(again.created_at, blocked[0].1);

    let first = h.core.blocks(&a.caller, None, 2).await.unwrap();
    let names: Vec<&str> = first
        .items
        .iter()
        .map(|b| b.member.username.as_str())
        .collect();
    assert_eq!(names, ["d", "c"], "most recent first");
    assert!(first.has_more);
    let last = &first.items[1];
    let after = BlockCursor {
        created_at: last.created_at,
        member: last.member.id,
    };
    let rest = h.core.blocks(&a.caller, Some(after), 2).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].member.username, "b");
    assert!(!rest.has_more);

    assert!(h
        .core
        .unblock(&a.caller, &uuid(&blocked[1].0))
        .await
        .unwrap());
    assert!(!h
        .core
        .unblock(&a.caller, &uuid(&blocked[1].0))
        .await
        .unwrap());
    let now: Vec<String> = h
        .core
        .blocks(&a.caller, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|b| b.member.username)
        .collect();
    assert_eq!(now, ["d", "b"]);

    // Refusals: yourself, unknown, another app's member, the system sender.
    let stranger = h.person(&other, "s").await;
    assert!(matches!(
        h.core.block(&a.caller, &uuid(&a)).await,
        Err(Error::SelfSend)
    ));
    for who in [
        uuid(&stranger),
        "0123456789ABCDEF0123456789ABCDEF".into(),
        "x".into(),
    ] {
        assert!(matches!(
            h.core.block(&a.caller, &who).await,
            Err(Error::NotFound(Entity::Member))
        ));
    }
    let system = h.core.system_member(&h.backend(&app).await).await.unwrap();
    assert!(matches!(
        h.core.block(&a.caller, system.uuid.as_str()).await,
        Err(Error::Invalid { .. })
    ));
    // Someone else's list is their own.
    let b = &blocked[0].0;
    assert!(h
        .core
        .blocks(&b.caller, None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        h.core.blocks(&a.caller, None, 0).await,
        Err(Error::Invalid { .. })
    ));
}

pub async fn a_blocked_member_cannot_message_the_blocker(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    // No conversation yet: refused, and nothing is created.
    h.core.block(&b.caller, &uuid(&a)).await.unwrap();
    assert_not_accepted(dm(h, &a, &b).await);
    assert_eq!(h.core.conversation_count(&a.caller, None).await.unwrap(), 0);
    // The blocker may still write to the member they block.
    let opened = dm(h, &b, &a).await.unwrap();
    let conversation = opened.conversation.id;
    // In the conversation that now exists: refused by member and by conversation id.
    assert_not_accepted(dm(h, &a, &b).await);
    let by_id = text_to(Recipient::Conversation(conversation), "still there?");
    assert_not_accepted(h.core.send(&a.caller, by_id.clone()).await);
    // The backend sending as the blocked member is refused too; the app's notices are not.
    let backend = h.backend(&app).await;
    assert_not_accepted(h.core.app_send(&backend, app_text(Some(&a), &b)).await);
    h.core.app_send(&backend, app_text(None, &b)).await.unwrap();
    let history = h
        .core
        .history(&b.caller, conversation, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(
        history.items.len(),
        1,
        "nothing of the refused sends was written"
    );
    assert_eq!(
        h.core.unread_total(&b.caller).await.unwrap(),
        1,
        "the notice only"
    );
    // Lifted: the conversation carries on.
    h.core.unblock(&b.caller, &uuid(&a)).await.unwrap();
    let sent = h.core.send(&a.caller, by_id).await.unwrap();
    assert_eq!(sent.conversation.id, conversation);
    dm(h, &a, &b).await.unwrap();
}

pub async fn multi_send_refuses_a_blocking_recipient_alone(h: &Harness) {
    let app = h.app().await;
    let (a, b, c, d) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
        h.person(&app, "d").await,
    );
    // c blocks a in a conversation that exists; d blocks a before any.
    dm(h, &a, &c).await.unwrap();
    h.core.block(&c.caller, &uuid(&a)).await.unwrap();
    h.core.block(&d.caller, &uuid(&a)).await.unwrap();
    let req = MultiSend {
        to: vec![uuid(&c), uuid(&b), uuid(&d), uuid(&b)],
        kind: MessageType::Text,
        data: json!({"content": "to all"}),
        ext_data: None,
        client_msg_id: None,
    };
    let items = h.core.multi_send(&a.caller, req).await.unwrap();
    assert!(
        matches!(items[0].result, Err(Error::NotAccepted)),
        "{:?}",
        items[0]
    );
    assert!(items[1].result.is_ok(), "{:?}", items[1]);
    assert!(
        matches!(items[2].result, Err(Error::NotAccepted)),
        "{:?}",
        items[2]
    );
    let (first, again) = (
        items[1].result.as_ref().unwrap(),
        items[3].result.as_ref().unwrap(),
    );
    assert_eq!(
        first.message.id, again.message.id,
        "one message per recipient"
    );
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
    assert_eq!(
        h.core.unread_total(&c.caller).await.unwrap(),
        1,
        "the earlier message only"
    );
    assert_eq!(h.core.conversation_count(&d.caller, None).await.unwrap(), 0);
    // The member that was sent to sees it in their stream; the refused ones see nothing new.
    let b_events = h
        .store
        .events_since(app.id, b.member.id, sixin_core::ids::Position(0), 10)
        .await
        .unwrap();
    let d_events = h
        .store
        .events_since(app.id, d.member.id, sixin_core::ids::Position(0), 10)
        .await
        .unwrap();
    assert!(
        matches!(b_events, sixin_core::store::Events::Page { ref events, .. } if events.len() == 1)
    );
    assert!(
        matches!(d_events, sixin_core::store::Events::Page { ref events, .. } if events.is_empty())
    );
}

pub async fn members_cannot_put_who_blocks_them_in_a_group(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    h.core.block(&c.caller, &uuid(&a)).await.unwrap();
    assert_not_accepted(
        h.core
            .create_group(&a.caller, "g", vec![uuid(&b), uuid(&c)])
            .await,
    );
    assert_eq!(h.core.conversation_count(&a.caller, None).await.unwrap(), 0);
    let g = h
        .core
        .create_group(&a.caller, "g", vec![uuid(&b)])
        .await
        .unwrap()
        .conversation
        .id;
    assert_not_accepted(h.core.add_members(&a.caller, g, vec![uuid(&c)]).await);
    assert_eq!(h.core.participants(&a.caller, g).await.unwrap().len(), 2);
    // The app's backend is above blocks: it adds c, and creates a group with both for a.
    let backend = h.backend(&app).await;
    let added = h
        .core
        .app_add_members(&backend, g, vec![AppMember::Uuid(uuid(&c))])
        .await
        .unwrap();
    assert_eq!(added.changed, vec![c.member.id]);
    let owner = AppMember::Uuid(uuid(&a));
    h.core
        .app_create_group(&backend, &owner, "h", vec![AppMember::Uuid(uuid(&c))])
        .await
        .unwrap();
    // A block hides no group message: a writes to the group, c reads it.
    let sent = h
        .core
        .send(&a.caller, text_to(Recipient::Conversation(g), "all"))
        .await
        .unwrap();
    let seen = h
        .core
        .history(&c.caller, g, HistoryWindow::Latest, 5)
        .await
        .unwrap();
    assert_eq!(
        seen.items.last().map(|i| i.message.id),
        Some(sent.message.id)
    );
}

pub async fn who_may_message_follows_the_member_then_the_app_default(h: &Harness) {
    let app = h.app().await;
    let (a, b, c, d) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
        h.person(&app, "d").await,
    );
    let setting = h.core.dm_setting(&b.caller);
    assert_eq!((setting.own, setting.effective), (None, DmPolicy::Everyone));
    // contacts: only members b shares a group with.
    let set = h
        .core
        .set_dm_policy(&b.caller, Some(DmPolicy::Contacts))
        .await
        .unwrap();
    assert_eq!(
        (set.own, set.effective),
        (Some(DmPolicy::Contacts), DmPolicy::Contacts)
    );
    assert_not_accepted(dm(h, &a, &b).await);
    h.core
        .create_group(&c.caller, "club", vec![uuid(&a), uuid(&b)])
        .await
        .unwrap();
    dm(h, &a, &b).await.unwrap();
    // nobody: no new conversation, while one that exists carries on.
    dm(h, &d, &b).await.unwrap_err();
    dm(h, &c, &b).await.unwrap();
    h.core
        .set_dm_policy(&b.caller, Some(DmPolicy::Nobody))
        .await
        .unwrap();
    dm(h, &c, &b).await.unwrap();
    dm(h, &a, &b).await.unwrap();
    assert_not_accepted(dm(h, &d, &b).await);
    // The backend as a member is held to it; the app's notices are not.
    let backend = h.backend(&app).await;
    assert_not_accepted(h.core.app_send(&backend, app_text(Some(&d), &b)).await);
    h.core.app_send(&backend, app_text(None, &b)).await.unwrap();
    // The app's default, for members who have not chosen; a member's own choice wins.
    let changed = h
        .core
        .set_app_dm_policy(&backend, DmPolicy::Nobody)
        .await
        .unwrap();
    assert_eq!(changed.dm_policy, DmPolicy::Nobody);
    assert_not_accepted(dm(h, &a, &d).await);
    h.core.set_dm_policy(&b.caller, None).await.unwrap();
    h.core
        .set_dm_policy(&d.caller, Some(DmPolicy::Everyone))
        .await
        .unwrap();
    dm(h, &a, &d).await.unwrap();
    let fresh = h.core.authenticate(&b.token).await.unwrap();
    let setting = h.core.dm_setting(&fresh);
    assert_eq!((setting.own, setting.effective), (None, DmPolicy::Nobody));
}

pub async fn erasing_a_member_deletes_their_blocks_both_ways(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    h.core.block(&a.caller, &uuid(&b)).await.unwrap();
    h.core.block(&b.caller, &uuid(&c)).await.unwrap();
    h.core.block(&a.caller, &uuid(&c)).await.unwrap();
    let backend = h.backend(&app).await;
    let by = sixin_core::service::MemberLookup::Uuid(b.member.uuid.as_str());
    h.core.erase_member(&backend, by).await.unwrap();
    let left: Vec<String> = h
        .core
        .blocks(&a.caller, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.member.uuid.to_string())
        .collect();
    assert_eq!(
        left,
        [uuid(&c)],
        "a's block of b is gone, a's block of c stays"
    );
    let of_b = h.store.blocks(app.id, b.member.id, None, 10).await.unwrap();
    assert!(of_b.items.is_empty(), "b's own blocks are gone");
    // b blocked c: c's messages reach the tombstone again.
    dm(h, &c, &b).await.unwrap();
}
