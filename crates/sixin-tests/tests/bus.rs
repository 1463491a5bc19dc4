//! The bus suite: every conformance case on `LocalBus` and on `NatsBus` over the NATS server named
//! by `SIXIN_TEST_NATS_URL` (ignored when it was unset at build time), then
//! what only the NATS bus does: say `Gap` when events may have been lost — a full publish queue,
//! an undecodable message, a server restart — and carry on afterwards.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::time::Duration;

use sixin_core::{Bus, Signal};
use sixin_nats::{NatsBus, NatsOptions, NODE_HEADER};
use sixin_tests::bus_conformance::{event, next_event, next_signal, WAIT};
use sixin_tests::nats::{self, NatsServer};
use tokio::sync::broadcast;

mod local {
    sixin_tests::bus_conformance_tests!(sixin_tests::bus_conformance::local_nodes);
}

mod nats_bus {
    sixin_tests::bus_conformance_tests!(
        #[cfg_attr(not(sixin_test_nats), ignore = "needs NATS: set SIXIN_TEST_NATS_URL")]
        sixin_tests::nats::nats_nodes
    );
}

/// Reads signals until a gap, within [`WAIT`], ignoring events; returns the events skipped.
async fn until_gap(rx: &mut broadcast::Receiver<Signal>) -> usize {
    let mut events = 0;
    tokio::time::timeout(WAIT, async {
        loop {
            match next_signal(rx).await {
                Signal::Gap => return,
                Signal::Event(_) => events += 1,
                Signal::Revoked(_) => {}
            }
        }
    })
    .await
    .expect("a gap within the wait");
    events
}

// One thread: `publish` never yields, so the publisher task cannot run until the loop is done
// and a queue of one must overflow.
#[cfg_attr(not(sixin_test_nats), ignore = "needs NATS: set SIXIN_TEST_NATS_URL")]
#[tokio::test(flavor = "current_thread")]
async fn a_full_publish_queue_tells_other_nodes_to_catch_up() {
    let Some(url) = nats::shared_url("NATS publish queue overflow") else {
        return;
    };
    let opts = nats::test_options();
    let small = NatsOptions {
        publish_queue: 1,
        ..opts.clone()
    };
    let a = NatsBus::connect(&url, small).await.unwrap();
    let b = NatsBus::connect(&url, opts).await.unwrap();
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    const N: i64 = 100;
    for n in 0..N {
        a.publish(event(1, n)).await;
    }
    // Local subscribers never miss anything because of NATS.
    for n in 0..N {
        assert_eq!(*next_event(&mut ra).await, event(1, n));
    }
    let arrived = until_gap(&mut rb).await;
    assert!(arrived < N as usize, "{arrived} of {N} events arrived");
}

#[cfg_attr(not(sixin_test_nats), ignore = "needs NATS: set SIXIN_TEST_NATS_URL")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_message_means_gap_and_own_gap_messages_are_ignored() {
    let Some(url) = nats::shared_url("NATS undecodable messages") else {
        return;
    };
    let opts = nats::test_options();
    let prefix = opts.subject_prefix.clone();
    let b = NatsBus::connect(&url, opts).await.unwrap();
    let mut rb = b.subscribe();
    let raw = async_nats::connect(&url).await.unwrap();

    // A message that claims to come from b itself is b's own echo: ignored.
    let mut own = async_nats::HeaderMap::new();
    own.insert(NODE_HEADER, b.node_id());
    raw.publish_with_headers(format!("{prefix}.gap"), own, "".into())
        .await
        .unwrap();
    raw.publish(format!("{prefix}.events.5"), "{not json".into())
        .await
        .unwrap();
    let good = event(5, 1);
    let json = serde_json::to_vec(&good).unwrap();
    raw.publish(format!("{prefix}.events.5"), json.into())
        .await
        .unwrap();
    raw.flush().await.unwrap();

    assert!(matches!(next_signal(&mut rb).await, Signal::Gap));
    assert_eq!(*next_event(&mut rb).await, good);
}

#[cfg_attr(
    not(sixin_test_nats_bin),
    ignore = "needs nats-server: set SIXIN_TEST_NATS_BIN"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_subscribers_get_a_gap_and_events_flow_again() {
    let Some(mut server) = NatsServer::start("NATS reconnect") else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(30), restart_scenario(&mut server))
        .await
        .expect("the restart scenario took longer than 30 s");
}

async fn restart_scenario(server: &mut NatsServer) {
    let opts = nats::test_options();
    let a = NatsBus::connect(&server.url(), opts.clone()).await.unwrap();
    let b = NatsBus::connect(&server.url(), opts).await.unwrap();
    // c is alone under its prefix: no other node's gap message can reach it, so its gap can
    // only come from its own reconnect.
    let c = NatsBus::connect(&server.url(), nats::test_options())
        .await
        .unwrap();
    let (mut ra, mut rb, mut rc) = (a.subscribe(), b.subscribe(), c.subscribe());

    let first = event(1, 1);
    a.publish(first.clone()).await;
    assert_eq!(*next_event(&mut ra).await, first);
    assert_eq!(*next_event(&mut rb).await, first);

    server.kill();
    // While NATS is down, the node's own subscribers still hear its events at once.
    let offline = event(1, 2);
    a.publish(offline.clone()).await;
    assert_eq!(*next_event(&mut ra).await, offline);

    server.restart();
    until_gap(&mut ra).await;
    until_gap(&mut rb).await;
    assert_eq!(
        until_gap(&mut rc).await,
        0,
        "c heard nothing but its own gap"
    );

    // Both have their subscriptions back: a's next event reaches b. Before it, b may get the
    // offline event (a's client kept it) and, like a, the other node's gap message (each node
    // lost its connection, so each owes the other one).
    let after = event(1, 3);
    a.publish(after.clone()).await;
    for (rx, may_precede) in [(&mut rb, Some(&offline)), (&mut ra, None)] {
        loop {
            match next_signal(rx).await {
                Signal::Event(e) if *e == after => break,
                Signal::Event(e) => assert_eq!(Some(&*e), may_precede, "unexpected event"),
                Signal::Gap | Signal::Revoked(_) => {}
            }
        }
    }
    a.close(Duration::from_secs(5)).await.unwrap();
}
