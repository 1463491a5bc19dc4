use std::collections::HashMap;
use std::time::Duration;

use sixin_core::bus::{EventKind, MemberEvent, Signal};
use sixin_core::ids::{MemberId, Position};
use sixin_core::service::{MultiSend, Recipient, SendMessage};
use sixin_core::store::{Events, ReadTarget};

use crate::{text_to, Harness, Person};

async fn next_event(
    rx: &mut tokio::sync::broadcast::Receiver<Signal>,
) -> std::sync::Arc<sixin_core::Event> {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Signal::Event(e) => e,
        Signal::Gap => panic!("unexpected gap"),
        Signal::Revoked(r) => panic!("unexpected {r:?}"),
    }
}

async fn stream(h: &Harness, p: &Person) -> Vec<MemberEvent> {
    match h
        .store
        .events_since(p.caller.app_id(), p.member.id, Position(0), 1000)
        .await
        .unwrap()
    {
        Events::Page { events, .. } => events,
        Events::Resync { .. } => panic!("a stream read from 0 never needs a resync"),
    }
}

fn positions(events: &[MemberEvent]) -> Vec<i64> {
    events.iter().map(|e| e.position.0).collect()
}

pub async fn committed_writes_are_published_to_their_audience(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let mut rx = h.core.bus().subscribe();
    let to_b = Recipient::Member(b.member.uuid.to_string());
    let req = SendMessage {
        client_msg_id: Some("k".into()),
        ..text_to(to_b, "hi")
    };
    let sent = h.core.send(&a.caller, req.clone()).await.unwrap();
    let event = next_event(&mut rx).await;
    assert_eq!(event.app, app.id);
    assert_eq!(event.deliveries, sent.deliveries);
    let members: Vec<MemberId> = event.deliveries.iter().map(|d| d.member).collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&a.member.id) && members.contains(&b.member.id));
    assert!(
        event.deliveries.iter().all(|d| d.position == Position(1)),
        "first events"
    );
    let for_b = event.for_member(b.member.id).unwrap();
    assert_eq!(for_b.unread_total, 1);
    assert_eq!(event.for_member(a.member.id).unwrap().unread_total, 0);
    assert!(matches!(&event.kind, EventKind::Message { message } if message.id == sent.message.id));

    h.core.send(&a.caller, req).await.unwrap();
    let self_send = text_to(Recipient::Member(a.member.uuid.to_string()), "me");
    h.core.send(&a.caller, self_send).await.unwrap_err();
    assert!(
        rx.try_recv().is_err(),
        "retries and failed sends publish nothing"
    );
    assert_eq!(
        positions(&stream(h, &b).await),
        vec![1],
        "and append nothing"
    );

    h.core
        .mark_read(&b.caller, sent.conversation.id, ReadTarget::All)
        .await
        .unwrap();
    let event = next_event(&mut rx).await;
    let read_by: Vec<MemberId> = event.deliveries.iter().map(|d| d.member).collect();
    assert_eq!(read_by.len(), 2, "the reader's devices and the direct peer");
    assert!(
        matches!(&event.kind, EventKind::Read { reader, last_read, message: None, .. }
        if *reader == b.member.uuid && *last_read == sent.message.id)
    );
    assert_eq!(event.for_member(b.member.id).unwrap().unread_total, 0);
    assert_eq!(event.for_member(b.member.id).unwrap().position, Position(2));
}

pub async fn event_streams_are_gapless_and_equal_what_was_published(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    let mut rx = h.core.bus().subscribe();
    let m1 = h.text(&a, &b, "one").await.message;
    h.text(&b, &a, "two").await;
    h.core
        .mark_read(&b.caller, m1.conversation, ReadTarget::One(m1.id))
        .await
        .unwrap();
    h.core.hide(&b.caller, m1.id).await.unwrap();
    let uuids = vec![b.member.uuid.to_string(), c.member.uuid.to_string()];
    let g = h.core.create_group(&a.caller, "g", uuids).await.unwrap();
    h.core
        .send(
            &c.caller,
            text_to(Recipient::Conversation(g.conversation.id), "hey"),
        )
        .await
        .unwrap();
    h.core
        .remove_member(&a.caller, g.conversation.id, c.member.uuid.as_str())
        .await
        .unwrap();

    let mut published: HashMap<MemberId, Vec<MemberEvent>> = HashMap::new();
    while let Ok(Signal::Event(e)) = rx.try_recv() {
        for d in &e.deliveries {
            published
                .entry(d.member)
                .or_default()
                .push(e.for_member(d.member).unwrap());
        }
    }
    for p in [&a, &b, &c] {
        let stored = stream(h, p).await;
        let expected: Vec<i64> = (1..=stored.len() as i64).collect();
        assert_eq!(
            positions(&stored),
            expected,
            "{} has a gapless stream",
            p.member.username
        );
        assert_eq!(
            published[&p.member.id], stored,
            "{}: the bus said what the store kept",
            p.member.username
        );
    }
    let kinds = |s: &[MemberEvent]| -> Vec<&'static str> {
        s.iter()
            .map(|e| match e.kind {
                EventKind::Message { .. } => "message",
                EventKind::Read { .. } => "read",
                EventKind::Recalled { .. } => "recalled",
                EventKind::Hidden { .. } => "hidden",
                EventKind::Membership { .. } => "membership",
            })
            .collect()
    };
    let b_stream = stream(h, &b).await;
    assert_eq!(
        kinds(&b_stream),
        [
            "message",
            "message",
            "read",
            "hidden",
            "membership",
            "message",
            "membership"
        ]
    );
    let c_stream = stream(h, &c).await;
    assert_eq!(
        kinds(&c_stream),
        ["membership", "message", "membership"],
        "c hears of its removal, then nothing"
    );
    assert!(
        matches!(&c_stream[2].kind, EventKind::Membership { removed, .. } if removed == &vec![c.member.uuid.clone()])
    );
}

pub async fn events_since_pages_and_asks_to_resync_when_it_cannot_continue(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    for i in 0..5 {
        h.text(&a, &b, &format!("{i}")).await;
    }
    let page = h
        .store
        .events_since(app.id, b.member.id, Position(2), 2)
        .await
        .unwrap();
    let Events::Page { events, latest } = page else {
        panic!("expected a page")
    };
    assert_eq!(positions(&events), vec![3, 4]);
    assert_eq!(latest, Position(5));
    let end = h
        .store
        .events_since(app.id, b.member.id, Position(5), 10)
        .await
        .unwrap();
    assert_eq!(
        end,
        Events::Page {
            events: vec![],
            latest: Position(5)
        }
    );
    let ahead = h
        .store
        .events_since(app.id, b.member.id, Position(6), 10)
        .await
        .unwrap();
    assert_eq!(
        ahead,
        Events::Resync {
            latest: Position(5)
        }
    );
    let other_app = h.app().await;
    let foreign = h
        .store
        .events_since(other_app.id, b.member.id, Position(0), 10)
        .await
        .unwrap();
    assert!(
        matches!(foreign, Events::Resync { .. }),
        "a member's stream is read within its app only"
    );
}

pub async fn crossing_multi_sends_neither_deadlock_nor_skip_positions(h: &Harness) {
    const ROUNDS: usize = 15;
    let app = h.app().await;
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(h.person(&app, &format!("x{i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let others: Vec<String> = people
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, q)| q.member.uuid.to_string())
            .collect();
        let (core, caller) = (h.core.clone(), p.caller.clone());
        tasks.push(tokio::spawn(async move {
            for r in 0..ROUNDS {
                let req = MultiSend {
                    to: others.clone(),
                    kind: sixin_core::model::MessageType::Text,
                    data: serde_json::json!({ "content": format!("round {r}") }),
                    ext_data: None,
                    client_msg_id: None,
                };
                let items = core
                    .multi_send(&caller, req)
                    .await
                    .expect("no deadlock, no error");
                assert!(items.iter().all(|i| i.result.is_ok()));
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
        let s = stream(h, p).await;
        // Each round: three messages sent, three received.
        assert_eq!(positions(&s), (1..=(ROUNDS * 6) as i64).collect::<Vec<_>>());
        assert_eq!(s.last().unwrap().unread_total, (ROUNDS * 3) as u64);
    }
}
