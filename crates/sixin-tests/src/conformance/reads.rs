use sixin_core::error::{Entity, Error};
use sixin_core::ids::MessageId;
use sixin_core::store::{HistoryWindow, ListQuery, ListWindow, ReadTarget, UnreadQuery};

use crate::Harness;

const FIRST: UnreadQuery = UnreadQuery {
    after: None,
    limit: 100,
};

pub async fn unread_counts_are_kept_per_conversation_and_in_total(h: &Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "a").await,
        h.person(&app, "b").await,
        h.person(&app, "c").await,
    );
    for _ in 0..3 {
        h.text(&a, &b, "from a").await;
    }
    let from_c = h.text(&c, &b, "from c").await;
    h.text(&c, &b, "from c again").await;
    let unread = h.core.unread(&b.caller, FIRST).await.unwrap();
    assert_eq!(unread.total, 5);
    let mut per: Vec<u32> = unread.conversations.iter().map(|(_, n)| *n).collect();
    per.sort();
    assert_eq!(per, vec![2, 3]);
    assert_eq!(
        h.core.unread_total(&a.caller).await.unwrap(),
        0,
        "own messages are not unread"
    );

    let conv_a = h
        .core
        .direct_with(&b.caller, a.member.uuid.as_str())
        .await
        .unwrap()
        .unwrap();
    let out = h
        .core
        .mark_read(&b.caller, conv_a, ReadTarget::All)
        .await
        .unwrap();
    assert_eq!((out.marked, out.unread), (3, 0));
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 2);
    let again = h
        .core
        .mark_read(&b.caller, conv_a, ReadTarget::All)
        .await
        .unwrap();
    assert_eq!(again.marked, 0);
    h.text(&a, &b, "one more").await;
    let unread = h.core.unread(&b.caller, FIRST).await.unwrap();
    assert_eq!(unread.total, 3);
    assert!(unread.conversations.contains(&(conv_a, 1)));
    assert!(unread.conversations.contains(&(from_c.conversation.id, 2)));

    let r = h
        .core
        .mark_read(&a.caller, from_c.conversation.id, ReadTarget::All)
        .await;
    assert!(
        matches!(r, Err(Error::NotFound(Entity::Conversation))),
        "{r:?}"
    );
}

pub async fn marking_one_message_read_counts_once(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let m: Vec<_> = [
        h.text(&a, &b, "1").await,
        h.text(&a, &b, "2").await,
        h.text(&a, &b, "3").await,
    ]
    .into_iter()
    .map(|s| s.message)
    .collect();
    let own = h.text(&b, &a, "mine").await.message;
    let conv = m[0].conversation;
    let one = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(m[1].id))
        .await
        .unwrap();
    assert_eq!((one.marked, one.unread), (1, 2));
    let twice = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(m[1].id))
        .await
        .unwrap();
    assert_eq!((twice.marked, twice.unread), (0, 2));
    let mine = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(own.id))
        .await
        .unwrap();
    assert_eq!(mine.marked, 0);
    let missing = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(MessageId(i64::MAX)))
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound(Entity::Message))),
        "{missing:?}"
    );
    let c = h.person(&app, "c").await;
    let elsewhere = h.text(&c, &b, "x").await.message;
    let wrong_conv = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::One(elsewhere.id))
        .await;
    assert!(matches!(wrong_conv, Err(Error::NotFound(Entity::Message))));
    let rest = h
        .core
        .mark_read(&b.caller, conv, ReadTarget::All)
        .await
        .unwrap();
    assert_eq!((rest.marked, rest.unread), (2, 0));
    assert_eq!(h.core.unread_total(&b.caller).await.unwrap(), 1);
}

pub async fn read_flags_show_both_sides(h: &Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "a").await, h.person(&app, "b").await);
    let m1 = h.text(&a, &b, "1").await.message;
    h.text(&a, &b, "2").await;
    let conv = m1.conversation;
    let flags = |p: &crate::Person| {
        let (core, caller) = (h.core.clone(), p.caller.clone());
        async move {
            let page = core
                .history(&caller, conv, HistoryWindow::Latest, 10)
                .await
                .unwrap();
            page.items.iter().map(|i| i.read).collect::<Vec<_>>()
        }
    };
    assert_eq!(flags(&a).await, vec![false, false]);
    assert_eq!(flags(&b).await, vec![false, false]);
    assert_eq!(
        h.core.unread_total(&b.caller).await.unwrap(),
        2,
        "reading history marks nothing"
    );
    h.core
        .mark_read(&b.caller, conv, ReadTarget::One(m1.id))
        .await
        .unwrap();
    assert_eq!(
        flags(&a).await,
        vec![true, false],
        "the sender sees the peer's read state"
    );
    assert_eq!(flags(&b).await, vec![true, false]);
    h.core
        .mark_read(&b.caller, conv, ReadTarget::All)
        .await
        .unwrap();
    assert_eq!(flags(&a).await, vec![true, true]);
}

pub async fn conversation_list_orders_by_activity_with_cursor_paging(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let mut peers = Vec::new();
    for i in 0..5 {
        let p = h.person(&app, &format!("b{i}")).await;
        h.text(&a, &p, &format!("to b{i}")).await;
        peers.push(p);
    }
    h.text(&peers[1], &a, "b1 again").await;
    let expected = [1usize, 4, 3, 2, 0].map(|i| peers[i].member.uuid.clone());

    let mut got = Vec::new();
    let mut window = ListWindow::First;
    for _ in 0..5 {
        let q = ListQuery {
            kind: None,
            window,
            limit: 2,
        };
        let page = h.core.conversations(&a.caller, q).await.unwrap();
        for s in &page.items {
            got.push(s.peer.as_ref().unwrap().uuid.clone());
        }
        let Some(last) = page.items.last() else { break };
        if !page.has_more {
            break;
        }
        window = ListWindow::After {
            last_activity_at: last.activity_at,
            id: last.conversation.id,
        };
    }
    assert_eq!(got, expected);

    let first = h.core.conversations(
        &a.caller,
        ListQuery {
            kind: None,
            window: ListWindow::First,
            limit: 1,
        },
    );
    let top = &first.await.unwrap().items[0];
    assert_eq!(top.unread, 1);
    let last = top.last_message.as_ref().unwrap();
    assert_eq!(last.message.data["content"], "b1 again");
    assert!(!last.read);
    assert_eq!(top.peer.as_ref().unwrap().username, "b1");

    let offset = ListQuery {
        kind: None,
        window: ListWindow::Offset(2),
        limit: 2,
    };
    let page = h.core.conversations(&a.caller, offset).await.unwrap();
    let uuids: Vec<_> = page
        .items
        .iter()
        .map(|s| s.peer.as_ref().unwrap().uuid.clone())
        .collect();
    assert_eq!(uuids, expected[2..4].to_vec());

    let members = vec![peers[0].member.uuid.to_string()];
    h.clock.advance(std::time::Duration::from_millis(5));
    h.core
        .create_group(&a.caller, "club", members)
        .await
        .unwrap();
    let groups = ListQuery {
        kind: Some(sixin_core::model::ConversationKind::Group),
        window: ListWindow::First,
        limit: 10,
    };
    let page = h.core.conversations(&a.caller, groups).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.items[0].peer.is_none() && page.items[0].last_message.is_none());
    assert_eq!(
        h.core
            .conversation_count(&a.caller, Some(sixin_core::model::ConversationKind::Direct))
            .await
            .unwrap(),
        5
    );
    assert_eq!(h.core.conversation_count(&a.caller, None).await.unwrap(), 6);
}

/// Paging the list of one kind by cursor, both ways: entries of the other kind never show, and
/// two entries active at the same instant are ordered by id, neither skipped nor repeated.
pub async fn conversation_list_pages_one_kind_by_cursor(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let mut peers = Vec::new();
    for i in 0..4 {
        peers.push(h.person(&app, &format!("p{i}")).await);
    }
    // p0; a group; p1 and p2 at the same instant; another group; p3.
    h.text(&a, &peers[0], "to p0").await;
    h.clock.advance(std::time::Duration::from_millis(5));
    let members = vec![peers[0].member.uuid.to_string()];
    h.core
        .create_group(&a.caller, "one", members.clone())
        .await
        .unwrap();
    h.clock.advance(std::time::Duration::from_millis(5));
    h.text(&a, &peers[1], "to p1").await;
    h.text(&a, &peers[2], "to p2").await;
    h.clock.advance(std::time::Duration::from_millis(5));
    h.core
        .create_group(&a.caller, "two", members)
        .await
        .unwrap();
    h.clock.advance(std::time::Duration::from_millis(5));
    h.text(&a, &peers[3], "to p3").await;
    let list = |window| {
        let q = ListQuery {
            kind: Some(sixin_core::model::ConversationKind::Direct),
            window,
            limit: 2,
        };
        let caller = a.caller.clone();
        async move { h.core.conversations(&caller, q).await.unwrap() }
    };
    let names = |page: &sixin_core::model::Page<sixin_core::model::ConversationSummary>| {
        page.items
            .iter()
            .map(|s| s.peer.as_ref().unwrap().username.clone())
            .collect::<Vec<_>>()
    };
    let at = |s: &sixin_core::model::ConversationSummary| (s.activity_at, s.conversation.id);
    let first = list(ListWindow::First).await;
    // p2's conversation was opened after p1's at the same instant: the larger id comes first.
    assert_eq!(names(&first), ["p3", "p2"]);
    assert!(first.has_more);
    let (t, id) = at(&first.items[1]);
    let second = list(ListWindow::After {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&second), ["p1", "p0"]);
    assert!(!second.has_more);
    let (t, id) = at(&second.items[0]);
    let back = list(ListWindow::Before {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&back), ["p3", "p2"]);
    assert!(!back.has_more);
}

/// `ListWindow::Before` pages up the list from an entry, most recent first, and finds a
/// conversation that became active after the first page was read.
pub async fn conversation_list_pages_back_up_to_newer_activity(h: &Harness) {
    let app = h.app().await;
    let a = h.person(&app, "a").await;
    let mut peers = Vec::new();
    for i in 0..5 {
        let p = h.person(&app, &format!("p{i}")).await;
        h.text(&a, &p, &format!("to p{i}")).await;
        h.clock.advance(std::time::Duration::from_millis(5));
        peers.push(p);
    }
    let list = |window| {
        let q = ListQuery {
            kind: None,
            window,
            limit: 2,
        };
        let caller = a.caller.clone();
        async move { h.core.conversations(&caller, q).await.unwrap() }
    };
    let names = |page: &sixin_core::model::Page<sixin_core::model::ConversationSummary>| {
        page.items
            .iter()
            .map(|s| s.peer.as_ref().unwrap().username.clone())
            .collect::<Vec<_>>()
    };
    let at = |s: &sixin_core::model::ConversationSummary| (s.activity_at, s.conversation.id);
    let first = list(ListWindow::First).await;
    assert_eq!(names(&first), ["p4", "p3"]);
    let (t, id) = at(&first.items[1]);
    let second = list(ListWindow::After {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&second), ["p2", "p1"]);
    // Back up from the second page: the two entries just above it, and nothing beyond.
    let (t, id) = at(&second.items[0]);
    let back = list(ListWindow::Before {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&back), ["p4", "p3"]);
    assert!(!back.has_more);
    let (t, id) = at(&second.items[1]);
    let back = list(ListWindow::Before {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&back), ["p3", "p2"]);
    assert!(back.has_more, "p4 is still above");
    // p0 becomes active: backing up from the first page's top finds it, and only it.
    h.text(&peers[0], &a, "p0 again").await;
    let (t, id) = at(&first.items[0]);
    let newer = list(ListWindow::Before {
        last_activity_at: t,
        id,
    })
    .await;
    assert_eq!(names(&newer), ["p0"]);
    assert!(!newer.has_more);
}
