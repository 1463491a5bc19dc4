//! The app's backend acting in its members' place: group changes by [`Actor::App`] under the
//! same rules and limit inside the store's transaction, and the system sender's direct
//! conversations, which nobody writes into.

use serde_json::json;
use sixin_core::ids::Timestamp;
use sixin_core::model::MessageType;
use sixin_core::service::{AppMember, AppRecipients, AppSend, AppSender, AppSent};
use sixin_core::store::{Actor, NewContent, Refusal, SendChecks, SendTarget, StoreError};

use crate::Harness;

/// A member's own send, under no daily cap.
const MEMBER: SendChecks = SendChecks {
    consent: true,
    new_direct_cap: None,
};

fn refused(r: Result<impl std::fmt::Debug, StoreError>) -> Refusal {
    match r {
        Err(StoreError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub async fn the_app_changes_any_group_within_its_limit(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let (o, a, b, c) = (
        h.person(&app, "o").await,
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    let g = h
        .core
        .create_group(&o.caller, "g", vec![a.member.uuid.to_string()])
        .await
        .unwrap()
        .conversation
        .id;
    let now = Timestamp(10);
    let s = &h.store;
    let (ids_b, ids_bc) = ([b.member.id], [b.member.id, c.member.id]);
    // The limit holds for the app too: 2 members + 2 would be 4 > 3.
    assert_eq!(
        refused(s.add_members(app.id, Actor::App, g, &ids_bc, 3, now).await),
        Refusal::GroupFull { max: 3 }
    );
    // A member who is not the owner may not add; the app may.
    assert_eq!(
        refused(
            s.add_members(app.id, Actor::Member(a.member.id), g, &ids_b, 10, now)
                .await
        ),
        Refusal::NotOwner
    );
    let added = s
        .add_members(app.id, Actor::App, g, &ids_b, 3, now)
        .await
        .unwrap();
    assert_eq!(added.changed, vec![b.member.id]);
    // The app removes the owner; ownership passes to the longest-standing member.
    let gone = s
        .remove_member(app.id, Actor::App, g, o.member.id, now)
        .await
        .unwrap();
    assert_eq!(gone.changed, vec![o.member.id]);
    assert_ne!(gone.conversation.owner, o.member.id);
    assert!(!gone.deliveries.is_empty(), "the change is in the streams");
    // Not another app's group, and not a direct conversation.
    assert_eq!(
        refused(s.add_members(other.id, Actor::App, g, &[], 10, now).await),
        Refusal::NotMember
    );
    let direct = h.text(&a, &c, "hi").await.conversation.id;
    assert_eq!(
        refused(
            s.remove_member(app.id, Actor::App, direct, c.member.id, now)
                .await
        ),
        Refusal::NotGroup
    );
}

pub async fn members_are_found_by_external_ids_in_their_app_only(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let a = h.provisioned(&app, "e-1", "a").await;
    let b = h.provisioned(&app, "e-2", "b").await;
    h.provisioned(&other, "e-3", "c").await;
    h.person(&app, "no-external-id").await;
    let ids = ["e-1", "e-2", "e-3", "nobody"].map(str::to_owned);
    let mut found: Vec<_> = h
        .store
        .members_by_external_ids(app.id, &ids)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    found.sort();
    assert_eq!(found, vec![a.member.id, b.member.id]);
    assert!(h
        .store
        .members_by_external_ids(app.id, &[])
        .await
        .unwrap()
        .is_empty());
}

pub async fn nobody_writes_to_the_system_sender(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let backend = h.backend(&app).await;
    // Concurrent first uses create one system member.
    let firsts = (0..4).map(|_| h.core.system_member(&backend));
    let all = futures::future::join_all(firsts).await;
    let system = all[0].as_ref().unwrap().clone();
    for m in &all {
        assert_eq!(m.as_ref().unwrap().id, system.id);
    }
    let notice = AppSend {
        from: AppSender::System,
        to: AppRecipients::One(AppMember::Uuid(a.member.uuid.to_string())),
        kind: MessageType::Text,
        data: json!({"content": "notice"}),
        ext_data: None,
        client_msg_id: None,
    };
    let AppSent::One(sent) = h.core.app_send(&backend, notice).await.unwrap() else {
        panic!("one recipient, one message");
    };
    assert_eq!(sent.message.sender, system.id);
    let content = |text: &str| NewContent {
        kind: MessageType::Text,
        data: json!({"content": text}),
        ext_data: None,
        client_msg_id: None,
        created_at: Timestamp(20),
    };
    let into = SendTarget::Conversation(sent.conversation.id);
    // The store refuses a write into it by conversation id inside its transaction …
    assert_eq!(
        refused(
            h.store
                .send(app.id, a.member.id, into, content("reply"), MEMBER)
                .await
        ),
        Refusal::NoticesOnly
    );
    // … while the system sender itself writes there.
    h.store
        .send(app.id, system.id, into, content("more"), SendChecks::NOTICE)
        .await
        .unwrap();
}
