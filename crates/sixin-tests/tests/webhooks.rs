//! Webhook delivery end to end, on SQLite and PostgreSQL: real HTTP receivers on loopback, a
//! real delivery worker, the server API. Every event type arrives, signed as Standard Webhooks
//! describes; test events, replays, subscriptions, pauses, and isolation between apps.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_core::store::ReadTarget;
use sixin_tests::native::{as_backend, ok};
use sixin_tests::webhooks::{first_arrivals, live_config, verify, Received, Receiver, Rig};
use sixin_tests::TestDb;

const WAIT: Duration = Duration::from_secs(20);

async fn rig(db: TestDb) -> Rig {
    Rig::start(
        db,
        live_config(Duration::from_secs(20)),
        Duration::from_secs(2),
    )
    .await
}

async fn every_event_type_arrives_signed_in_commit_order(db: TestDb) {
    let rig = rig(db).await;
    let hook = Receiver::start().await;
    let (id, secret) = rig.endpoint(&hook.url(), json!(["*"])).await;
    assert!(secret.starts_with("whsec_"));
    let h = rig.api.h();
    let ann = h.provisioned(&rig.app, "u-ann", "ann").await;
    let bob = h.person(&rig.app, "bob").await;
    let sent = h.text(&ann, &bob, "hello").await;
    let conv = sent.conversation.id;
    h.core
        .mark_read(&bob.caller, conv, ReadTarget::All)
        .await
        .unwrap();
    h.core.hide(&bob.caller, sent.message.id).await.unwrap();
    h.core.recall(&ann.caller, sent.message.id).await.unwrap();
    let members = vec![bob.member.uuid.to_string()];
    h.core
        .create_group(&ann.caller, "team", members)
        .await
        .unwrap();
    for (method, path) in [
        ("POST", "/v1/server/members/u-ann/ban"),
        ("DELETE", "/v1/server/members/u-ann/ban"),
        ("POST", "/v1/server/members/u-ann/mute"),
        ("DELETE", "/v1/server/members/u-ann/mute"),
        ("DELETE", "/v1/server/members/u-ann"),
    ] {
        let r = rig.backend(method, path, None).await;
        assert!(r.status.is_success(), "{method} {path}: {:?}", r.body);
    }
    let test = rig
        .backend("POST", &format!("/v1/server/webhooks/{id}/test"), None)
        .await;
    let queued = ok(&test, StatusCode::ACCEPTED).clone();
    let got = hook.distinct(14, WAIT).await;
    let kinds: Vec<String> = got.iter().map(|r| r.kind()).collect();
    assert_eq!(
        kinds,
        [
            "member.created",
            "member.created",
            "message.created",
            "conversation.read",
            "message.hidden",
            "message.recalled",
            "membership.changed",
            "member.banned",
            "member.unbanned",
            "member.muted",
            "member.unmuted",
            "membership.changed",
            "member.erased",
            "webhook.test",
        ]
    );
    assert_eq!(got[13].id(), queued["webhook_id"].as_str().unwrap());
    let positions: Vec<i64> = got.iter().map(|r| r.position()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for r in &got {
        verify(&secret, r).unwrap_or_else(|e| panic!("{}: {e}", r.kind()));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    }
    let mut forged = got[2].clone();
    forged.body = forged.body.replace("hello", "h3llo");
    assert!(
        verify(&secret, &forged).is_err(),
        "a changed body must not verify"
    );
    if let Some(verdicts) = readme_verify(&secret, &[&got[2], &forged]) {
        assert_eq!(verdicts, "True False", "README.md's verify() in python3");
    }
    let message = got[2].json();
    assert_eq!(message["data"]["message"]["sender"]["external_id"], "u-ann");
    assert_eq!(
        message["data"]["recipients"][0]["uuid"],
        bob.member.uuid.as_str()
    );
    assert_eq!(got[12].json()["data"]["member"]["external_id"], "u-ann");
    let deliveries = wait_delivered(&rig, id, 14).await;
    assert!(deliveries
        .iter()
        .all(|d| d["attempts"] == 1 && d["last_status"] == 200));
}

/// The verdicts of README.md's python3 `verify()` snippet on these requests ("True False" …),
/// or `None` where there is no python3.
fn readme_verify(secret: &str, requests: &[&Received]) -> Option<String> {
    let readme = include_str!("../../../README.md");
    let signing = readme.find("**Signing**").expect("the Signing paragraph");
    let fence = "```python\n";
    let from = signing + readme[signing..].find(fence).unwrap() + fence.len();
    let snippet = &readme[from..from + readme[from..].find("```").unwrap()];
    let driver = "import json, sys\nfor line in sys.stdin:\n    d = json.loads(line)\n    \
                  print(verify(d['secret'], d['headers'], d['body'].encode()), end=' ')\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", &format!("{snippet}\n{driver}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| eprintln!("SKIPPED: python3 is not available ({e})"))
        .ok()?;
    let mut input = String::new();
    for r in requests {
        let headers: serde_json::Map<String, Value> = r
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
            .collect();
        let line = json!({"secret": secret, "headers": headers, "body": r.body});
        input.push_str(&format!("{line}\n"));
    }
    use std::io::Write as _;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

/// Waits until the endpoint's first `n` deliveries are delivered; returns them.
async fn wait_delivered(rig: &Rig, id: i64, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = rig.deliveries(id).await;
        if d.len() >= n && d.iter().take(n).all(|d| d["status"] == "delivered") {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn test_events_reach_one_endpoint_and_replays_resend_in_order(db: TestDb) {
    let rig = rig(db).await;
    let h = rig.api.h();
    let (ann, bob) = (
        h.person(&rig.app, "ann").await,
        h.person(&rig.app, "bob").await,
    );
    let (one, two) = (Receiver::start().await, Receiver::start().await);
    let (first, _) = rig.endpoint(&one.url(), json!(["*"])).await;
    let (second, _) = rig.endpoint(&two.url(), json!(["message.created"])).await;
    for i in 0..3 {
        h.text(&ann, &bob, &format!("m{i}")).await;
    }
    let got = one.distinct(3, WAIT).await;
    two.distinct(3, WAIT).await;
    let r = rig
        .backend("POST", &format!("/v1/server/webhooks/{second}/test"), None)
        .await;
    ok(&r, StatusCode::ACCEPTED);
    let tested = two.until(WAIT, |g| g.len() == 4).await;
    assert_eq!(
        tested[3].kind(),
        "webhook.test",
        "sent whatever the event types"
    );
    let from = json!({"from": got[0].position()});
    let uri = format!("/v1/server/webhooks/{first}/replay");
    let r = rig.backend("POST", &uri, Some(from)).await;
    // The three messages, and the other endpoint's test event (the app's, in the outbox).
    assert_eq!(ok(&r, StatusCode::OK)["queued"], 4);
    let all = one.until(WAIT, |g| g.len() >= 7).await;
    let again: Vec<String> = all[3..6].iter().map(|r| r.id()).collect();
    let before: Vec<String> = got.iter().map(|r| r.id()).collect();
    assert_eq!(again, before, "the same webhook-ids, in the same order");
    assert_eq!(all[6].kind(), "webhook.test");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(one.received().len(), 7, "nothing else arrives");
    let d = rig.deliveries(first).await;
    assert!(d
        .iter()
        .all(|d| d["type"] != "webhook.test" || d["status"] == "delivered"));
}

async fn subscriptions_and_pauses_decide_what_is_sent(db: TestDb) {
    let rig = rig(db).await;
    let h = rig.api.h();
    let bans = Receiver::start().await;
    let (id, _) = rig.endpoint(&bans.url(), json!(["member.banned"])).await;
    let ann = h.provisioned(&rig.app, "u-ann", "ann").await;
    let bob = h.person(&rig.app, "bob").await;
    h.text(&ann, &bob, "not for the ban desk").await;
    let r = rig
        .backend("POST", "/v1/server/members/u-ann/ban", None)
        .await;
    assert!(r.status.is_success());
    let got = bans.distinct(1, WAIT).await;
    assert_eq!(got[0].kind(), "member.banned");
    let uri = format!("/v1/server/webhooks/{id}");
    let r = rig
        .backend("PATCH", &uri, Some(json!({"enabled": false})))
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["enabled"], false);
    rig.backend("DELETE", "/v1/server/members/u-ann/ban", None)
        .await;
    rig.backend("POST", "/v1/server/members/u-ann/ban", None)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bans.received().len(), 1, "a paused endpoint gets nothing");
    let r = rig
        .backend("PATCH", &uri, Some(json!({"enabled": true})))
        .await;
    ok(&r, StatusCode::OK);
    let r = rig
        .backend("DELETE", "/v1/server/members/u-ann/ban", None)
        .await;
    assert!(r.status.is_success());
    let r = rig
        .backend("POST", "/v1/server/members/u-ann/ban", None)
        .await;
    assert!(r.status.is_success());
    let got = bans.distinct(2, WAIT).await;
    assert!(got[1].position() > got[0].position());
    let statuses: Vec<Value> = rig
        .deliveries(id)
        .await
        .iter()
        .map(|d| d["status"].clone())
        .collect();
    assert!(statuses.contains(&json!("skipped")), "{statuses:?}");
}

async fn each_app_hears_only_its_own_events(db: TestDb) {
    let rig = rig(db).await;
    let h = rig.api.h();
    let other = h.app().await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    rig.endpoint(&mine.url(), json!(["message.created"])).await;
    let body = json!({"url": theirs.url(), "events": ["message.created"]});
    let r = as_backend(&rig.api, &other, "POST", "/v1/server/webhooks", Some(body)).await;
    let their_id = ok(&r, StatusCode::CREATED)["id"].as_i64().unwrap();
    let (a, b) = (h.person(&rig.app, "a").await, h.person(&rig.app, "b").await);
    let (x, y) = (h.person(&other, "x").await, h.person(&other, "y").await);
    h.text(&a, &b, "for my app").await;
    h.text(&x, &y, "for theirs").await;
    let got = mine.distinct(1, WAIT).await;
    let seen = theirs.distinct(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((mine.received().len(), theirs.received().len()), (1, 1));
    assert!(got[0].body.contains("for my app"));
    assert!(seen[0].body.contains("for theirs"));
    let uri = format!("/v1/server/webhooks/{their_id}");
    for (method, path) in [("GET", uri.clone()), ("DELETE", uri.clone())] {
        let r = rig.backend(method, &path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let r = rig.backend("POST", &format!("{uri}/test"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(first_arrivals(&theirs.received()).len(), 1);
}

sixin_tests::webhook_tests!(
    every_event_type_arrives_signed_in_commit_order,
    test_events_reach_one_endpoint_and_replays_resend_in_order,
    subscriptions_and_pauses_decide_what_is_sent,
    each_app_hears_only_its_own_events,
);
