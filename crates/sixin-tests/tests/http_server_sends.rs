//! The server API's messages and groups over real HTTP: sending as a member (one, a list, a
//! conversation) under every rule of their own send, the app's system sender and its notices
//! nobody can answer, groups created for a member and changed by the app whoever owns them,
//! and isolation between apps. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::model::App;
use sixin_tests::native::{
    as_backend as server, assert_error, ok, start_with_app as start, NativeApi, Reply,
};
use sixin_tests::Harness;

/// A member provisioned as `ext` with a session.
struct M {
    uuid: String,
    uid: i64,
    token: String,
}

async fn provision(t: &NativeApi, app: &App, ext: &str, username: &str) -> M {
    let r = server(
        t,
        app,
        "PUT",
        &format!("/v1/server/members/{ext}"),
        Some(json!({"username": username})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let uri = format!("/v1/server/members/{ext}/sessions");
    let r = server(t, app, "POST", &uri, None).await;
    let b = ok(&r, StatusCode::CREATED);
    M {
        uuid: b["member"]["uuid"].as_str().unwrap().to_owned(),
        uid: b["member"]["uid"].as_i64().unwrap(),
        token: b["token"].as_str().unwrap().to_owned(),
    }
}

fn text(from: Value, to: Value, content: &str) -> Value {
    json!({"from": from, "to": to, "type": "text", "data": {"content": content}})
}

async fn send(t: &NativeApi, app: &App, body: Value) -> Reply {
    server(t, app, "POST", "/v1/server/messages", Some(body)).await
}

async fn members_send_through_the_backend_under_their_own_rules(h: Harness) {
    let (t, app) = start(h).await;
    let ann = provision(&t, &app, "u-1", "ann").await;
    let bob = provision(&t, &app, "u-2", "bob").await;
    let cat = provision(&t, &app, "u-3", "cat").await;
    let as_ann = json!({"external_id": "u-1"});

    // One member, by external id or uuid; a retry with the same key is the original.
    let mut one = text(as_ann.clone(), json!({"external_id": "u-2"}), "hi bob");
    one["client_msg_id"] = json!("k-1");
    let r = send(&t, &app, one.clone()).await;
    let m = ok(&r, StatusCode::CREATED).clone();
    assert_eq!(m["sender"]["uuid"], ann.uuid.as_str());
    let r = send(&t, &app, one).await;
    assert_eq!(ok(&r, StatusCode::OK)["id"], m["id"]);
    let from_uuid = json!({"uuid": ann.uuid});
    let r = send(
        &t,
        &app,
        text(from_uuid, json!({"uuid": cat.uuid}), "hi cat"),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    // Bob sees it as Ann's own message.
    let uri = format!("/v1/direct/{}/messages", ann.uuid);
    let r = t.call("GET", &uri, Some(&bob.token), None).await;
    let items = ok(&r, StatusCode::OK)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["data"]["content"], "hi bob");

    // A list: the multi-send rules, one result per recipient in order, each `to` as given.
    let list = json!([
        {"external_id": "u-2"},
        {"uuid": cat.uuid},
        {"external_id": "nobody"},
        {"external_id": "u-1"},
        {"uuid": "not-a-uuid"}
    ]);
    let r = send(&t, &app, text(as_ann.clone(), list, "all")).await;
    let results = ok(&r, StatusCode::OK)["results"]
        .as_array()
        .unwrap()
        .clone();
    let to: Vec<&str> = results.iter().map(|x| x["to"].as_str().unwrap()).collect();
    assert_eq!(
        to,
        ["u-2", cat.uuid.as_str(), "nobody", "u-1", "not-a-uuid"]
    );
    assert_eq!(results[0]["message"]["sender"]["uuid"], ann.uuid.as_str());
    assert!(results[1]["message"].is_object());
    let codes: Vec<&Value> = results[2..].iter().map(|x| &x["error"]["code"]).collect();
    assert_eq!(
        codes,
        [
            &json!("not_found"),
            &json!("self_send"),
            &json!("not_found")
        ]
    );

    // Into a group the member belongs to (created for them by the app).
    let g = json!({"owner": as_ann, "subject": "team", "members": [{"uuid": bob.uuid}]});
    let r = server(&t, &app, "POST", "/v1/server/groups", Some(g)).await;
    let group = ok(&r, StatusCode::CREATED)["conversation"]["id"]
        .as_i64()
        .unwrap();
    let into = json!({"conversation_id": group});
    let r = send(&t, &app, text(as_ann.clone(), into.clone(), "hello team")).await;
    assert_eq!(ok(&r, StatusCode::CREATED)["conversation_id"], group);
    // Not Cat's conversation: as for her own send, 404.
    let as_cat = json!({"external_id": "u-3"});
    let r = send(&t, &app, text(as_cat, into.clone(), "let me in")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    // Moderation holds: a muted member cannot be made to send, in any shape; nor a banned one.
    let r = server(&t, &app, "POST", "/v1/server/members/u-1/mute", None).await;
    ok(&r, StatusCode::OK);
    for to in [
        json!({"external_id": "u-2"}),
        json!([{"uuid": bob.uuid}]),
        into,
    ] {
        let r = send(&t, &app, text(as_ann.clone(), to, "muted")).await;
        assert_error(&r, StatusCode::FORBIDDEN, "muted");
    }
    let r = server(&t, &app, "POST", "/v1/server/members/u-2/ban", None).await;
    ok(&r, StatusCode::OK);
    let as_bob = json!({"external_id": "u-2"});
    let r = send(&t, &app, text(as_bob, json!({"uuid": cat.uuid}), "banned")).await;
    assert_error(&r, StatusCode::FORBIDDEN, "banned");
    let r = t.call("GET", "/v1/unread", Some(&cat.token), None).await;
    assert_eq!(
        ok(&r, StatusCode::OK)["total"],
        2,
        "only Ann's two sends reached Cat"
    );

    isolated_from_other_apps(&t, &app, &ann, &cat, group).await;
}

async fn isolated_from_other_apps(t: &NativeApi, app: &App, ann: &M, cat: &M, group: i64) {
    // Another app's backend sees none of this app's members or conversations.
    let other = t.h().app().await;
    let r = send(
        t,
        &other,
        text(json!({"uuid": cat.uuid}), json!({"uuid": ann.uuid}), "x"),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(
        t,
        &other,
        "PUT",
        "/v1/server/members/o-1",
        Some(json!({"username": "olga"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let as_olga = json!({"external_id": "o-1"});
    let r = send(
        t,
        &other,
        text(as_olga.clone(), json!({"uuid": cat.uuid}), "x"),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let into = json!({"conversation_id": group});
    let r = send(t, &other, text(as_olga.clone(), into, "x")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = send(t, &other, text(as_olga, json!([{"uuid": cat.uuid}]), "x")).await;
    let results = &ok(&r, StatusCode::OK)["results"];
    assert_eq!(results[0]["error"]["code"], "not_found");

    bad_sends_write_nothing(t, app, ann, cat).await;
}

async fn bad_sends_write_nothing(t: &NativeApi, app: &App, ann: &M, cat: &M) {
    // Bad shapes are 400 and send nothing.
    for body in [
        text(json!("admin"), json!({"uuid": cat.uuid}), "x"),
        text(
            json!({"external_id": "u-3", "uuid": cat.uuid}),
            json!({"uuid": ann.uuid}),
            "x",
        ),
        text(
            json!({"external_id": "u-3"}),
            json!({"uuid": ann.uuid, "conversation_id": 1}),
            "x",
        ),
        text(json!({"external_id": "u-3"}), json!({}), "x"),
        text(
            json!({"external_id": "sixin:system"}),
            json!({"uuid": ann.uuid}),
            "x",
        ),
        json!({"from": "system", "to": {"uuid": ann.uuid}, "type": "text", "data": {}}),
    ] {
        let r = send(t, app, body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let r = t.call("GET", "/v1/unread", Some(&ann.token), None).await;
    assert_eq!(ok(&r, StatusCode::OK)["total"], 0);
}

async fn system_notices_arrive_and_cannot_be_answered(h: Harness) {
    let (t, app) = start(h).await;
    let ann = provision(&t, &app, "u-1", "ann").await;
    let bob = provision(&t, &app, "u-2", "bob").await;

    let r = send(
        &t,
        &app,
        text(json!("system"), json!({"external_id": "u-1"}), "welcome"),
    )
    .await;
    let notice = ok(&r, StatusCode::CREATED).clone();
    assert_eq!(notice["sender"]["username"], "sixin:system");
    let system = notice["sender"]["uuid"].as_str().unwrap().to_owned();
    let r = server(
        &t,
        &app,
        "GET",
        "/v1/server/members?external_id=sixin:system",
        None,
    )
    .await;
    assert_eq!(ok(&r, StatusCode::OK)["uuid"], system.as_str());
    // The recipient's history shows it, from the system sender.
    let uri = format!("/v1/direct/{system}/messages");
    let r = t.call("GET", &uri, Some(&ann.token), None).await;
    let items = ok(&r, StatusCode::OK)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sender"]["uuid"], system.as_str());
    assert_eq!(items[0]["data"]["content"], "welcome");

    // Many at once; the same system member every time.
    let list = json!([{"external_id": "u-1"}, {"uuid": bob.uuid}, {"external_id": "ghost"}]);
    let r = send(&t, &app, text(json!("system"), list, "maintenance")).await;
    let results = ok(&r, StatusCode::OK)["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results[0]["message"]["sender"]["uuid"], system.as_str());
    assert_eq!(results[1]["message"]["sender"]["uuid"], system.as_str());
    assert_eq!(results[2]["error"]["code"], "not_found");
    // Not into a conversation.
    let into = json!({"conversation_id": notice["conversation_id"]});
    let r = send(&t, &app, text(json!("system"), into, "x")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    replies_are_refused(&t, &app, &ann, &bob, &system, &notice).await;
}

async fn replies_are_refused(
    t: &NativeApi,
    app: &App,
    ann: &M,
    bob: &M,
    system: &str,
    notice: &Value,
) {
    // Nobody answers a notice: by uuid, into the conversation, in a multi-send, or via the
    // backend.
    let reply = "this conversation carries notices from the app: replies are not accepted";
    let to_system = json!({"to": system, "type": "text", "data": {"content": "thanks"}});
    let r = t
        .call("POST", "/v1/messages", Some(&ann.token), Some(to_system))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "cannot_reply");
    assert_eq!(r.body["error"]["message"], reply);
    let into = json!({"conversation_id": notice["conversation_id"], "type": "text",
        "data": {"content": "thanks"}});
    let r = t
        .call("POST", "/v1/messages", Some(&ann.token), Some(into))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "cannot_reply");
    let multi = json!({"to": [system, bob.uuid], "type": "text", "data": {"content": "x"}});
    let r = t
        .call("POST", "/v1/messages/multi", Some(&ann.token), Some(multi))
        .await;
    let results = ok(&r, StatusCode::OK)["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results[0]["error"]["code"], "cannot_reply");
    assert!(results[1]["message"].is_object());
    let as_ann = json!({"external_id": "u-1"});
    let r = send(t, app, text(as_ann, json!({"uuid": system}), "x")).await;
    assert_error(&r, StatusCode::FORBIDDEN, "cannot_reply");
    let uri = format!("/v1/direct/{system}/messages");
    let r = t.call("GET", &uri, Some(&ann.token), None).await;
    assert_eq!(ok(&r, StatusCode::OK)["items"].as_array().unwrap().len(), 2);

    names_are_reserved(t, app, ann, system).await;
}

async fn names_are_reserved(t: &NativeApi, app: &App, ann: &M, system: &str) {
    // It is named "system", only as a sender: not by uuid, not as a group owner.
    let as_system = json!({"uuid": system});
    let r = send(
        t,
        app,
        text(as_system.clone(), json!({"uuid": ann.uuid}), "x"),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("invalid from")
    );
    let g = json!({"owner": as_system, "subject": "news", "members": [{"uuid": ann.uuid}]});
    let r = server(t, app, "POST", "/v1/server/groups", Some(g)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    // It never joins a group, whoever asks.
    let g = json!({"subject": "g", "members": [system]});
    let r = t
        .call("POST", "/v1/groups", Some(&ann.token), Some(g))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let g = json!({"owner": {"uuid": ann.uuid}, "subject": "g"});
    let r = server(t, app, "POST", "/v1/server/groups", Some(g)).await;
    let id = ok(&r, StatusCode::CREATED)["conversation"]["id"].clone();
    let add = json!({"members": [{"external_id": "sixin:system"}]});
    let uri = format!("/v1/server/groups/{id}/members");
    let r = server(t, app, "POST", &uri, Some(add)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    // Its names are reserved: no member or app id may take them.
    let body = json!({"app_key": t.app_key, "username": "sixin:system", "password": "secret-1"});
    let r = t.call("POST", "/v1/members", None, Some(body)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = server(
        t,
        app,
        "PUT",
        "/v1/server/members/sixin:system",
        Some(json!({"username": "mine"})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    for op in ["sessions", "ban", "mute"] {
        let uri = format!("/v1/server/members/sixin:system/{op}");
        let r = server(t, app, "POST", &uri, None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // Each app has its own.
    let other = t.h().app().await;
    let r = server(
        t,
        &other,
        "PUT",
        "/v1/server/members/o-1",
        Some(json!({"username": "olga"})),
    )
    .await;
    ok(&r, StatusCode::CREATED);
    let r = send(
        t,
        &other,
        text(json!("system"), json!({"external_id": "o-1"}), "hi"),
    )
    .await;
    let theirs = &ok(&r, StatusCode::CREATED)["sender"]["uuid"];
    assert_ne!(theirs, &json!(system));
    let r = send(
        t,
        &other,
        text(json!("system"), json!({"uuid": ann.uuid}), "x"),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

async fn groups_are_created_for_members_and_changed_by_the_app(h: Harness) {
    let (t, app) = start(h).await;
    let ann = provision(&t, &app, "u-1", "ann").await;
    let bob = provision(&t, &app, "u-2", "bob").await;
    let cat = provision(&t, &app, "u-3", "cat").await;
    let dan = provision(&t, &app, "u-4", "dan").await;

    let g = json!({"owner": {"external_id": "u-1"}, "subject": "team",
        "members": [{"external_id": "u-2"}, {"uuid": bob.uuid}]});
    let r = server(&t, &app, "POST", "/v1/server/groups", Some(g)).await;
    let made = ok(&r, StatusCode::CREATED).clone();
    assert_eq!(made["conversation"]["owner_uid"], ann.uid);
    assert_eq!(made["conversation"]["member_count"], 2);
    let id = made["conversation"]["id"].as_i64().unwrap();
    let r = t
        .call(
            "GET",
            &format!("/v1/conversations/{id}"),
            Some(&ann.token),
            None,
        )
        .await;
    let parts = ok(&r, StatusCode::OK)["participants"].clone();
    let owner = parts
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "owner")
        .unwrap();
    assert_eq!(owner["uuid"], ann.uuid.as_str());

    // Bob (not the owner) may not add; the app may, whoever owns the group.
    let add = json!({"members": [cat.uuid]});
    let r = t
        .call(
            "POST",
            &format!("/v1/conversations/{id}/members"),
            Some(&bob.token),
            Some(add),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let members = format!("/v1/server/groups/{id}/members");
    let add = json!({"members": [{"external_id": "u-3"}, {"uuid": bob.uuid}]});
    let r = server(&t, &app, "POST", &members, Some(add)).await;
    let b = ok(&r, StatusCode::OK);
    assert_eq!(b["changed_uids"], json!([cat.uid]));
    assert_eq!(b["conversation"]["member_count"], 3);
    // The app removes the owner: ownership passes, as when they leave.
    let r = server(&t, &app, "DELETE", &format!("{members}/{}", ann.uuid), None).await;
    let b = ok(&r, StatusCode::OK);
    assert_eq!(b["changed_uids"], json!([ann.uid]));
    assert_eq!(b["conversation"]["owner_uid"], bob.uid);
    let r = t
        .call(
            "GET",
            &format!("/v1/conversations/{id}"),
            Some(&ann.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // The remaining members see the change.
    let r = t
        .call(
            "GET",
            &format!("/v1/conversations/{id}"),
            Some(&cat.token),
            None,
        )
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["member_count"], 2);
    // Removing someone not in the group: 404.
    let r = server(&t, &app, "DELETE", &format!("{members}/{}", dan.uuid), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    bad_group_requests(&t, &app, &bob, &cat, &dan, id).await;
}

async fn bad_group_requests(t: &NativeApi, app: &App, bob: &M, cat: &M, dan: &M, id: i64) {
    let members = format!("/v1/server/groups/{id}/members");
    // Bad requests: unknown members fail the whole call; a direct conversation is no group.
    let add = json!({"members": [{"external_id": "u-4"}, {"external_id": "ghost"}]});
    let r = server(t, app, "POST", &members, Some(add)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(t, app, "POST", &members, Some(json!({"members": []}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let hi = json!({"to": cat.uuid, "type": "text", "data": {"content": "hi"}});
    let r = t
        .call("POST", "/v1/messages", Some(&dan.token), Some(hi))
        .await;
    let direct = ok(&r, StatusCode::CREATED)["conversation_id"].clone();
    let r = server(
        t,
        app,
        "POST",
        &format!("/v1/server/groups/{direct}/members"),
        Some(json!({"members": [{"uuid": bob.uuid}]})),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let g = json!({"owner": {"external_id": "ghost"}, "subject": "x", "members": []});
    let r = server(t, app, "POST", "/v1/server/groups", Some(g)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = server(t, app, "POST", "/v1/server/members/u-4/ban", None).await;
    ok(&r, StatusCode::OK);
    let g = json!({"owner": {"external_id": "u-4"}, "subject": "x"});
    let r = server(t, app, "POST", "/v1/server/groups", Some(g)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "banned");

    groups_are_isolated(t, bob, dan, id).await;
}

async fn groups_are_isolated(t: &NativeApi, bob: &M, dan: &M, id: i64) {
    // Another app's backend cannot touch the group nor use this app's members.
    let other = t.h().app().await;
    let other_members = format!("/v1/server/groups/{id}/members");
    let r = server(
        t,
        &other,
        "POST",
        &other_members,
        Some(json!({"members": [{"uuid": dan.uuid}]})),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let uri = format!("{other_members}/{}", bob.uuid);
    let r = server(t, &other, "DELETE", &uri, None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let g = json!({"owner": {"uuid": bob.uuid}, "subject": "x", "members": []});
    let r = server(t, &other, "POST", "/v1/server/groups", Some(g)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = t
        .call(
            "GET",
            &format!("/v1/conversations/{id}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["member_count"], 2, "nothing changed");
}

sixin_tests::both_backends!(
    members_send_through_the_backend_under_their_own_rules,
    system_notices_arrive_and_cannot_be_answered,
    groups_are_created_for_members_and_changed_by_the_app,
);
