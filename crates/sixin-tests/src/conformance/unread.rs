//! The unread total and its paged per-conversation entries (issue 15 item 3): the total is a
//! kept counter, and it must equal the sum of the entries after every kind of write that
//! changes a count; paging by conversation id never skips or repeats.

use std::collections::BTreeMap;

use sixin_core::error::Error;
use sixin_core::ids::{ConversationId, Position};
use sixin_core::service::{MemberLookup, Recipient};
use sixin_core::store::{Events, ReadTarget, UnreadQuery};

use crate::{text_to, Harness, Person};

/// Every page of `p`'s unread entries, `limit` at a time: (entries in the order read, the total
/// each page reported). Bounded: at most 1,000 pages.
async fn walk(h: &Harness, p: &Person, limit: u32) -> (Vec<(ConversationId, u32)>, Vec<u64>) {
    let (mut entries, mut totals, mut after) = (Vec::new(), Vec::new(), None);
    for _ in 0..1000 {
        let page = h
            .core
            .unread(&p.caller, UnreadQuery { after, limit })
            .await
            .unwrap();
        assert!(page.conversations.len() <= limit as usize);
        totals.push(page.total);
        entries.extend(page.conversations.iter().copied());
        match page.conversations.last() {
            Some((id, _)) if page.has_more => after = Some(*id),
            _ => return (entries, totals),
        }
    }
    panic!("more than 1,000 pages");
}

/// `p`'s total agrees with the sum of their entries, with the total their latest event
/// carried, and with `expected`.
async fn assert_total(h: &Harness, p: &Person, expected: u64, what: &str) {
    let total = h.core.unread_total(&p.caller).await.unwrap();
    let (entries, totals) = walk(h, p, 2).await;
    let sum: u64 = entries.iter().map(|(_, n)| u64::from(*n)).sum();
    assert_eq!(total, expected, "{what}: the total");
    assert_eq!(sum, expected, "{what}: the sum of the entries {entries:?}");
    assert!(totals.iter().all(|t| *t == expected), "{what}: {totals:?}");
    assert!(
        entries.iter().all(|(_, n)| *n > 0),
        "{what}: only unread entries"
    );
    let (app, member) = (p.caller.app_id(), p.caller.member_id());
    let latest = match h.store.events_since(app, member, Position(0), 0).await {
        Ok(Events::Page { latest, .. } | Events::Resync { latest }) => latest,
        Err(e) => panic!("{e}"),
    };
    if latest.0 > 0 {
        let after = Position(latest.0 - 1);
        let Ok(Events::Page { events, .. }) = h.store.events_since(app, member, after, 1).await
        else {
            panic!("{what}: the latest event");
        };
        assert_eq!(events[0].unread_total, expected, "{what}: the latest event");
    }
}

pub async fn unread_pages_never_skip_or_repeat_and_the_total_stays_right(h: &Harness) {
    let app = h.app().await;
    let reader = h.person(&app, "reader").await;
    let mut peers = Vec::new();
    for i in 0..12 {
        peers.push(h.person(&app, &format!("peer{i}")).await);
    }
    let mut expected = BTreeMap::new();
    for (i, peer) in peers.iter().enumerate() {
        for _ in 0..=(i % 3) {
            let sent = h.text(peer, &reader, "hello").await;
            *expected.entry(sent.conversation.id).or_insert(0u32) += 1;
        }
    }
    let total: u64 = expected.values().map(|n| u64::from(*n)).sum();
    assert_eq!(total, 24);
    for limit in [1, 5, 12, 100] {
        let (entries, totals) = walk(h, &reader, limit).await;
        let want: Vec<_> = expected.iter().map(|(c, n)| (*c, *n)).collect();
        assert_eq!(entries, want, "limit {limit}: every entry once, by id");
        assert!(totals.iter().all(|t| *t == total), "{totals:?}");
    }
    assert_total(h, &reader, total, "after the sends").await;

    // Writes between pages: the conversations unread throughout still come exactly once.
    let ids: Vec<ConversationId> = expected.keys().copied().collect();
    let first = h
        .core
        .unread(
            &reader.caller,
            UnreadQuery {
                after: None,
                limit: 4,
            },
        )
        .await
        .unwrap();
    assert!(first.has_more);
    assert_eq!(first.conversations.len(), 4);
    // Read one already listed and one not yet listed; a new message to one already listed; a
    // new conversation (its id is the largest, so it is still ahead).
    for c in [ids[1], ids[8]] {
        h.core
            .mark_read(&reader.caller, c, ReadTarget::All)
            .await
            .unwrap();
    }
    h.text(&peers[0], &reader, "again").await;
    let newcomer = h.person(&app, "newcomer").await;
    let fresh = h.text(&newcomer, &reader, "hi").await.conversation.id;
    let mut seen: Vec<ConversationId> = first.conversations.iter().map(|(c, _)| *c).collect();
    let mut after = first.conversations.last().map(|(c, _)| *c);
    for _ in 0..100 {
        let page = h
            .core
            .unread(&reader.caller, UnreadQuery { after, limit: 4 })
            .await
            .unwrap();
        seen.extend(page.conversations.iter().map(|(c, _)| *c));
        match page.conversations.last() {
            Some((c, _)) if page.has_more => after = Some(*c),
            _ => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ascending, no repeats");
    for c in ids.iter().filter(|c| **c != ids[1] && **c != ids[8]) {
        assert!(seen.contains(c), "{c:?} stayed unread and was not skipped");
    }
    assert!(!seen.contains(&ids[8]), "read before its page came");
    assert!(seen.contains(&fresh));
    let now = total - u64::from(expected[&ids[1]]) - u64::from(expected[&ids[8]]) + 2;
    assert_total(h, &reader, now, "after the writes between pages").await;

    // A page past the end is empty; the page size is the core's to check.
    let past = h
        .core
        .unread(
            &reader.caller,
            UnreadQuery {
                after: Some(ConversationId(i64::MAX - 1)),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(past.conversations.is_empty() && !past.has_more);
    assert_eq!(past.total, now, "the total comes with an empty page too");
    for limit in [0, 101] {
        let r = h
            .core
            .unread(&reader.caller, UnreadQuery { after: None, limit })
            .await;
        assert!(matches!(r, Err(Error::Invalid { .. })), "limit {limit}");
    }
}

pub async fn the_unread_total_follows_every_kind_of_change(h: &Harness) {
    let app = h.app().await;
    let (o, r, s) = (
        h.person(&app, "owner").await,
        h.person(&app, "reader").await,
        h.person(&app, "sender").await,
    );
    let uuid = |p: &Person| p.member.uuid.to_string();
    let group = h
        .core
        .create_group(&o.caller, "team", vec![uuid(&r), uuid(&s)])
        .await
        .unwrap()
        .conversation
        .id;
    assert_total(h, &r, 0, "a new group").await;
    let to_group = |text: &str| text_to(Recipient::Conversation(group), text);
    let mut in_group = Vec::new();
    for i in 0..4 {
        let from = if i % 2 == 0 { &o } else { &s };
        in_group.push(
            h.core
                .send(&from.caller, to_group("g"))
                .await
                .unwrap()
                .message,
        );
    }
    let mut from_s = Vec::new();
    for _ in 0..3 {
        from_s.push(h.text(&s, &r, "d").await.message);
    }
    assert_total(h, &r, 7, "sends").await;
    assert_total(h, &o, 2, "the owner's own sends are not unread").await;
    assert_total(h, &s, 2, "the sender's own sends are not unread").await;

    h.core
        .mark_read(&r.caller, group, ReadTarget::One(in_group[0].id))
        .await
        .unwrap();
    assert_total(h, &r, 6, "one read").await;
    h.core
        .mark_read(&r.caller, group, ReadTarget::One(in_group[0].id))
        .await
        .unwrap();
    assert_total(h, &r, 6, "the same one read again").await;
    h.core.hide(&r.caller, in_group[1].id).await.unwrap();
    assert_total(h, &r, 5, "a hidden unread").await;
    h.core.hide(&r.caller, in_group[0].id).await.unwrap();
    assert_total(h, &r, 5, "a hidden read one").await;
    h.core.recall(&s.caller, from_s[0].id).await.unwrap();
    assert_total(h, &r, 4, "a recalled unread").await;
    assert_total(h, &o, 2, "a recall elsewhere").await;
    h.core.recall(&o.caller, in_group[2].id).await.unwrap();
    assert_total(h, &r, 3, "a recalled group message").await;
    assert_total(h, &s, 1, "a recalled group message, the other member").await;

    h.core
        .remove_member(&o.caller, group, &uuid(&r))
        .await
        .unwrap();
    assert_total(h, &r, 2, "removed from the group").await;
    h.core
        .add_members(&o.caller, group, vec![uuid(&r)])
        .await
        .unwrap();
    assert_total(h, &r, 2, "back in the group, nothing old is unread").await;
    h.core.send(&s.caller, to_group("new")).await.unwrap();
    assert_total(h, &r, 3, "a new group message").await;
    assert_total(h, &o, 3, "a new group message, the owner").await;

    let conv = from_s[1].conversation;
    h.core
        .mark_read(&r.caller, conv, ReadTarget::All)
        .await
        .unwrap();
    assert_total(h, &r, 1, "a conversation read").await;
    h.text(&s, &r, "d").await;
    h.text(&o, &r, "d").await;
    assert_total(h, &r, 3, "more sends").await;

    // Erasing the sender tombstones what they sent (no longer unread for anyone) and takes
    // them out of the group.
    let backend = h.backend(&app).await;
    let by = MemberLookup::Uuid(s.member.uuid.as_str());
    h.core.erase_member(&backend, by).await.unwrap();
    assert_total(h, &r, 1, "the sender erased").await;
    assert_total(h, &o, 0, "the sender erased, the owner").await;
}
