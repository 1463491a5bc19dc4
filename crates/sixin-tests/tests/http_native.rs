//! The native API's messaging flows over real HTTP: send, read, history and list paging,
//! multi-send, recall, delete-for-me and groups. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sixin_tests::native::{assert_error, ids, post_created, Member, NativeApi};
use sixin_tests::Harness;

async fn members_register_log_in_send_read_and_count_unread(h: Harness) {
    let t = NativeApi::start(h).await;
    let alice = t.member("alice").await;
    let bob = t.member("bob").await;

    let me = t.call("GET", "/v1/me", Some(&alice.token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], "alice");
    let profile = t
        .call(
            "GET",
            &format!("/v1/members/{}", bob.uuid),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(profile.body["uid"], bob.uid);

    let body =
        json!({"to": bob.uuid, "type": "text", "data": {"content": "hi"}, "client_msg_id": "k1"});
    let sent = t
        .call(
            "POST",
            "/v1/messages",
            Some(&alice.token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["sender"]["uuid"], alice.uuid.as_str());
    let conv = sent.body["conversation_id"].as_i64().unwrap();
    let replay = t
        .call("POST", "/v1/messages", Some(&alice.token), Some(body))
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body["id"], sent.body["id"]);

    bob_sees_one_unread_message(&t, &alice, &bob, conv).await;
    reading_and_replying_update_both_sides(&t, &alice, &bob, conv).await;

    let out = t
        .call("DELETE", "/v1/sessions/current", Some(&alice.token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = t.call("GET", "/v1/me", Some(&alice.token), None).await;
    assert_error(&me, StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// Bob's unread counts, conversation list and history show alice's one message.
async fn bob_sees_one_unread_message(t: &NativeApi, alice: &Member, bob: &Member, conv: i64) {
    let unread = t.call("GET", "/v1/unread", Some(&bob.token), None).await;
    assert_eq!(
        unread.body,
        json!({"total": 1, "conversations": [{"conversation_id": conv, "unread": 1}],
            "next_cursor": unread.body["next_cursor"], "has_more": false})
    );
    assert!(unread.body["next_cursor"].is_string());

    let list = t
        .call("GET", "/v1/conversations", Some(&bob.token), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let item = &list.body["items"][0];
    assert_eq!(
        (item["id"].as_i64(), item["unread"].as_u64()),
        (Some(conv), Some(1))
    );
    assert_eq!(item["kind"], "direct");
    assert_eq!(item["peer"]["uuid"], alice.uuid.as_str());
    assert_eq!(item["last_message"]["data"]["content"], "hi");
    assert!(list.body["next_cursor"].is_string(), "{}", list.body);
    assert_eq!(list.body["has_more"], false);

    let uri = format!("/v1/conversations/{conv}/messages");
    let history = t.call("GET", &uri, Some(&bob.token), None).await;
    assert_eq!(history.body["items"][0]["read"], false);
    assert_eq!(history.body["items"][0]["type"], "text");
    let direct = t
        .call(
            "GET",
            &format!("/v1/direct/{}/messages", alice.uuid),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(ids(&direct.body), ids(&history.body));
}

/// Bob reads, replies, and alice reads the reply by id: counts and details follow.
async fn reading_and_replying_update_both_sides(
    t: &NativeApi,
    alice: &Member,
    bob: &Member,
    conv: i64,
) {
    let read = t
        .call(
            "POST",
            &format!("/v1/conversations/{conv}/read"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(read.body, json!({"marked": 1, "unread": 0}));
    let unread = t.call("GET", "/v1/unread", Some(&bob.token), None).await;
    assert_eq!(
        unread.body,
        json!({"total": 0, "conversations": [], "next_cursor": null, "has_more": false})
    );
    let uri = format!("/v1/conversations/{conv}/messages");
    let history = t.call("GET", &uri, Some(&alice.token), None).await;
    assert_eq!(
        history.body["items"][0]["read"], true,
        "the peer has read it"
    );

    let reply = json!({"conversation_id": conv, "type": "text", "data": {"content": "yo"}});
    let r = t
        .call("POST", "/v1/messages", Some(&bob.token), Some(reply))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let one = json!({"message_id": r.body["id"]});
    let read = t
        .call(
            "POST",
            &format!("/v1/conversations/{conv}/read"),
            Some(&alice.token),
            Some(one),
        )
        .await;
    assert_eq!(read.body, json!({"marked": 1, "unread": 0}));

    let detail = t
        .call(
            "GET",
            &format!("/v1/conversations/{conv}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["participants"].as_array().unwrap().len(), 2);
    assert_eq!(detail.body["visible_count"], 2);
    assert_eq!(detail.body["last_message"]["data"]["content"], "yo");
}

async fn history_cursors_page_both_ways_without_gaps_or_repeats(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    let mut all = Vec::new();
    for i in 0..10 {
        let from_to = if i % 2 == 0 {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        all.push(
            t.send_text(from_to.0, from_to.1, &format!("m{i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let conv_uri = format!("/v1/direct/{}/messages", bob.uuid);
    let tok = Some(alice.token.as_str());

    let mut backwards = Vec::new();
    let mut page = t
        .call("GET", &format!("{conv_uri}?limit=3"), tok, None)
        .await
        .body;
    let oldest = loop {
        let mut chunk = ids(&page);
        assert!(chunk.windows(2).all(|w| w[0] < w[1]), "pages are ascending");
        chunk.extend(backwards);
        backwards = chunk;
        match page["prev_cursor"]
            .as_str()
            .filter(|_| page["has_more"] == true)
        {
            Some(c) => {
                page = t
                    .call("GET", &format!("{conv_uri}?limit=3&before={c}"), tok, None)
                    .await
                    .body
            }
            None => break page,
        }
        assert!(backwards.len() <= all.len(), "paging terminates");
    };
    assert_eq!(backwards, all);

    let mut forwards = ids(&oldest);
    let mut page = oldest;
    for _ in 0..all.len() {
        let c = page["next_cursor"]
            .as_str()
            .expect("a next cursor")
            .to_owned();
        page = t
            .call("GET", &format!("{conv_uri}?limit=3&after={c}"), tok, None)
            .await
            .body;
        forwards.extend(ids(&page));
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(forwards, all);
    assert!(
        page["prev_cursor"].is_string(),
        "the newest page can still go back"
    );
}

async fn conversation_list_pages_by_cursor_newest_first(h: Harness) {
    let t = NativeApi::start(h).await;
    let me = t.member("me").await;
    let mut peers = Vec::new();
    for i in 0..5 {
        let peer = t.member(&format!("peer{i}")).await;
        let conv = t.send_text(&peer, &me, "hello").await["conversation_id"]
            .as_i64()
            .unwrap();
        peers.push(conv);
        t.h().clock.advance(Duration::from_millis(10));
    }
    let mut seen = Vec::new();
    let mut uri = "/v1/conversations?limit=2&kind=direct".to_owned();
    for _ in 0..10 {
        let page = t.call("GET", &uri, Some(&me.token), None).await.body;
        seen.extend(ids(&page));
        assert!(
            page["next_cursor"].is_string(),
            "every page with items has one"
        );
        match page["next_cursor"]
            .as_str()
            .filter(|_| page["has_more"] == true)
        {
            Some(c) => uri = format!("/v1/conversations?limit=2&kind=direct&cursor={c}"),
            None => break,
        }
    }
    peers.reverse();
    assert_eq!(seen, peers);
    let groups = t
        .call("GET", "/v1/conversations?kind=group", Some(&me.token), None)
        .await;
    assert_eq!(groups.body["items"], json!([]));
    list_cursors_reach_newer_activity(&t, &me, &peers).await;
}

/// Every list page has `prev_cursor` too: `before=` it finds the conversations that became
/// active since, and an empty page gives back the cursor it was read with.
async fn list_cursors_reach_newer_activity(t: &NativeApi, me: &Member, newest_first: &[i64]) {
    let get = |uri: String| async move { t.call("GET", &uri, Some(&me.token), None).await };
    let top = get("/v1/conversations?limit=2".into()).await.body;
    let prev = top["prev_cursor"]
        .as_str()
        .expect("a prev_cursor")
        .to_owned();
    let nothing = get(format!("/v1/conversations?before={prev}")).await.body;
    assert_eq!(nothing["items"], json!([]));
    assert_eq!(
        nothing["prev_cursor"],
        json!(prev),
        "an empty page gives its cursor back"
    );
    assert_eq!(nothing["next_cursor"], json!(prev));
    // The least recently active conversation gets a message: `before=prev` finds only it.
    let oldest = *newest_first.last().unwrap();
    let sent = t
        .call(
            "POST",
            "/v1/messages",
            Some(&me.token),
            Some(json!({"conversation_id": oldest, "type": "text", "data": {"content": "again"}})),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let newer = get(format!("/v1/conversations?before={prev}")).await.body;
    assert_eq!(ids(&newer), vec![oldest], "{newer}");
    assert_eq!(newer["has_more"], json!(false));
    let both = get(format!("/v1/conversations?before={prev}&cursor={prev}")).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST, "{}", both.body);
}

async fn multi_send_reports_each_recipient(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob, carol) = (
        t.member("alice").await,
        t.member("bob").await,
        t.member("carol").await,
    );
    let body = json!({
        "to": [bob.uuid, alice.uuid, "F".repeat(32), carol.uuid.to_lowercase()],
        "type": "text", "data": {"content": "news"}
    });
    let r = t
        .call("POST", "/v1/messages/multi", Some(&alice.token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["message"]["data"]["content"], "news");
    assert_eq!(results[1]["error"]["code"], "self_send");
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(results[3]["to"], carol.uuid.as_str());
    assert!(results[3]["message"]["id"].is_i64());
    assert!(results[0].get("error").is_none());
    let unread = t.call("GET", "/v1/unread", Some(&carol.token), None).await;
    assert_eq!(unread.body["total"], 1);
}

/// Alice makes a group with bob; bob may not add carol, alice may; carol leaves and no longer
/// sees it.
async fn groups_are_made_grown_and_left(
    t: &NativeApi,
    alice: &Member,
    bob: &Member,
    carol: &Member,
) {
    let g = json!({"subject": "trip", "members": [bob.uuid]});
    let r = t
        .call("POST", "/v1/groups", Some(&alice.token), Some(g))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        (r.body["kind"].clone(), r.body["member_count"].clone()),
        (json!("group"), json!(2))
    );
    let group = r.body["id"].as_i64().unwrap();
    let add = json!({"members": [carol.uuid]});
    let r = t
        .call(
            "POST",
            &format!("/v1/conversations/{group}/members"),
            Some(&bob.token),
            Some(add.clone()),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = t
        .call(
            "POST",
            &format!("/v1/conversations/{group}/members"),
            Some(&alice.token),
            Some(add),
        )
        .await;
    assert_eq!(r.body["changed_uids"], json!([carol.uid]));
    let leave = format!("/v1/conversations/{group}/members/{}", carol.uuid);
    let r = t.call("DELETE", &leave, Some(&carol.token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = t
        .call(
            "GET",
            &format!("/v1/conversations/{group}"),
            Some(&carol.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

async fn recall_hide_and_groups_go_through_the_core(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob, carol) = (
        t.member("alice").await,
        t.member("bob").await,
        t.member("carol").await,
    );
    let m = t.send_text(&alice, &bob, "oops").await;
    let (id, conv) = (
        m["id"].as_i64().unwrap(),
        m["conversation_id"].as_i64().unwrap(),
    );
    let r = t
        .call(
            "POST",
            &format!("/v1/messages/{id}/recall"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = t
        .call(
            "POST",
            &format!("/v1/messages/{id}/recall"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["recalled"].clone(), r.body["data"].clone()),
        (json!(true), json!({}))
    );
    let late = t.send_text(&alice, &bob, "late").await["id"]
        .as_i64()
        .unwrap();
    t.h()
        .clock
        .advance(t.h().core.config().recall_window + Duration::from_secs(1));
    let r = t
        .call(
            "POST",
            &format!("/v1/messages/{late}/recall"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "recall_window_passed");

    let r = t
        .call(
            "DELETE",
            &format!("/v1/messages/{late}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let h = t
        .call(
            "GET",
            &format!("/v1/conversations/{conv}/messages"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(ids(&h.body), vec![id], "hidden for bob");
    let h = t
        .call(
            "GET",
            &format!("/v1/conversations/{conv}/messages"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(ids(&h.body), vec![id, late], "still there for alice");

    groups_are_made_grown_and_left(&t, &alice, &bob, &carol).await;
}

async fn mark_read_accepts_an_empty_body_with_a_json_content_type(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    let sent = t.send_text(&alice, &bob, "hi").await;
    let conv = sent["conversation_id"].as_i64().unwrap();
    let uri = format!("/v1/conversations/{conv}/read");
    let req = |body: &'static str, content_type: Option<&str>| {
        let mut r = t
            .request(Method::POST, &uri)
            .header(AUTHORIZATION, format!("Bearer {}", bob.token));
        if let Some(ct) = content_type {
            r = r.header(CONTENT_TYPE, ct);
        }
        r.body(body)
    };
    let r = t.send(req("", Some("application/json"))).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"marked": 1, "unread": 0}))
    );
    let r = t.send(req("{\"message_id\": 1}", Some("text/plain"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["code"], "invalid_request");
    let r = t.send(req("{not json", Some("application/json"))).await;
    assert_eq!(r.body["error"]["code"], "invalid_request");
}

/// `GET /v1/unread` pages its entries by conversation id, with the total on every page.
async fn unread_entries_page_by_cursor_with_the_total(h: Harness) {
    let t = NativeApi::start(h).await;
    let me = t.member("me").await;
    let mut convs = Vec::new();
    for i in 0..5 {
        let peer = t.member(&format!("peer{i}")).await;
        for _ in 0..=i {
            let sent = t.send_text(&peer, &me, "hello").await;
            convs.push(sent["conversation_id"].as_i64().unwrap());
        }
    }
    convs.dedup();
    let mut seen = Vec::new();
    let mut uri = "/v1/unread?limit=2".to_owned();
    for _ in 0..10 {
        let page = t.call("GET", &uri, Some(&me.token), None).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert_eq!(page.body["total"], 15);
        let entries = page.body["conversations"].as_array().unwrap();
        assert!(entries.len() <= 2);
        seen.extend(entries.iter().map(|e| {
            (
                e["conversation_id"].as_i64().unwrap(),
                e["unread"].as_i64().unwrap(),
            )
        }));
        match page.body["next_cursor"]
            .as_str()
            .filter(|_| page.body["has_more"] == true)
        {
            Some(c) => uri = format!("/v1/unread?limit=2&cursor={c}"),
            None => break,
        }
    }
    let want: Vec<(i64, i64)> = convs.iter().zip(1..).map(|(c, n)| (*c, n)).collect();
    assert_eq!(seen, want);
    let all = t.call("GET", "/v1/unread", Some(&me.token), None).await;
    assert_eq!(all.body["conversations"].as_array().unwrap().len(), 5);
    assert_eq!(all.body["has_more"], false);
    for bad in [
        "/v1/unread?cursor=%%",
        "/v1/unread?limit=0",
        "/v1/unread?limit=101",
    ] {
        let r = t.call("GET", bad, Some(&me.token), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

sixin_tests::both_backends!(
    unread_entries_page_by_cursor_with_the_total,
    a_client_follows_a_conversation_with_next_cursor_alone,
    members_register_log_in_send_read_and_count_unread,
    history_cursors_page_both_ways_without_gaps_or_repeats,
    conversation_list_pages_by_cursor_newest_first,
    multi_send_reports_each_recipient,
    recall_hide_and_groups_go_through_the_core,
    mark_read_accepts_an_empty_body_with_a_json_content_type,
);

/// Cursors alone let a client follow a conversation: an empty page gives a cursor to wait with,
/// a short page has both cursors, an empty page gives back its position, and polling with
/// `next_cursor` while the other member sends sees every message once, in order.
async fn a_client_follows_a_conversation_with_next_cursor_alone(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    let uri = format!("/v1/direct/{}/messages", alice.uuid);
    let tok = Some(bob.token.as_str());
    let (t, uri) = (&t, &uri);
    let get = |q: String| async move { t.call("GET", &format!("{uri}?{q}"), tok, None).await.body };
    let cursor = |page: &Value, key: &str| page[key].as_str().unwrap().to_owned();

    let empty = get("limit=5".into()).await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["prev_cursor"], Value::Null);
    let start = cursor(&empty, "next_cursor");

    let first = t.send_text(&alice, &bob, "one").await["id"]
        .as_i64()
        .unwrap();
    let second = t.send_text(&alice, &bob, "two").await["id"]
        .as_i64()
        .unwrap();
    let short = get(format!("limit=5&after={start}")).await;
    assert_eq!(ids(&short), vec![first, second]);
    assert_eq!(short["has_more"], false);
    let (prev, next) = (cursor(&short, "prev_cursor"), cursor(&short, "next_cursor"));

    // Nothing newer yet: the same cursor comes back to retry with; it can also look back.
    let idle = get(format!("limit=5&after={next}")).await;
    assert_eq!(idle["items"], json!([]));
    assert_eq!(cursor(&idle, "next_cursor"), next);
    let back = get(format!("limit=5&before={}", cursor(&idle, "prev_cursor"))).await;
    assert_eq!(ids(&back), vec![first, second]);
    // Nothing older: back to the same place, and forward from there includes the page again.
    let oldest = get(format!("limit=5&before={prev}")).await;
    assert_eq!(oldest["items"], json!([]));
    assert_eq!(cursor(&oldest, "prev_cursor"), prev);
    let again = get(format!("limit=5&after={}", cursor(&oldest, "next_cursor"))).await;
    assert_eq!(ids(&again), vec![first, second]);

    // Follow while alice sends concurrently: every message once, in order.
    const N: usize = 30;
    let client = t.srv.client.clone();
    let url = t.srv.url("/v1/messages");
    let (token, to) = (alice.token.clone(), bob.uuid.clone());
    let sender = tokio::spawn(async move {
        let mut sent = Vec::new();
        for i in 0..N {
            let body = json!({"to": to, "type": "text", "data": {"content": format!("c{i}")}});
            let m = post_created(&client, url.clone(), Some(&token), body).await;
            sent.push(m["id"].as_i64().unwrap());
        }
        sent
    });
    let mut seen = Vec::new();
    let mut at = next;
    // Poll while the sender runs, and at most N more times once it is done.
    let mut polls_after_done = 0;
    let follow = async {
        while seen.len() < N && polls_after_done <= N {
            if sender.is_finished() {
                polls_after_done += 1;
            }
            let page = get(format!("limit=7&after={at}")).await;
            seen.extend(ids(&page));
            at = cursor(&page, "next_cursor");
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), follow)
        .await
        .expect("following ends");
    let sent = sender.await.unwrap();
    assert_eq!(seen, sent, "every message once, in send order");
}
