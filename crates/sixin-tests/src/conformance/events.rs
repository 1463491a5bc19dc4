use std::time::Duration;

use sixin_core::bus::EventKind;
use sixin_core::service::{Recipient, SendMessage};
use sixin_core::store::ReadTarget;

use crate::{text_to, Harness};

pub async fn committed_writes_are_published_to_their_audience(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let mut rx = h.core.bus().subscribe();
    let req = SendMessage {
        client_msg_id: Some("k".into()),
        ..text_to(Recipient::Member(b.member.uuid.to_string()), "hi")
    };
    let sent = h.core.send(&a.caller, req.clone()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.app, app.id);
    assert_eq!(event.audience, sent.audience);
    assert!(matches!(&event.kind, EventKind::Message(m) if m.id == sent.message.id));

    h.core.send(&a.caller, req).await.unwrap();
    let self_send = text_to(Recipient::Member(a.member.uuid.to_string()), "me");
    h.core.send(&a.caller, self_send).await.unwrap_err();
    assert!(
        rx.try_recv().is_err(),
        "retries and failed sends publish nothing"
    );

    h.core
        .mark_read(&b.caller, sent.conversation.id, ReadTarget::All)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.audience, vec![b.member.id]);
    assert!(matches!(event.kind, EventKind::Read { unread: 0, .. }));
}
