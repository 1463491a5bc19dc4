//! Event streams through the core: resume by position, the store/live seam, resync, slow
//! consumers, the per-member cap, and a second node whose bus never hears the first.

use std::sync::Arc;
use std::time::Duration;

use sixin_core::bus::EventKind;
use sixin_core::ids::Position;
use sixin_core::service::{EventStream, Recipient, StreamItem};
use sixin_core::testing::fast_config;
use sixin_core::{Core, CoreConfig, Error, LocalBus};

use crate::{text_to, Harness, Person};

/// The next item, failing the test after 10 s instead of hanging.
async fn next(s: &mut EventStream) -> StreamItem {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("an item within 10 s")
        .expect("no store error")
}

/// The next `n` items, which must all be events; their positions.
async fn positions(s: &mut EventStream, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match next(s).await {
            StreamItem::Event(e) => out.push(e.position.0),
            other => panic!("expected an event, got {other:?}"),
        }
    }
    out
}

/// Nothing more arrives within a short wait.
async fn quiet(s: &mut EventStream) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(200), s.next()).await {
        panic!("expected nothing, got {item:?}");
    }
}

/// Another core over the same store with its own bus: a second node without NATS.
fn node(h: &Harness, cfg: CoreConfig) -> Core {
    Core::new(
        h.store.clone(),
        Arc::new(LocalBus::default()),
        h.clock.clone(),
        cfg,
    )
}

async fn send(core: &Core, from: &Person, to: &Person, text: &str) {
    let req = text_to(Recipient::Member(to.member.uuid.to_string()), text);
    core.send(&from.caller, req).await.expect("send");
}

pub async fn streams_resume_by_position_without_gap_or_duplicate(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    h.text(&a, &b, "before").await;

    let mut live = h.core.subscribe(&b.token, None).await.unwrap();
    assert_eq!(
        live.position(),
        Position(1),
        "opened at the latest position"
    );
    for i in 0..3 {
        h.text(&a, &b, &format!("live {i}")).await;
    }
    assert_eq!(positions(&mut live, 3).await, vec![2, 3, 4]);
    let resume_at = live.position();
    drop(live);

    // Missed while away, then live after reconnecting.
    h.text(&a, &b, "missed 1").await;
    h.text(&b, &a, "missed 2 (own, from another device)").await;
    let mut back = h.core.subscribe(&b.token, Some(resume_at)).await.unwrap();
    h.text(&a, &b, "live again").await;
    let mut got = Vec::new();
    for _ in 0..3 {
        match next(&mut back).await {
            StreamItem::Event(e) => match e.kind {
                EventKind::Message { message } => {
                    got.push((e.position.0, message.data["content"].clone()))
                }
                other => panic!("expected messages, got {other:?}"),
            },
            other => panic!("expected an event, got {other:?}"),
        }
    }
    assert_eq!(
        got,
        vec![
            (5, "missed 1".into()),
            (6, "missed 2 (own, from another device)".into()),
            (7, "live again".into())
        ]
    );
    quiet(&mut back).await;

    // Everything from the start, from the store.
    let mut all = h.core.subscribe(&b.token, Some(Position(0))).await.unwrap();
    assert_eq!(positions(&mut all, 7).await, (1..=7).collect::<Vec<_>>());
}

pub async fn the_store_live_seam_holds_under_concurrent_sends(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    const N: usize = 60;
    let core = h.core.clone();
    let (a_caller, to_b) = (a.caller.clone(), b.member.uuid.to_string());
    let sender = tokio::spawn(async move {
        for i in 0..N {
            let req = text_to(Recipient::Member(to_b.clone()), &format!("m{i}"));
            core.send(&a_caller, req).await.expect("send");
        }
    });
    // Opened while sends are committing, from the very start: every event exactly once.
    tokio::task::yield_now().await;
    let mut s = h.core.subscribe(&b.token, Some(Position(0))).await.unwrap();
    let got = positions(&mut s, N).await;
    sender.await.unwrap();
    assert_eq!(got, (1..=N as i64).collect::<Vec<_>>());
    quiet(&mut s).await;
}

pub async fn streams_ask_to_resync_when_they_cannot_replay(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let node = node(
        h,
        CoreConfig {
            max_replay: 3,
            ..fast_config()
        },
    );
    for i in 0..5 {
        h.text(&a, &b, &format!("m{i}")).await;
    }
    // Five behind with a replay limit of three: resync, then live from the latest position.
    let mut s = node.subscribe(&b.token, Some(Position(0))).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        StreamItem::Resync {
            latest: Position(5)
        }
    );
    send(&node, &a, &b, "after").await;
    assert_eq!(positions(&mut s, 1).await, vec![6]);

    // Within the limit: a plain replay.
    let mut s = node.subscribe(&b.token, Some(Position(3))).await.unwrap();
    assert_eq!(positions(&mut s, 3).await, vec![4, 5, 6]);

    // A position the stream never reached.
    let mut s = node.subscribe(&b.token, Some(Position(99))).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        StreamItem::Resync {
            latest: Position(6)
        }
    );
    let err = node.subscribe(&b.token, Some(Position(-1))).await;
    assert!(matches!(err, Err(Error::Invalid { field: "after", .. })));
}

pub async fn slow_streams_end_as_lagged_without_holding_up_senders(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let node = node(
        h,
        CoreConfig {
            stream_buffer: 4,
            ..fast_config()
        },
    );
    let mut slow = node.subscribe(&b.token, None).await.unwrap();
    let mut fine = node.subscribe(&a.token, None).await.unwrap();
    // Nobody reads `slow` while ten messages are sent; every send completes.
    for i in 0..10 {
        let text = format!("{i}");
        tokio::time::timeout(Duration::from_secs(10), send(&node, &a, &b, &text))
            .await
            .expect("a slow stream never blocks a sender");
        // The other stream keeps up, one event per send.
        assert_eq!(positions(&mut fine, 1).await, vec![i + 1]);
    }
    // The slow one drains its buffer, then is told it lagged.
    assert_eq!(positions(&mut slow, 4).await, vec![1, 2, 3, 4]);
    assert_eq!(next(&mut slow).await, StreamItem::Lagged);
    // Reconnecting from its position brings the rest.
    let mut again = node
        .subscribe(&b.token, Some(slow.position()))
        .await
        .unwrap();
    drop(slow);
    assert_eq!(positions(&mut again, 4).await, vec![5, 6, 7, 8]);
    assert_eq!(positions(&mut again, 2).await, vec![9, 10]);
}

pub async fn streams_per_member_are_capped(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let node = node(
        h,
        CoreConfig {
            max_streams_per_member: 2,
            ..fast_config()
        },
    );
    let one = node.subscribe(&b.token, None).await.unwrap();
    let mut two = node.subscribe(&b.token, None).await.unwrap();
    let third = node.subscribe(&b.token, None).await;
    assert!(matches!(third, Err(Error::TooManyStreams { max: 2 })));
    assert_eq!(node.open_streams(), 2);
    // Another member is not affected; a closed stream frees its place.
    let _a = node.subscribe(&a.token, None).await.unwrap();
    drop(one);
    let mut three = node.subscribe(&b.token, None).await.unwrap();
    // Every device gets every event.
    send(&node, &a, &b, "to all devices").await;
    assert_eq!(positions(&mut two, 1).await, vec![1]);
    assert_eq!(positions(&mut three, 1).await, vec![1]);
    // Bad tokens open nothing.
    let bad = node.subscribe("not-a-token", None).await;
    assert!(matches!(bad, Err(Error::Unauthenticated)));
}

pub async fn streams_only_carry_the_members_own_events(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    let other_app = h.app().await;
    let (x, y) = (
        h.person(&other_app, "a").await,
        h.person(&other_app, "b").await,
    );
    let mut sb = h.core.subscribe(&b.token, None).await.unwrap();
    h.text(&a, &c, "not for b").await;
    h.text(&x, &y, "another app").await;
    quiet(&mut sb).await;
    h.text(&c, &b, "for b").await;
    match next(&mut sb).await {
        StreamItem::Event(e) => {
            assert_eq!(e.position, Position(1));
            assert!(
                matches!(e.kind, EventKind::Message { ref message } if message.data["content"] == "for b")
            );
        }
        other => panic!("expected b's message, got {other:?}"),
    }
}

pub async fn a_position_gap_is_filled_from_the_store(h: &Harness) {
    // Two nodes over one store, with no bus between them: node 2 never hears node 1's sends.
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let node2 = node(h, fast_config());
    let mut s = node2.subscribe(&b.token, None).await.unwrap();
    h.text(&a, &b, "through node 1").await;
    quiet(&mut s).await;
    // The next event node 2 does hear is position 2: it reads 1 from the store first.
    send(&node2, &a, &b, "through node 2").await;
    let mut got = Vec::new();
    for _ in 0..2 {
        if let StreamItem::Event(e) = next(&mut s).await {
            if let EventKind::Message { message } = e.kind {
                got.push((e.position.0, message.data["content"].clone()));
            }
        }
    }
    assert_eq!(
        got,
        vec![(1, "through node 1".into()), (2, "through node 2".into())]
    );
}

pub async fn a_stream_notices_its_session_ending(h: &Harness) {
    let app = h.app().await;
    let b = h.person(&app, "b").await;
    let s = h.core.subscribe(&b.token, None).await.unwrap();
    s.check_session().await.unwrap();
    h.core.logout(&b.token).await.unwrap();
    assert!(matches!(
        s.check_session().await,
        Err(Error::Unauthenticated)
    ));
}
