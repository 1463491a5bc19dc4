use std::time::Duration;

use sixin_core::error::{Entity, Error};
use sixin_core::ids::MessageId;
use sixin_core::service::Recipient;
use sixin_core::store::HistoryWindow;

use crate::{text_to, Harness};

fn ids(items: &[sixin_core::model::HistoryItem]) -> Vec<i64> {
    items.iter().map(|i| i.message.id.0).collect()
}

pub async fn history_pages_both_ways_without_gap_or_duplicate(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let mut all = Vec::new();
    for i in 0..25 {
        let (from, to) = if i % 3 == 0 { (&b, &a) } else { (&a, &b) };
        all.push(h.text(from, to, &format!("m{i}")).await.message.id.0);
    }
    let conv = h
        .core
        .direct_with(&a.caller, b.member.uuid.as_str())
        .await
        .unwrap()
        .unwrap();

    let mut back = Vec::new();
    let mut window = HistoryWindow::Latest;
    for _ in 0..10 {
        let page = h.core.history(&a.caller, conv, window, 7).await.unwrap();
        let page_ids = ids(&page.items);
        assert!(
            page_ids.windows(2).all(|w| w[0] < w[1]),
            "pages ascend: {page_ids:?}"
        );
        back.splice(0..0, page_ids.iter().copied());
        if !page.has_more {
            break;
        }
        window = HistoryWindow::Before(MessageId(page_ids[0]));
    }
    assert_eq!(back, all);

    let mut forward = Vec::new();
    let mut window = HistoryWindow::After(MessageId(0));
    for _ in 0..10 {
        let page = h.core.history(&b.caller, conv, window, 7).await.unwrap();
        forward.extend(ids(&page.items));
        if !page.has_more {
            break;
        }
        window = HistoryWindow::After(MessageId(*forward.last().unwrap()));
    }
    assert_eq!(forward, all);
    let latest = h
        .core
        .history(&a.caller, conv, HistoryWindow::Latest, 3)
        .await
        .unwrap();
    assert_eq!(ids(&latest.items), all[22..].to_vec());
    assert_eq!(latest.items[2].message.data["content"], "m24");

    for bad in [0, 101] {
        let r = h
            .core
            .history(&a.caller, conv, HistoryWindow::Latest, bad)
            .await;
        assert!(matches!(r, Err(Error::Invalid { .. })), "limit {bad}");
    }
    let c = h.person(&app, "c").await;
    let r = h
        .core
        .history(&c.caller, conv, HistoryWindow::Latest, 10)
        .await;
    assert!(matches!(r, Err(Error::NotFound(Entity::Conversation))));
}

pub async fn history_paging_never_skips_under_concurrent_sends(h: &Harness) {
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let app = h.app().await;
    let mut people = Vec::new();
    for i in 0..WRITERS {
        people.push(h.person(&app, &format!("w{i}")).await);
    }
    let reader = h.person(&app, "reader").await;
    let members = people.iter().map(|p| p.member.uuid.to_string()).collect();
    let group = h
        .core
        .create_group(&reader.caller, "busy", members)
        .await
        .unwrap();
    let conv = group.conversation.id;

    let mut writers = Vec::new();
    for p in &people {
        let (core, caller) = (h.core.clone(), p.caller.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..EACH {
                let req = text_to(Recipient::Conversation(conv), &format!("{i}"));
                core.send(&caller, req).await.unwrap();
            }
        }));
    }
    let (core, caller) = (h.core.clone(), reader.caller.clone());
    let paging = tokio::spawn(async move {
        let mut seen: Vec<i64> = Vec::new();
        for _ in 0..20_000 {
            let after = MessageId(seen.last().copied().unwrap_or(0));
            let page = core
                .history(&caller, conv, HistoryWindow::After(after), 10)
                .await
                .unwrap();
            seen.extend(ids(&page.items));
            if seen.len() >= WRITERS * EACH {
                break;
            }
            if page.items.is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        seen
    });
    for w in writers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .unwrap()
            .unwrap();
    }
    let seen = tokio::time::timeout(Duration::from_secs(60), paging)
        .await
        .unwrap()
        .unwrap();

    let mut everything = Vec::new();
    let mut window = HistoryWindow::After(MessageId(0));
    loop {
        let page = h
            .core
            .history(&reader.caller, conv, window, 100)
            .await
            .unwrap();
        everything.extend(ids(&page.items));
        if !page.has_more {
            break;
        }
        window = HistoryWindow::After(MessageId(*everything.last().unwrap()));
    }
    assert_eq!(everything.len(), WRITERS * EACH);
    assert_eq!(
        seen, everything,
        "the concurrent reader skipped or repeated a message"
    );
    assert_eq!(
        h.core.unread_total(&reader.caller).await.unwrap(),
        (WRITERS * EACH) as u64
    );
}

pub async fn history_offset_windows(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let mut all = Vec::new();
    for i in 0..6 {
        all.push(h.text(&a, &b, &format!("m{i}")).await.message.id.0);
    }
    let conv = h
        .core
        .direct_with(&a.caller, b.member.uuid.as_str())
        .await
        .unwrap()
        .unwrap();
    let oldest = HistoryWindow::Offset {
        skip: 1,
        newest_first: false,
    };
    let page = h.core.history(&a.caller, conv, oldest, 2).await.unwrap();
    assert_eq!(ids(&page.items), all[1..3].to_vec());
    assert!(page.has_more);
    let newest = HistoryWindow::Offset {
        skip: 1,
        newest_first: true,
    };
    let page = h.core.history(&a.caller, conv, newest, 2).await.unwrap();
    assert_eq!(
        ids(&page.items),
        all[3..5].to_vec(),
        "still ascending within the page"
    );
    let end = HistoryWindow::Offset {
        skip: 5,
        newest_first: false,
    };
    let page = h.core.history(&a.caller, conv, end, 2).await.unwrap();
    assert_eq!(ids(&page.items), vec![all[5]]);
    assert!(!page.has_more);
}

pub async fn history_with_a_member_is_empty_before_the_first_message(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let uuid = b.member.uuid.as_str();
    let page = h
        .core
        .history_with(&a.caller, uuid, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert!(page.items.is_empty() && !page.has_more);
    let sent = h.text(&b, &a, "first").await.message;
    let page = h
        .core
        .history_with(&a.caller, uuid, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(ids(&page.items), vec![sent.id.0]);
    let own = a.member.uuid.as_str();
    let me = h
        .core
        .history_with(&a.caller, own, HistoryWindow::Latest, 10)
        .await;
    assert!(matches!(me, Err(Error::SelfSend)));
    let bad = h
        .core
        .history_with(&a.caller, uuid, HistoryWindow::Latest, 0)
        .await;
    assert!(matches!(bad, Err(Error::Invalid { .. })));
}
