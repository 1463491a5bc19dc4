//! Blocks, who may message a member and send limits over the native API (issue 12): the block
//! list endpoints, `GET /v1/me` and `PUT /v1/me/dm-policy`, the app default through the server
//! API, and exactly how a refusal looks — `403 not_accepted` (the same for a block and a
//! setting), `429 rate_limited` with `Retry-After` and the `RateLimit` headers, and multi-send
//! items. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::limits::Quota;
use sixin_core::testing::tight_limits;
use sixin_tests::native::{as_backend, assert_error, start_with_app, Member, NativeApi};
use sixin_tests::Harness;

const NOT_ACCEPTED: &str = "this member does not accept messages from you";

fn not_accepted() -> Value {
    json!({"error": {"code": "not_accepted", "message": NOT_ACCEPTED}})
}

async fn dm(t: &NativeApi, from: &Member, to: &Member) -> sixin_tests::native::Reply {
    let body = json!({"to": to.uuid, "type": "text", "data": {"content": "hi"}});
    t.call("POST", "/v1/messages", Some(&from.token), Some(body))
        .await
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["member"]["username"].as_str().unwrap())
        .collect()
}

async fn blocks_are_set_listed_in_pages_and_lifted(h: Harness) {
    let t = NativeApi::start(h).await;
    let (a, b) = (t.member("alice").await, t.member("bob").await);
    let (c, d) = (t.member("carol").await, t.member("dave").await);
    let put = |who: &Member| format!("/v1/blocks/{}", who.uuid);
    let first = t.call("PUT", &put(&b), Some(&a.token), None).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let at = t.h().core.now().0;
    let entry = json!({
        "member": {"uuid": b.uuid, "uid": b.uid, "username": "bob", "ext_info": {}},
        "created_at": at,
    });
    assert_eq!(first.body, entry);
    t.h().clock.advance(Duration::from_secs(5));
    let again = t.call("PUT", &put(&b), Some(&a.token), None).await;
    assert_eq!(again.body, entry, "blocking again keeps the first time");
    for who in [&c, &d] {
        t.h().clock.advance(Duration::from_secs(1));
        let r = t.call("PUT", &put(who), Some(&a.token), None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let page = t
        .call("GET", "/v1/blocks?limit=2", Some(&a.token), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(names(&page.body), ["dave", "carol"]);
    assert_eq!(page.body["has_more"], true);
    let next = page.body["next_cursor"].as_str().unwrap();
    let uri = format!("/v1/blocks?limit=2&cursor={next}");
    let rest = t.call("GET", &uri, Some(&a.token), None).await;
    assert_eq!(names(&rest.body), ["bob"]);
    assert_eq!(rest.body["has_more"], false);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    assert_eq!(rest.body["items"][0], entry);

    let gone = t.call("DELETE", &put(&c), Some(&a.token), None).await;
    assert_eq!(
        (gone.status, &gone.body),
        (StatusCode::NO_CONTENT, &Value::Null)
    );
    let again = t.call("DELETE", &put(&c), Some(&a.token), None).await;
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "lifting twice is fine"
    );
    let all = t.call("GET", "/v1/blocks", Some(&a.token), None).await;
    assert_eq!(names(&all.body), ["dave", "bob"]);

    let own = t.call("PUT", &put(&a), Some(&a.token), None).await;
    assert_error(&own, StatusCode::BAD_REQUEST, "self_send");
    let unknown = "/v1/blocks/0123456789ABCDEF0123456789ABCDEF";
    assert_error(
        &t.call("PUT", unknown, Some(&a.token), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &t.call("DELETE", unknown, Some(&a.token), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for bad in [
        "/v1/blocks?cursor=!!",
        "/v1/blocks?limit=0",
        "/v1/blocks?limit=101",
    ] {
        let r = t.call("GET", bad, Some(&a.token), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let anonymous = t.call("GET", "/v1/blocks", None, None).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "unauthenticated");
}

async fn a_block_and_a_setting_refuse_alike(h: Harness) {
    let t = NativeApi::start(h).await;
    let (a, b) = (t.member("alice").await, t.member("bob").await);
    let (c, d) = (t.member("carol").await, t.member("dave").await);
    // b blocks a; c lets nobody open a conversation with them.
    t.call(
        "PUT",
        &format!("/v1/blocks/{}", a.uuid),
        Some(&b.token),
        None,
    )
    .await;
    let set = t
        .call(
            "PUT",
            "/v1/me/dm-policy",
            Some(&c.token),
            Some(json!({"policy": "nobody"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        set.body,
        json!({"dm_policy": "nobody", "effective_dm_policy": "nobody"})
    );
    for refused in [dm(&t, &a, &b).await, dm(&t, &a, &c).await] {
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(
            refused.body,
            not_accepted(),
            "a sender cannot tell a block from a setting"
        );
    }
    // A conversation that exists, addressed by its id: still refused while the block holds.
    let opened = dm(&t, &b, &a).await;
    assert_eq!(opened.status, StatusCode::CREATED);
    let by_id = json!({"conversation_id": opened.body["conversation_id"], "type": "text", "data": {"content": "?"}});
    let r = t
        .call("POST", "/v1/messages", Some(&a.token), Some(by_id))
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, not_accepted()));
    // Multi-send: each refused recipient carries the error, the others their message.
    let to = json!({"to": [b.uuid, d.uuid, c.uuid], "type": "text", "data": {"content": "all"}});
    let multi = t
        .call("POST", "/v1/messages/multi", Some(&a.token), Some(to))
        .await;
    assert_eq!(multi.status, StatusCode::OK, "{:?}", multi.body);
    let results = &multi.body["results"];
    assert_eq!(
        results[0],
        json!({"to": b.uuid, "error": not_accepted()["error"]})
    );
    assert_eq!(
        results[2],
        json!({"to": c.uuid, "error": not_accepted()["error"]})
    );
    assert!(results[1]["message"]["id"].is_i64(), "{results}");
    assert!(results[1].get("error").is_none());
}

async fn the_app_default_applies_to_members_who_have_not_chosen(h: Harness) {
    let (t, app) = start_with_app(h).await;
    let (a, c) = (t.member("alice").await, t.member("carol").await);
    let mine = t
        .call(
            "PUT",
            "/v1/me/dm-policy",
            Some(&c.token),
            Some(json!({"policy": "everyone"})),
        )
        .await;
    assert_eq!(
        mine.body,
        json!({"dm_policy": "everyone", "effective_dm_policy": "everyone"})
    );
    // GET /v1/me shows the member's own choice and what is in force.
    let server = as_backend(
        &t,
        &app,
        "PUT",
        "/v1/server/app/dm-policy",
        Some(json!({"policy": "contacts"})),
    )
    .await;
    assert_eq!(server.status, StatusCode::OK, "{:?}", server.body);
    assert_eq!(server.body["dm_policy"], "contacts");
    let shown = as_backend(&t, &app, "GET", "/v1/server/app", None).await;
    assert_eq!(shown.body["dm_policy"], "contacts");
    let e = t.member("erin").await;
    let me = t.call("GET", "/v1/me", Some(&e.token), None).await;
    assert_eq!(
        (
            me.body["dm_policy"].clone(),
            me.body["effective_dm_policy"].clone()
        ),
        (Value::Null, json!("contacts"))
    );
    assert_eq!(me.body["username"], "erin");
    assert_eq!(dm(&t, &a, &e).await.status, StatusCode::FORBIDDEN);
    let own = dm(&t, &a, &c).await;
    assert_eq!(
        own.status,
        StatusCode::CREATED,
        "a member's own choice wins"
    );
    let back = t
        .call(
            "PUT",
            "/v1/me/dm-policy",
            Some(&c.token),
            Some(json!({"policy": null})),
        )
        .await;
    assert_eq!(
        back.body,
        json!({"dm_policy": null, "effective_dm_policy": "contacts"})
    );
    let bad = t
        .call(
            "PUT",
            "/v1/me/dm-policy",
            Some(&c.token),
            Some(json!({"policy": "friends"})),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
    let bad = as_backend(
        &t,
        &app,
        "PUT",
        "/v1/server/app/dm-policy",
        Some(json!({"policy": null})),
    )
    .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
}

fn header<'r>(r: &'r sixin_tests::native::Reply, name: &str) -> &'r str {
    r.headers.get(name).unwrap().to_str().unwrap()
}

async fn rate_limited_sends_answer_429_with_the_rate_limit_headers(h: Harness) {
    let sends = Quota {
        per: 1,
        secs: 60,
        burst: 2,
    };
    let t = NativeApi::start(h.reconfigured(tight_limits(sends, 1))).await;
    let (a, b, c) = (
        t.member("alice").await,
        t.member("bob").await,
        t.member("carol").await,
    );
    assert_eq!(dm(&t, &a, &b).await.status, StatusCode::CREATED);
    // The second new conversation today is past the cap of 1 …
    let capped = dm(&t, &a, &c).await;
    assert_eq!(capped.status, StatusCode::TOO_MANY_REQUESTS);
    let message = "too many requests (new_direct_conversations: 1 per 86400 s); retry in 86400 s";
    assert_eq!(
        capped.body,
        json!({"error": {"code": "rate_limited", "message": message}})
    );
    assert_eq!(header(&capped, "retry-after"), "86400");
    assert_eq!(
        header(&capped, "ratelimit-policy"),
        r#""new_direct_conversations";q=1;w=86400"#
    );
    assert_eq!(
        header(&capped, "ratelimit"),
        r#""new_direct_conversations";r=0;t=86400"#
    );
    // … and the two sends spent the bucket's burst of 2: the next send waits a minute.
    let limited = dm(&t, &a, &b).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let message = "too many requests (sends: 1 per 60 s); retry in 60 s";
    assert_eq!(
        limited.body,
        json!({"error": {"code": "rate_limited", "message": message}})
    );
    assert_eq!(header(&limited, "retry-after"), "60");
    assert_eq!(header(&limited, "ratelimit-policy"), r#""sends";q=1;w=60"#);
    // A multi-send is refused per recipient, each with when the refused ones can all go
    // (two tokens: two minutes).
    let to = json!({"to": [b.uuid, c.uuid], "type": "text", "data": {"content": "all"}});
    let multi = t
        .call("POST", "/v1/messages/multi", Some(&a.token), Some(to))
        .await;
    assert_eq!(multi.status, StatusCode::OK);
    let message = "too many requests (sends: 1 per 60 s); retry in 120 s";
    let item = |who: &Member| json!({"to": who.uuid, "error": {"code": "rate_limited", "message": message}, "retry_after_secs": 120});
    assert_eq!(multi.body["results"], json!([item(&b), item(&c)]));
    // Another member has their own bucket.
    assert_eq!(dm(&t, &b, &a).await.status, StatusCode::CREATED);
}

sixin_tests::both_backends!(
    blocks_are_set_listed_in_pages_and_lifted,
    a_block_and_a_setting_refuse_alike,
    the_app_default_applies_to_members_who_have_not_chosen,
    rate_limited_sends_answer_429_with_the_rate_limit_headers,
);
