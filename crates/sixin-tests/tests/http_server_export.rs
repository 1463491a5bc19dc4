//! `GET /v1/server/members/{external_id}/export` over real HTTP: the member, then each
//! conversation followed by every message the member can see in it, as NDJSON, across more than
//! one page, never repeating or skipping; what the member hid stays out; other apps see nothing.
//! Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_tests::native::{start_with_app as start, NativeApi};
use sixin_tests::Harness;

/// The export's status, content type and lines.
async fn export(t: &NativeApi, app: &App, external_id: &str) -> (StatusCode, String, Vec<Value>) {
    let token = t.h().server_token(app);
    let r = t
        .srv
        .client
        .get(
            t.srv
                .url(&format!("/v1/server/members/{external_id}/export")),
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (status, kind, lines)
}

async fn send(t: &NativeApi, token: &str, to: Value, text: &str) -> Value {
    let mut body = json!({"type": "text", "data": {"content": text}});
    body.as_object_mut()
        .unwrap()
        .extend(to.as_object().unwrap().clone());
    let r = t
        .call("POST", "/v1/messages", Some(token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn a_member_export_streams_everything_they_see_once_in_order(h: Harness) {
    let (t, app) = start(h).await;
    let token = t.h().server_token(&app);
    let put = json!({"username": "ann"});
    let r = t
        .call("PUT", "/v1/server/members/u-1", Some(&token), Some(put))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ann_uuid = r.body["uuid"].as_str().unwrap().to_owned();
    let token = t.h().server_token(&app);
    let r = t
        .call(
            "POST",
            "/v1/server/members/u-1/sessions",
            Some(&token),
            Some(json!({})),
        )
        .await;
    let ann = r.body["token"].as_str().unwrap().to_owned();
    let bob = t.member("bob").await;
    // A direct conversation longer than one page (100), and a group.
    let mut direct = 0;
    for i in 0..105 {
        direct = send(&t, &bob.token, json!({"to": ann_uuid}), &format!("b{i}")).await
            ["conversation_id"]
            .as_i64()
            .unwrap();
    }
    let hidden = send(&t, &ann, json!({"to": bob.uuid}), "hide me").await["id"].clone();
    let r = t
        .call(
            "DELETE",
            &format!("/v1/messages/{hidden}"),
            Some(&ann),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let group = json!({"subject": "g", "members": [ann_uuid]});
    let g = t
        .call("POST", "/v1/groups", Some(&bob.token), Some(group))
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let group_id = g.body["id"].as_i64().unwrap();
    send(
        &t,
        &bob.token,
        json!({"conversation_id": group_id}),
        "in the group",
    )
    .await;

    let (status, kind, lines) = export(&t, &app, "u-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/x-ndjson");
    assert_eq!(lines[0]["record"], "member");
    assert_eq!(lines[0]["external_id"], "u-1");
    // Conversations, each followed by its messages, ascending, none twice, none hidden.
    let mut seen: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut current = None;
    for line in &lines[1..] {
        match line["record"].as_str().unwrap() {
            "conversation" => {
                let id = line["id"].as_i64().unwrap();
                assert!(
                    seen.insert(id, Vec::new()).is_none(),
                    "conversation {id} twice"
                );
                current = Some(id);
            }
            "message" => {
                let conv = line["conversation_id"].as_i64().unwrap();
                assert_eq!(Some(conv), current, "a message under its conversation");
                seen.get_mut(&conv)
                    .unwrap()
                    .push(line["id"].as_i64().unwrap());
            }
            other => panic!("unexpected record {other}: {line}"),
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    let direct_ids = &seen[&direct];
    assert_eq!(direct_ids.len(), 105, "the hidden message stays out");
    assert!(direct_ids.windows(2).all(|w| w[0] < w[1]), "ascending");
    assert!(!direct_ids.contains(&hidden.as_i64().unwrap()));
    assert_eq!(seen[&group_id].len(), 1);

    // Unknown members and other apps' members are not found.
    assert_eq!(export(&t, &app, "nobody").await.0, StatusCode::NOT_FOUND);
    let other = t.h().app().await;
    assert_eq!(export(&t, &other, "u-1").await.0, StatusCode::NOT_FOUND);
}

/// Provisions `external_id` as `username` through the server API and gives them a session.
async fn provisioned(
    t: &NativeApi,
    app: &App,
    external_id: &str,
    username: &str,
) -> (String, String) {
    let token = t.h().server_token(app);
    let uri = format!("/v1/server/members/{external_id}");
    let r = t
        .call(
            "PUT",
            &uri,
            Some(&token),
            Some(json!({"username": username})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let uuid = r.body["uuid"].as_str().unwrap().to_owned();
    let token = t.h().server_token(app);
    let r = t
        .call(
            "POST",
            &format!("{uri}/sessions"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    (uuid, r.body["token"].as_str().unwrap().to_owned())
}

async fn unread_total(t: &NativeApi, token: &str) -> i64 {
    let r = t.call("GET", "/v1/unread", Some(token), None).await;
    r.body["total"].as_i64().unwrap()
}

async fn erasing_a_member_leaves_tombstones_and_consistent_counts(h: Harness) {
    let (t, app) = start(h).await;
    let (ann_uuid, ann) = provisioned(&t, &app, "u-1", "ann").await;
    let bob = t.member("bob").await;
    let carol = t.member("carol").await;
    let mut direct = 0;
    for i in 0..3 {
        direct = send(&t, &ann, json!({"to": bob.uuid}), &format!("a{i}")).await["conversation_id"]
            .as_i64()
            .unwrap();
    }
    send(&t, &bob.token, json!({"to": ann_uuid}), "from bob").await;
    let group = json!({"subject": "g", "members": [bob.uuid, carol.uuid]});
    let g = t.call("POST", "/v1/groups", Some(&ann), Some(group)).await;
    let group_id = g.body["id"].as_i64().unwrap();
    send(
        &t,
        &ann,
        json!({"conversation_id": group_id}),
        "to the group",
    )
    .await;
    assert_eq!(unread_total(&t, &bob.token).await, 4);
    assert_eq!(unread_total(&t, &carol.token).await, 1);

    let token = t.h().server_token(&app);
    let r = t
        .call("DELETE", "/v1/server/members/u-1", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"erased": ann_uuid, "groups_left": 1}));

    // Counts drop as for a recall; the history keeps tombstones and bob's own message.
    assert_eq!(unread_total(&t, &bob.token).await, 0);
    assert_eq!(unread_total(&t, &carol.token).await, 0);
    let uri = format!("/v1/conversations/{direct}/messages");
    let history = t.call("GET", &uri, Some(&bob.token), None).await.body;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{history}");
    for m in items {
        if m["sender"]["uuid"] == ann_uuid.as_str() {
            assert_eq!(m["data"], json!({}), "{m}");
            assert!(m["recalled_at"].is_i64(), "{m}");
            let name = m["sender"]["username"].as_str().unwrap();
            assert_eq!(name, format!("sixin:deleted:{ann_uuid}"));
        } else {
            assert_eq!(m["data"]["content"], "from bob");
        }
    }
    // The group passed to the longest-standing member; ann is gone from it.
    let detail = t
        .call(
            "GET",
            &format!("/v1/conversations/{group_id}"),
            Some(&bob.token),
            None,
        )
        .await
        .body;
    assert_eq!(detail["owner_uid"], bob.uid, "{detail}");
    let members = detail["participants"].as_array().unwrap();
    assert!(
        members.iter().all(|p| p["uuid"] != ann_uuid.as_str()),
        "{detail}"
    );
    // Her sessions are gone, her id is free, and nothing is found under it.
    assert_eq!(
        t.call("GET", "/v1/me", Some(&ann), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(export(&t, &app, "u-1").await.0, StatusCode::NOT_FOUND);
    let (again, _) = provisioned(&t, &app, "u-1", "ann").await;
    assert_ne!(again, ann_uuid, "a new member");
    // Another app cannot erase this app's members.
    let other = t.h().app().await;
    let token = t.h().server_token(&other);
    let r = t
        .call("DELETE", "/v1/server/members/u-1", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

sixin_tests::both_backends!(
    a_member_export_streams_everything_they_see_once_in_order,
    erasing_a_member_leaves_tombstones_and_consistent_counts,
);
