//! The bus conformance suite: one `pub async fn` per guarantee of the [`Bus`] trait, each taking
//! two nodes `a` and `b` of one bus network, run against [`LocalBus`] and `NatsBus` by
//! [`bus_conformance_tests!`](crate::bus_conformance_tests).
//!
//! For [`LocalBus`] the "network" is one bus seen through two handles; for NATS it is two
//! connections with the same, per-test random subject prefix. "Exactly once" is checked without
//! sleeping: after `b` has received `a`'s event, `b` publishes a marker; NATS delivers in order on
//! each connection, so a duplicate of the event would reach `a` before the marker does.

use std::sync::Arc;
use std::time::Duration;

use sixin_core::bus::{Event, EventKind};
use sixin_core::ids::TokenHash;
use sixin_core::ids::{
    AppId, ConversationId, MemberId, MemberUuid, MessageId, Position, Timestamp,
};
use sixin_core::model::{Delivery, Message, MessageType};
use sixin_core::{Bus, LocalBus, Revocation, Signal};
use tokio::sync::broadcast;

/// Two nodes of one bus network.
pub type Nodes = (Arc<dyn Bus>, Arc<dyn Bus>);

/// How long any one expected signal may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Expands to one `#[tokio::test]` per bus guarantee, each calling `$make()` for two fresh nodes
/// (`None` means the bus is not configured: skip). Attributes before `$make` go on every case
/// (the NATS suite's `#[cfg_attr(not(sixin_test_nats), ignore = "…")]`).
#[macro_export]
macro_rules! bus_conformance_tests {
    ($(#[$attr:meta])* $make:path) => {
        $crate::bus_conformance_tests!(@cases [$(#[$attr])*] $make;
            an_event_reaches_every_subscriber_on_every_node_exactly_once,
            events_flow_both_ways_with_equal_values,
            events_of_every_app_arrive,
            subscribers_see_only_events_published_after_subscribing,
            revocations_reach_every_node_with_equal_values,
        );
    };
    (@cases $attrs:tt $make:path; $($case:ident),* $(,)?) => {
        $( $crate::bus_conformance_tests!(@case $attrs $make; $case); )*
    };
    (@case [$(#[$attr:meta])*] $make:path; $case:ident) => {
        $(#[$attr])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let Some((a, b)) = $make().await else { return };
            $crate::bus_conformance::$case(&*a, &*b).await;
        }
    };
}

/// The one-node bus: both "nodes" are handles on the same [`LocalBus`].
pub async fn local_nodes() -> Option<Nodes> {
    let bus = Arc::new(LocalBus::default());
    Some((bus.clone(), bus))
}

/// A distinct event: a text message `n` in app `app`, delivered to two members; the same
/// arguments make equal events.
pub fn event(app: i64, n: i64) -> Event {
    let message = Message {
        id: MessageId(n),
        conversation: ConversationId(7),
        sender: MemberId(1),
        sender_uuid: MemberUuid::parse("A11CEA11CEA11CEA11CEA11CEA11CE00").unwrap(),
        sender_username: "alice".into(),
        kind: MessageType::Text,
        data: serde_json::json!({ "content": format!("event {n} ✓"), "n": n, "f": 0.1 }),
        ext_data: Some("{\"x\":1}".into()),
        client_msg_id: None,
        created_at: Timestamp(1_700_000_000_000 + n),
        recalled_at: None,
    };
    Event {
        app: AppId(app),
        kind: EventKind::Message { message },
        deliveries: vec![
            Delivery {
                member: MemberId(1),
                position: Position(n),
                unread_total: 0,
            },
            Delivery {
                member: MemberId(2),
                position: Position(n + 1),
                unread_total: 3,
            },
        ],
        created_at: Timestamp(1_700_000_000_000 + n),
    }
}

/// The next signal, within [`WAIT`].
pub async fn next_signal(rx: &mut broadcast::Receiver<Signal>) -> Signal {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Ok(signal)) => signal,
        Ok(Err(e)) => panic!("the bus failed: {e}"),
        Err(_) => panic!("no signal within {WAIT:?}"),
    }
}

/// The next signal, which must be an event.
pub async fn next_event(rx: &mut broadcast::Receiver<Signal>) -> Arc<Event> {
    match next_signal(rx).await {
        Signal::Event(e) => e,
        Signal::Gap => panic!("expected an event, got a gap"),
        Signal::Revoked(r) => panic!("expected an event, got {r:?}"),
    }
}

/// Asserts nothing more is waiting on `rx`.
pub fn assert_drained(rx: &mut broadcast::Receiver<Signal>) {
    match rx.try_recv() {
        Err(broadcast::error::TryRecvError::Empty) => {}
        other => panic!("expected nothing more, got {other:?}"),
    }
}

/// `b` publishes a marker once it has everything it should; since each connection delivers in
/// order, when `rx` (on `a`) sees the marker it has seen any duplicate of what came before.
async fn barrier(b: &dyn Bus, rx_b: &mut broadcast::Receiver<Signal>, rxs: &mut [&mut Rx]) {
    let marker = event(1, -1);
    b.publish(marker.clone()).await;
    assert_eq!(*next_event(rx_b).await, marker, "b hears its own marker");
    for rx in rxs {
        assert_eq!(*next_event(rx).await, marker, "the marker arrives");
        assert_drained(rx);
    }
    assert_drained(rx_b);
}

type Rx = broadcast::Receiver<Signal>;

/// An event published on `a` reaches each subscriber of `a` and of `b` once, equal to what was
/// published — `a`'s own subscribers are not served a second copy by the network.
pub async fn an_event_reaches_every_subscriber_on_every_node_exactly_once(
    a: &dyn Bus,
    b: &dyn Bus,
) {
    let (mut a1, mut a2) = (a.subscribe(), a.subscribe());
    let (mut b1, mut b2) = (b.subscribe(), b.subscribe());
    let sent = event(11, 1);
    a.publish(sent.clone()).await;
    for rx in [&mut a1, &mut a2, &mut b1, &mut b2] {
        assert_eq!(*next_event(rx).await, sent);
    }
    let mut b_marker = b.subscribe();
    barrier(b, &mut b_marker, &mut [&mut a1, &mut a2, &mut b1, &mut b2]).await;
}

/// Either node may publish; the other receives the same value.
pub async fn events_flow_both_ways_with_equal_values(a: &dyn Bus, b: &dyn Bus) {
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    let from_a = event(21, 1);
    let from_b = event(22, 2);
    a.publish(from_a.clone()).await;
    assert_eq!(*next_event(&mut rb).await, from_a);
    assert_eq!(*next_event(&mut ra).await, from_a);
    b.publish(from_b.clone()).await;
    assert_eq!(*next_event(&mut ra).await, from_b);
    assert_eq!(*next_event(&mut rb).await, from_b);
    assert_drained(&mut ra);
    assert_drained(&mut rb);
}

/// Events of many apps (one subject each on NATS) all arrive, once each.
pub async fn events_of_every_app_arrive(a: &dyn Bus, b: &dyn Bus) {
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    let sent: Vec<Event> = (0..5).map(|i| event(100 + i, i)).collect();
    for e in &sent {
        a.publish(e.clone()).await;
    }
    for rx in [&mut ra, &mut rb] {
        let mut got = Vec::new();
        for _ in 0..sent.len() {
            got.push((*next_event(rx).await).clone());
        }
        got.sort_by_key(|e| e.app);
        assert_eq!(got, sent);
    }
    let mut b_marker = b.subscribe();
    barrier(b, &mut b_marker, &mut [&mut ra, &mut rb]).await;
}

/// A new subscriber gets nothing published before it subscribed.
pub async fn subscribers_see_only_events_published_after_subscribing(a: &dyn Bus, b: &dyn Bus) {
    let mut early_b = b.subscribe();
    let before = event(31, 1);
    a.publish(before.clone()).await;
    assert_eq!(*next_event(&mut early_b).await, before);

    let (mut late_a, mut late_b) = (a.subscribe(), b.subscribe());
    let after = event(31, 2);
    a.publish(after.clone()).await;
    assert_eq!(*next_event(&mut late_a).await, after);
    assert_eq!(*next_event(&mut late_b).await, after);
    assert_eq!(*next_event(&mut early_b).await, after);
    barrier(b, &mut early_b, &mut [&mut late_a, &mut late_b]).await;
}

/// A revocation published on either node reaches the subscribers of both, equal to what was
/// published (one session, and every session of a member), in order with events.
pub async fn revocations_reach_every_node_with_equal_values(a: &dyn Bus, b: &dyn Bus) {
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    let one = Revocation {
        app: AppId(41),
        member: MemberId(7),
        session: Some(TokenHash("ab".repeat(32))),
    };
    let all = Revocation {
        app: AppId(42),
        member: MemberId(8),
        session: None,
    };
    a.revoke(one.clone()).await;
    b.revoke(all.clone()).await;
    for (rx, want) in [(&mut ra, [&one, &all]), (&mut rb, [&one, &all])] {
        let mut got = Vec::new();
        for _ in 0..2 {
            match next_signal(rx).await {
                Signal::Revoked(r) => got.push((*r).clone()),
                other => panic!("expected a revocation, got {other:?}"),
            }
        }
        got.sort_by_key(|r| r.app);
        assert_eq!(got, want.map(Clone::clone));
    }
    let mut b_marker = b.subscribe();
    barrier(b, &mut b_marker, &mut [&mut ra, &mut rb]).await;
}
