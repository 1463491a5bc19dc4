//! Send limits (issue 12) under tight settings: the daily cap on new direct conversations,
//! counted exactly in the store (concurrent openings included), and each member's sends
//! bucket, which a multi-send pays per recipient. The app's backend is held to neither.

use std::time::Duration;

use serde_json::json;
use sixin_core::error::{Error, Throttle};
use sixin_core::limits::Quota;
use sixin_core::model::{MessageType, Sent};
use sixin_core::service::{AppMember, AppRecipients, AppSend, AppSender, MultiSend, Recipient};
use sixin_core::testing::tight_limits;
use sixin_core::Core;

use crate::{text_to, Harness, Person};

const DAY_SECS: u64 = 86_400;

const GENEROUS: Quota = Quota {
    per: 1_000_000,
    secs: 1,
    burst: 1_000_000,
};

async fn dm(core: &Core, from: &Person, to: &Person) -> Result<Sent, Error> {
    let req = text_to(Recipient::Member(to.member.uuid.to_string()), "hi");
    core.send(&from.caller, req).await
}

fn throttle<T: std::fmt::Debug>(r: &Result<T, Error>) -> Throttle {
    match r {
        Err(Error::RateLimited(t)) => *t,
        other => panic!("expected rate_limited, got {other:?}"),
    }
}

fn multi(to: &[&Person]) -> MultiSend {
    MultiSend {
        to: to.iter().map(|p| p.member.uuid.to_string()).collect(),
        kind: MessageType::Text,
        data: json!({"content": "to all"}),
        ext_data: None,
        client_msg_id: None,
    }
}

async fn people(h: &Harness, app: &sixin_core::model::App, n: usize) -> Vec<Person> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(h.person(app, &format!("p{i}")).await);
    }
    out
}

pub async fn the_daily_cap_on_new_direct_conversations_slides_over_24_hours(h: &Harness) {
    let core = h.core_with(tight_limits(GENEROUS, 3));
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let p = people(h, &app, 6).await;
    for peer in &p[..3] {
        h.clock.advance(Duration::from_secs(1));
        dm(&core, &a, peer).await.unwrap();
    }
    let refused = dm(&core, &a, &p[3]).await;
    let t = throttle(&refused);
    assert_eq!(
        (t.policy, t.quota, t.window_secs),
        ("new_direct_conversations", 3, DAY_SECS)
    );
    assert_eq!(
        t.retry_after_secs,
        DAY_SECS - 2,
        "when the first opening leaves the window"
    );
    assert_eq!(core.conversation_count(&a.caller, None).await.unwrap(), 3);
    // Conversations that exist go on, and one the peer opens is theirs to count.
    dm(&core, &a, &p[0]).await.unwrap();
    dm(&core, &p[3], &a).await.unwrap();
    dm(&core, &a, &p[3]).await.unwrap();
    // A multi-send: the existing conversation gets its message, new ones are refused each.
    let items = core
        .multi_send(&a.caller, multi(&[&p[0], &p[4], &p[5]]))
        .await
        .unwrap();
    assert!(items[0].result.is_ok());
    assert_eq!(
        throttle(&items[1].result).policy,
        "new_direct_conversations"
    );
    assert_eq!(throttle(&items[2].result).retry_after_secs, DAY_SECS - 2);
    // 24 hours after the first opening, one slot is free: one of the two takes it (which
    // one follows the store's lock order, by uuid), the other waits for the next.
    h.clock.advance(Duration::from_secs(DAY_SECS - 2));
    let items = core
        .multi_send(&a.caller, multi(&[&p[4], &p[5]]))
        .await
        .unwrap();
    let (opened, waiting): (Vec<_>, Vec<_>) = items.iter().partition(|i| i.result.is_ok());
    assert_eq!((opened.len(), waiting.len()), (1, 1), "{items:?}");
    assert_eq!(throttle(&waiting[0].result).retry_after_secs, 1);
    // The app's backend sending as the member is not capped.
    let backend = h.backend(&app).await;
    let send = AppSend {
        from: AppSender::Member(AppMember::Uuid(a.member.uuid.to_string())),
        to: AppRecipients::One(AppMember::Uuid(p[5].member.uuid.to_string())),
        kind: MessageType::Text,
        data: json!({"content": "from the app"}),
        ext_data: None,
        client_msg_id: None,
    };
    core.app_send(&backend, send).await.unwrap();
}

pub async fn concurrent_openings_are_counted_exactly(h: &Harness) {
    const CAP: usize = 3;
    const TRIES: usize = 10;
    let core = h.core_with(tight_limits(GENEROUS, CAP as u32));
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let p = people(h, &app, TRIES).await;
    let sends = p.iter().map(|peer| {
        let core = core.clone();
        let caller = a.caller.clone();
        let req = text_to(Recipient::Member(peer.member.uuid.to_string()), "x");
        tokio::spawn(async move { core.send(&caller, req).await })
    });
    let mut opened = 0;
    for task in futures::future::join_all(sends).await {
        match task.unwrap() {
            Ok(_) => opened += 1,
            Err(e) => assert_eq!(throttle::<()>(&Err(e)).quota, CAP as u64),
        }
    }
    assert_eq!(opened, CAP);
    let count = core.conversation_count(&a.caller, None).await.unwrap();
    assert_eq!(count, CAP as u64);
}

pub async fn the_sends_bucket_limits_each_member_and_multi_send_pays_per_recipient(h: &Harness) {
    let quota = Quota {
        per: 1,
        secs: 1,
        burst: 3,
    };
    let core = h.core_with(tight_limits(quota, 1_000_000));
    let app = h.app().await;
    let (a, b, c, d) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
        h.person(&app, "d").await,
    );
    for _ in 0..3 {
        dm(&core, &a, &b).await.unwrap();
    }
    let t = throttle(&dm(&core, &a, &b).await);
    assert_eq!(
        (t.policy, t.quota, t.window_secs, t.retry_after_secs),
        ("sends", 1, 1, 1)
    );
    dm(&core, &b, &a).await.unwrap();
    // A group send spends a token too.
    let g = core
        .create_group(&a.caller, "g", vec![b.member.uuid.to_string()])
        .await
        .unwrap();
    let into = || text_to(Recipient::Conversation(g.conversation.id), "all");
    h.clock.advance(Duration::from_secs(1));
    core.send(&a.caller, into()).await.unwrap();
    throttle(&core.send(&a.caller, into()).await);
    // Two tokens for three distinct recipients: the later one in request order is refused;
    // a repeated recipient is one message; self and unknown are their own errors.
    h.clock.advance(Duration::from_secs(2));
    let mut req = multi(&[&b, &c, &b, &d, &a]);
    req.to.push("0123456789ABCDEF0123456789ABCDEF".into());
    let items = core.multi_send(&a.caller, req).await.unwrap();
    assert!(items[0].result.is_ok() && items[1].result.is_ok() && items[2].result.is_ok());
    assert_eq!(throttle(&items[3].result).policy, "sends");
    assert!(matches!(items[4].result, Err(Error::SelfSend)));
    assert!(matches!(items[5].result, Err(Error::NotFound(_))));
    assert_eq!(core.unread_total(&d.caller).await.unwrap(), 0);
    // With no token left, every recipient is refused on its own; the call itself succeeds.
    let items = core.multi_send(&a.caller, multi(&[&c, &d])).await.unwrap();
    assert!(items
        .iter()
        .all(|i| matches!(i.result, Err(Error::RateLimited(_)))));
    // The app's backend is not rate limited.
    let backend = h.backend(&app).await;
    let send = AppSend {
        from: AppSender::Member(AppMember::Uuid(a.member.uuid.to_string())),
        to: AppRecipients::Many(vec![
            AppMember::Uuid(c.member.uuid.to_string()),
            AppMember::Uuid(d.member.uuid.to_string()),
        ]),
        kind: MessageType::Text,
        data: json!({"content": "from the app"}),
        ext_data: None,
        client_msg_id: None,
    };
    let sixin_core::service::AppSent::Many(items) = core.app_send(&backend, send).await.unwrap()
    else {
        panic!("a list, one result each");
    };
    assert!(items.iter().all(|i| i.result.is_ok()), "{items:?}");
}
