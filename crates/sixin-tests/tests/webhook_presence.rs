//! The offline hint, on SQLite and PostgreSQL: a `message.created` webhook names, in
//! `offline_recipients`, the recipients who had no event stream open on any live node when
//! the message committed. Two cores over one store stand for two nodes (each with its own
//! node id and presence task); a real receiver on loopback gets the payloads.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use sixin_core::service::Recipient;
use sixin_core::Core;
use sixin_tests::webhooks::{live_config, Receiver, Rig};
use sixin_tests::{text_to, Person, TestDb};

const WAIT: Duration = Duration::from_secs(20);

/// The uuids in a payload's list of member references.
fn uuids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["uuid"].as_str().unwrap().to_owned())
        .collect()
}

fn of(people: &[&Person]) -> BTreeSet<String> {
    people.iter().map(|p| p.member.uuid.to_string()).collect()
}

/// Sends `text` to the group and returns its `message.created` payload's data.
async fn send(core: &Core, hook: &Receiver, from: &Person, group: Recipient, text: &str) -> Value {
    core.send(&from.caller, text_to(group, text)).await.unwrap();
    let got = hook
        .until(WAIT, |r| r.iter().any(|r| r.body.contains(text)))
        .await;
    let hit = got.iter().find(|r| r.body.contains(text)).unwrap();
    hit.json()["data"].clone()
}

async fn the_offline_hint_names_recipients_without_a_stream_on_any_node(db: TestDb) {
    let rig = Rig::start(db, live_config(WAIT), Duration::from_secs(2)).await;
    let hook = Receiver::start().await;
    rig.endpoint(&hook.url(), json!(["message.created"])).await;
    let h = rig.api.h();
    let other_node = h.core_with(live_config(WAIT));
    assert_ne!(h.core.node(), other_node.node());
    let ann = h.person(&rig.app, "ann").await;
    let bob = h.person(&rig.app, "bob").await;
    let cat = h.person(&rig.app, "cat").await;
    let dan = h.person(&rig.app, "dan").await;
    let members = [&bob, &cat, &dan]
        .iter()
        .map(|p| p.member.uuid.to_string())
        .collect();
    let group = h
        .core
        .create_group(&ann.caller, "team", members)
        .await
        .unwrap();
    let group = Recipient::Conversation(group.conversation.id);

    // Bob listens on this node, Cat on the other one; Dan and Ann (the sender) on none.
    let bob_stream = h.core.subscribe(&bob.token, None).await.unwrap();
    let _cat_stream = other_node.subscribe(&cat.token, None).await.unwrap();
    let first = send(&h.core, &hook, &ann, group.clone(), "first").await;
    assert_eq!(uuids(&first["recipients"]), of(&[&bob, &cat, &dan]));
    assert_eq!(uuids(&first["offline_recipients"]), of(&[&dan]));

    // Bob closes his stream; Dan opens one (on this node, after Bob's close is recorded: one
    // presence task per node takes them in order).
    drop(bob_stream);
    let _dan_stream = h.core.subscribe(&dan.token, None).await.unwrap();
    let second = send(&other_node, &hook, &ann, group.clone(), "second").await;
    assert_eq!(uuids(&second["offline_recipients"]), of(&[&bob]));

    // Two streams of one member: closing one leaves them online.
    let dan_again = h.core.subscribe(&dan.token, None).await.unwrap();
    drop(dan_again);
    let _sync = h.core.subscribe(&bob.token, None).await.unwrap();
    let third = send(&h.core, &hook, &ann, group.clone(), "third").await;
    assert_eq!(uuids(&third["offline_recipients"]), of(&[]));

    // The other node leaves (a clean shutdown): Cat no longer counts, though her stream
    // object still exists there.
    other_node.leave_node().await.unwrap();
    let fourth = send(&h.core, &hook, &ann, group.clone(), "fourth").await;
    assert_eq!(uuids(&fourth["offline_recipients"]), of(&[&cat]));
}

async fn a_node_that_stopped_renewing_counts_for_nobody(db: TestDb) {
    let rig = Rig::start(db, live_config(WAIT), Duration::from_secs(2)).await;
    let hook = Receiver::start().await;
    rig.endpoint(&hook.url(), json!(["message.created"])).await;
    let h = rig.api.h();
    let ann = h.person(&rig.app, "ann").await;
    let bob = h.person(&rig.app, "bob").await;
    let cat = h.person(&rig.app, "cat").await;
    let members = vec![bob.member.uuid.to_string(), cat.member.uuid.to_string()];
    let group = h
        .core
        .create_group(&ann.caller, "team", members)
        .await
        .unwrap();
    let group = Recipient::Conversation(group.conversation.id);
    // As a node that died would have left them: Bob present on a node whose lease ran out a
    // moment ago, Cat on one still renewing.
    let now = h.core.now();
    let (dead, alive) = (now.minus(Duration::from_millis(1)), now.plus(WAIT));
    let store = &h.store;
    store
        .set_presence("dead", dead, vec![bob.member.id], vec![])
        .await
        .unwrap();
    store
        .set_presence("alive", alive, vec![cat.member.id], vec![])
        .await
        .unwrap();
    let data = send(&h.core, &hook, &ann, group.clone(), "hello").await;
    assert_eq!(uuids(&data["offline_recipients"]), of(&[&bob]));
    // Pruning forgets the dead node only once it has been gone a while.
    assert_eq!(store.remove_nodes(None, now).await.unwrap(), 2);
    assert_eq!(store.remove_nodes(None, now).await.unwrap(), 0);
    store
        .set_presence("alive", alive, vec![], vec![cat.member.id])
        .await
        .unwrap();
    let data = send(&h.core, &hook, &ann, group, "again").await;
    assert_eq!(uuids(&data["offline_recipients"]), of(&[&bob, &cat]));
}

sixin_tests::webhook_tests!(
    the_offline_hint_names_recipients_without_a_stream_on_any_node,
    a_node_that_stopped_renewing_counts_for_nobody,
);
