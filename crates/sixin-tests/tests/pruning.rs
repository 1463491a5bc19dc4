//! Storage stays bounded, on SQLite and PostgreSQL: `Core::prune` keeps each member's newest
//! `max_replay` events and none older than `max_event_age` (a client resuming from a pruned
//! position is told to resync, one resuming within them continues), and deletes outbox entries past the webhook retention
//! unless a delivery of theirs is still pending.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sixin_core::ids::{OutboxId, Position};
use sixin_core::service::WebhookSpec;
use sixin_core::store::Events;
use sixin_core::testing::fast_config;
use sixin_core::webhook::WebhookPolicy;
use sixin_core::CoreConfig;
use sixin_tests::Harness;

fn config() -> CoreConfig {
    CoreConfig {
        max_replay: 3,
        webhooks: WebhookPolicy {
            allow_private_targets: true,
            ..WebhookPolicy::default()
        },
        ..fast_config()
    }
}

async fn pruning_keeps_the_newest_max_replay_events_per_member(h: Harness) {
    let h = h.reconfigured(config());
    let app = h.app().await;
    let (a, b) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    for i in 0..6 {
        h.text(&a, &b, &format!("m{i}")).await;
    }
    let latest = |e: &Events| match e {
        Events::Page { latest, .. } | Events::Resync { latest } => *latest,
    };
    let before = h
        .store
        .events_since(app.id, b.member.id, Position(0), 100)
        .await
        .unwrap();
    let Events::Page { events, .. } = &before else {
        panic!("nothing is pruned yet: {before:?}")
    };
    assert_eq!(events.len(), 6);
    let top = latest(&before);
    assert!(
        h.core.prune().await.unwrap() >= 6,
        "3 of each member's 6 go"
    );
    let after = h
        .store
        .events_since(app.id, b.member.id, Position(0), 100)
        .await
        .unwrap();
    assert!(matches!(after, Events::Resync { .. }), "{after:?}");
    let within = Position(top.0 - 3);
    let kept = h
        .store
        .events_since(app.id, b.member.id, within, 100)
        .await
        .unwrap();
    let Events::Page { events, .. } = kept else {
        panic!("the newest 3 are kept")
    };
    let positions: Vec<i64> = events.iter().map(|e| e.position.0).collect();
    assert_eq!(positions, [top.0 - 2, top.0 - 1, top.0]);
    assert_eq!(
        h.core.prune().await.unwrap(),
        0,
        "a second pass finds nothing"
    );
}

async fn settled_outbox_entries_go_after_the_retention_and_pending_ones_stay(h: Harness) {
    let h = h.reconfigured(config());
    let app = h.app().await;
    let backend = h.backend(&app).await;
    let spec = |enabled| WebhookSpec {
        url: "http://127.0.0.1:9/hook".into(),
        events: None,
        description: None,
        enabled: Some(enabled),
    };
    let paused = h.core.create_webhook(&backend, spec(false)).await.unwrap();
    let (a, b) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    h.text(&a, &b, "nobody listens").await;
    let live = h.core.create_webhook(&backend, spec(true)).await.unwrap();
    h.text(&a, &b, "queued").await;
    h.clock.advance(Duration::from_secs(8 * 24 * 3600));
    h.core.prune().await.unwrap();
    let pending = h
        .core
        .webhook_deliveries(&backend, live.id, None, None, 100)
        .await
        .unwrap();
    assert_eq!(pending.items.len(), 1, "the pending delivery stays");
    // Only that entry is left in the outbox: a replay from the start finds it alone.
    let replayed = h
        .core
        .replay_webhook(&backend, paused.id, OutboxId(0))
        .await
        .unwrap();
    assert_eq!(
        replayed.queued, 1,
        "the entries without pending deliveries are gone"
    );
}

async fn events_older_than_the_age_limit_go_even_within_max_replay(h: Harness) {
    let h = h.reconfigured(CoreConfig {
        max_replay: 100,
        max_event_age: Duration::from_secs(3600),
        ..config()
    });
    let app = h.app().await;
    let (a, b) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    for i in 0..3 {
        h.text(&a, &b, &format!("old {i}")).await;
    }
    let events = |after: i64| {
        let (store, app, bob) = (h.store.clone(), app.id, b.member.id);
        async move {
            store
                .events_since(app, bob, Position(after), 100)
                .await
                .unwrap()
        }
    };
    let Events::Page { latest: old, .. } = events(0).await else {
        panic!("nothing is pruned yet")
    };
    h.clock.advance(Duration::from_secs(3000));
    h.text(&a, &b, "recent").await;
    assert_eq!(
        h.core.prune().await.unwrap(),
        0,
        "nothing is an hour old yet"
    );
    h.clock.advance(Duration::from_secs(700));
    h.text(&a, &b, "newest").await;
    // Ann's and Bob's three first events are past the hour; the others stay.
    assert_eq!(h.core.prune().await.unwrap(), 6);
    assert!(matches!(events(0).await, Events::Resync { .. }));
    let Events::Page { events: kept, .. } = events(old.0).await else {
        panic!("a client that saw the old events continues")
    };
    let texts: Vec<String> = kept
        .iter()
        .map(|e| match &e.kind {
            sixin_core::EventKind::Message { message } => message.data["content"].to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["\"recent\"", "\"newest\""]);
    // A member whose every event is past the age keeps none, and resumes from the latest.
    h.clock.advance(Duration::from_secs(7200));
    assert_eq!(h.core.prune().await.unwrap(), 4);
    let Events::Page {
        events: none,
        latest,
    } = events(old.0 + 2).await
    else {
        panic!("the latest position still continues")
    };
    assert!(none.is_empty());
    assert_eq!(latest, Position(old.0 + 2));
    assert!(matches!(events(old.0).await, Events::Resync { .. }));
}

sixin_tests::both_backends!(
    events_older_than_the_age_limit_go_even_within_max_replay,
    pruning_keeps_the_newest_max_replay_events_per_member,
    settled_outbox_entries_go_after_the_retention_and_pending_ones_stay,
);
