//! The sensitive-word filter: word lists stored folded, paged and versioned per app; and the
//! core applying them to every text a member writes, reloaded when the app's version moves.

use serde_json::{json, Value};
use sixin_core::error::Error;
use sixin_core::model::{App, MessageType, WordAction};
use sixin_core::service::{GroupMembers, MultiSend, Recipient, SendMessage, MAX_WORDS_PER_CALL};
use sixin_core::store::HistoryWindow;
use sixin_core::Caller;

use crate::{Harness, Person};

fn words(list: &[(&str, WordAction)]) -> Vec<(String, WordAction)> {
    list.iter().map(|(w, a)| ((*w).to_owned(), *a)).collect()
}

/// `p`'s caller as a new request would see it: the app row read again (its word list version).
async fn fresh(h: &Harness, p: &Person) -> Caller {
    h.core.authenticate(&p.token).await.unwrap()
}

fn message(to: &Person, kind: MessageType, data: Value) -> SendMessage {
    SendMessage {
        to: Recipient::Member(to.member.uuid.to_string()),
        kind,
        data,
        ext_data: None,
        client_msg_id: None,
    }
}

fn rejected(r: Result<impl std::fmt::Debug, Error>, field: &str) {
    match r {
        Err(Error::ContentRejected { field: f }) => assert_eq!(f, field),
        other => panic!("expected content_rejected on {field}: {other:?}"),
    }
}

pub async fn word_lists_are_stored_folded_paged_and_versioned(h: &Harness) {
    use WordAction::{Mask, Reject};
    let (app, other) = (h.app().await, h.app().await);
    let backend = h.backend(&app).await;
    assert_eq!(app.word_list_version, 0);
    // `ＢＡＤ` folds to `bad`: one word, its last action counting.
    let put = words(&[
        ("Bad", Reject),
        ("坏蛋", Mask),
        ("ＢＡＤ", Mask),
        ("s.p.a.m", Mask),
    ]);
    let done = h.core.put_words(&backend, put).await.unwrap();
    assert_eq!((done.changed, done.version), (3, 1));
    // The same again changes nothing and keeps the version; a new action raises it.
    let again = words(&[("bad", Mask), ("spam", Mask)]);
    let done = h.core.put_words(&backend, again).await.unwrap();
    assert_eq!((done.changed, done.version), (0, 1));
    let done = h
        .core
        .put_words(&backend, words(&[("SPAM", Reject)]))
        .await
        .unwrap();
    assert_eq!((done.changed, done.version), (1, 2));

    let list = h.store.word_list(app.id).await.unwrap();
    let mut got = list.words.clone();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want = words(&[("bad", Mask), ("spam", Reject), ("坏蛋", Mask)]);
    assert_eq!((list.version, got), (2, want));
    // Pages walk every word once, in one order.
    let first = h.core.words(&backend, None, 2).await.unwrap();
    assert!(first.has_more);
    let after = first.items.last().unwrap().word.clone();
    let second = h.core.words(&backend, Some(&after), 2).await.unwrap();
    assert!(!second.has_more);
    let mut walked: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|w| w.word.clone())
        .collect();
    assert_eq!(walked.len(), 3);
    walked.sort();
    walked.dedup();
    assert_eq!(walked.len(), 3);

    // Removal by any spelling of the word; unlisted words are ignored.
    let gone = vec!["S P A M".to_owned(), "nothing".to_owned()];
    let done = h.core.remove_words(&backend, gone).await.unwrap();
    assert_eq!((done.changed, done.version), (1, 3));
    let done = h
        .core
        .remove_words(&backend, vec!["nothing".into()])
        .await
        .unwrap();
    assert_eq!((done.changed, done.version), (0, 3));
    let row = h.core.app_by_key(app.key.as_str()).await.unwrap();
    assert_eq!(row.word_list_version, 3);
    // Another app's list is its own.
    let theirs = h.store.word_list(other.id).await.unwrap();
    assert_eq!((theirs.version, theirs.words.len()), (0, 0));

    // Bad input writes nothing.
    for bad in [
        vec![],
        words(&[("...", Mask)]),
        words(&[(&"x".repeat(101), Mask)]),
    ] {
        let r = h.core.put_words(&backend, bad).await;
        assert!(
            matches!(r, Err(Error::Invalid { field: "words", .. })),
            "{r:?}"
        );
    }
    let many = vec![("w".to_owned(), Mask); MAX_WORDS_PER_CALL + 1];
    assert!(h.core.put_words(&backend, many).await.is_err());
    assert_eq!(h.store.word_list(app.id).await.unwrap().version, 3);
}

/// An app with `坏蛋` masked and `法轮功` rejected, and two members (callers fresh).
async fn filtered_app(h: &Harness) -> (App, Person, Person) {
    let app = h.app().await;
    let (mut ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    // Before the list: anything goes (and ann's node has a matcher for the app).
    h.text(&ann, &bob, "你好坏蛋").await;
    let list = words(&[("坏蛋", WordAction::Mask), ("法轮功", WordAction::Reject)]);
    h.core
        .put_words(&h.backend(&app).await, list)
        .await
        .unwrap();
    ann.caller = fresh(h, &ann).await;
    (app, ann, bob)
}

pub async fn the_word_filter_masks_and_rejects_every_text_a_member_sends(h: &Harness) {
    let (_, ann, bob) = filtered_app(h).await;
    let send = |kind, data| h.core.send(&ann.caller, message(&bob, kind, data));
    let sent = send(MessageType::Text, json!({"content": "你好坏 蛋!"}))
        .await
        .unwrap();
    assert_eq!(sent.message.data, json!({"content": "你好***!"}));
    let r = send(MessageType::Text, json!({"content": "法-轮-功"})).await;
    rejected(r, "data.content");
    let html = json!({"content": r#"<p title="坏蛋">坏蛋<b>好</b></p>"#});
    let sent = send(MessageType::Html, html).await.unwrap();
    assert_eq!(
        sent.message.data["content"],
        r#"<p title="坏蛋">**<b>好</b></p>"#
    );
    let link = json!({"url": "https://x.example/坏蛋", "title": "坏蛋", "desc": "ok"});
    let sent = send(MessageType::Link, link).await.unwrap();
    assert_eq!(sent.message.data["title"], "**");
    assert_eq!(sent.message.data["url"], "https://x.example/坏蛋");
    let link = json!({"url": "https://x.example", "title": "t", "desc": "法轮功"});
    rejected(send(MessageType::Link, link).await, "data.desc");
    // Custom data is the app's own shape: not screened.
    let sent = send(MessageType::Custom, json!({"x": "法轮功"}))
        .await
        .unwrap();
    assert_eq!(sent.message.data, json!({"x": "法轮功"}));

    // The rejected sends wrote nothing: bob sees the first text and the three accepted ones.
    let conv = sent.conversation.id;
    let page = h
        .core
        .history(&bob.caller, conv, HistoryWindow::Latest, 50)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
}

pub async fn multi_send_and_groups_are_screened_once_for_everyone(h: &Harness) {
    let (app, ann, bob) = filtered_app(h).await;
    let cat = h.person(&app, "cat").await;
    let multi = |content: &str| MultiSend {
        to: vec![bob.member.uuid.to_string(), cat.member.uuid.to_string()],
        kind: MessageType::Text,
        data: json!({ "content": content }),
        ext_data: None,
        client_msg_id: None,
    };
    // One text for every recipient: a rejected word refuses the whole call.
    rejected(
        h.core.multi_send(&ann.caller, multi("法轮功")).await,
        "data.content",
    );
    let items = h.core.multi_send(&ann.caller, multi("坏蛋")).await.unwrap();
    for item in &items {
        let sent = item.result.as_ref().unwrap();
        assert_eq!(sent.message.data["content"], "**");
    }
    let members = || GroupMembers::from(vec![bob.member.uuid.to_string()]);
    let g = h
        .core
        .create_group(&ann.caller, " 坏蛋群 ", members())
        .await
        .unwrap();
    assert_eq!(g.conversation.subject.as_deref(), Some("**群"));
    let r = h.core.create_group(&ann.caller, "法轮功", members()).await;
    rejected(r, "subject");
}

pub async fn registration_screens_the_username_and_nickname(h: &Harness) {
    let (app, _, _) = filtered_app(h).await;
    let app = h.core.app_by_key(app.key.as_str()).await.unwrap();
    // A username is refused by a word of either action.
    let r = h
        .core
        .register(&app, "大坏蛋", "a-long-pass-9", None, None)
        .await;
    rejected(r, "username");
    let r = h
        .core
        .register(&app, "法轮功fan", "a-long-pass-9", None, None)
        .await;
    rejected(r, "username");
    let nick = Some(json!({"nickname": "小坏蛋", "age": 3}));
    let m = h
        .core
        .register(&app, "dan", "a-long-pass-9", nick, None)
        .await
        .unwrap();
    assert_eq!(m.ext_info, json!({"nickname": "小**", "age": 3}));
    let nick = Some(json!({"nickname": "法轮功"}));
    rejected(
        h.core
            .register(&app, "eve", "a-long-pass-9", nick, None)
            .await,
        "ext_info.nickname",
    );
    // The operator's CLI and the app's backend are not members: not screened.
    let m = h
        .core
        .create_member(&app, "坏蛋", "a-long-pass-9", None)
        .await
        .unwrap();
    assert_eq!(m.username, "坏蛋");
}

pub async fn a_new_list_version_reaches_every_core_on_its_next_request(h: &Harness) {
    let (app, ann, bob) = filtered_app(h).await;
    // A second core over the same database (another node): its matcher is built on first
    // use and rebuilt when a request carries a newer version.
    let node = sixin_core::Core::new(
        h.store.clone(),
        std::sync::Arc::new(sixin_core::LocalBus::default()),
        h.clock.clone(),
        sixin_core::testing::fast_config(),
    );
    let send = |core: sixin_core::Core, caller: Caller, text: &'static str| {
        let req = message(&bob, MessageType::Text, json!({ "content": text }));
        async move { core.send(&caller, req).await }
    };
    let caller = node.authenticate(&ann.token).await.unwrap();
    let sent = send(node.clone(), caller, "坏蛋 spam").await.unwrap();
    assert_eq!(sent.message.data["content"], "** spam");
    let more = words(&[("spam", WordAction::Reject)]);
    h.core
        .put_words(&h.backend(&app).await, more)
        .await
        .unwrap();
    // Concurrent requests on the other node all see the new word (one rebuild serves them).
    let caller = node.authenticate(&ann.token).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| tokio::spawn(send(node.clone(), caller.clone(), "SPAM")))
        .collect();
    for t in tasks {
        rejected(t.await.unwrap(), "data.content");
    }
    // One build for the first send, one rebuild for the new version, shared by the 16.
    assert_eq!(node.word_list_loads(), 2);
    let r = node.word_matcher(caller.app()).await.unwrap();
    assert_eq!((r.len(), r.version()), (3, 2));
}
