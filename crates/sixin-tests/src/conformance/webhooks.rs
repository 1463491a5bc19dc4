//! Webhook endpoints and the outbox: changes are written in their own transaction, only for
//! apps with an enabled endpoint; refused changes write nothing; endpoints are confined to
//! their app; replays re-queue in order.

use serde_json::Value;
use sixin_core::error::{Entity, Error};
use sixin_core::ids::{OutboxId, WebhookId};
use sixin_core::model::App;
use std::time::Duration;

use sixin_core::service::{Attempt, MemberLookup, Next, Outcome, WebhookEdit, WebhookSpec};
use sixin_core::store::{NewContent, ReadTarget, SendChecks, SendTarget, StoreError};
use sixin_core::webhook::{DeliveryStatus, Webhook};
use sixin_core::AppCaller;

use crate::Harness;

/// An endpoint of `app` (never called: the conformance suite runs no worker).
pub(crate) async fn endpoint(h: &Harness, backend: &AppCaller) -> Webhook {
    let spec = WebhookSpec {
        url: "https://hooks.example.com/sixin".into(),
        ..WebhookSpec::default()
    };
    h.core.create_webhook(backend, spec).await.unwrap()
}

/// The endpoint's deliveries: (type, status), in outbox order.
pub(crate) async fn queued(h: &Harness, b: &AppCaller, id: WebhookId) -> Vec<(String, String)> {
    let page = h
        .core
        .webhook_deliveries(b, id, None, None, 100)
        .await
        .unwrap();
    page.items
        .iter()
        .map(|d| (d.kind.clone(), d.status.as_str().to_owned()))
        .collect()
}

fn kinds(q: &[(String, String)]) -> Vec<&str> {
    q.iter().map(|(k, _)| k.as_str()).collect()
}

async fn backend(h: &Harness, app: &App) -> AppCaller {
    h.backend(app).await
}

pub async fn changes_reach_the_outbox_only_while_the_app_has_an_enabled_endpoint(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    h.text(&ann, &bob, "before any endpoint").await;
    let hook = endpoint(h, &b).await;
    // Nothing was written for the app while it had no endpoint: a replay finds nothing.
    let replayed = h
        .core
        .replay_webhook(&b, hook.id, OutboxId(0))
        .await
        .unwrap();
    assert_eq!(replayed.queued, 0);
    h.text(&ann, &bob, "one").await;
    assert_eq!(
        queued(h, &b, hook.id).await,
        [("message.created".to_owned(), "pending".to_owned())]
    );
    let pause = WebhookEdit {
        enabled: Some(false),
        ..WebhookEdit::default()
    };
    let paused = h.core.update_webhook(&b, hook.id, pause).await.unwrap();
    assert!(!paused.enabled);
    h.text(&ann, &bob, "while paused").await;
    assert_eq!(
        queued(h, &b, hook.id).await.len(),
        1,
        "nothing queued paused"
    );
    let replayed = h
        .core
        .replay_webhook(&b, hook.id, OutboxId(0))
        .await
        .unwrap();
    assert_eq!(replayed.queued, 1, "and nothing written to the outbox");
    assert_eq!(replayed.next_from, None);
}

pub async fn every_change_type_is_queued_in_commit_order(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let hook = endpoint(h, &b).await;
    let ann = h.provisioned(&app, "u-ann", "ann").await;
    let bob = h.person(&app, "bob").await;
    let sent = h.text(&ann, &bob, "hello").await;
    let conv = sent.conversation.id;
    h.core
        .mark_read(&bob.caller, conv, ReadTarget::All)
        .await
        .unwrap();
    h.core.hide(&bob.caller, sent.message.id).await.unwrap();
    h.core.recall(&ann.caller, sent.message.id).await.unwrap();
    let uuid = bob.member.uuid.to_string();
    h.core
        .create_group(&ann.caller, "team", vec![uuid])
        .await
        .unwrap();
    let ban = sixin_core::store::Ban::default();
    h.core.ban_member(&b, "u-ann", Some(ban)).await.unwrap();
    h.core.ban_member(&b, "u-ann", None).await.unwrap();
    h.core.mute_member(&b, "u-ann", Some(None)).await.unwrap();
    h.core.mute_member(&b, "u-ann", None).await.unwrap();
    h.core
        .erase_member(&b, MemberLookup::ExternalId("u-ann"))
        .await
        .unwrap();
    let q = queued(h, &b, hook.id).await;
    assert_eq!(
        kinds(&q),
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
        ]
    );
    assert!(q.iter().all(|(_, s)| s == "pending"), "{q:?}");
}

pub async fn a_refused_change_writes_no_outbox_row(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let outsider = h.person(&app, "outsider").await;
    let hook = endpoint(h, &b).await;
    let group = h
        .core
        .create_group(&ann.caller, "g", vec![bob.member.uuid.to_string()])
        .await
        .unwrap();
    let before = queued(h, &b, hook.id).await.len();
    // Refused inside the store's transaction (the sender is no member at commit time).
    let content = NewContent {
        kind: sixin_core::model::MessageType::Text,
        data: serde_json::json!({"content": "sneak"}),
        ext_data: None,
        client_msg_id: None,
        created_at: h.core.now(),
    };
    let to = SendTarget::Conversation(group.conversation.id);
    let refused = h
        .store
        .send(app.id, outsider.member.id, to, content, SendChecks::NOTICE)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Refused(_))),
        "{refused:?}"
    );
    // A username taken: the insert fails, and the member.created row with it.
    let taken = h
        .core
        .register(&app, "ann", "pass-phrase-1", None, None)
        .await;
    assert!(matches!(taken, Err(Error::Conflict(Entity::Username))));
    assert_eq!(queued(h, &b, hook.id).await.len(), before);
    let all = h
        .core
        .replay_webhook(&b, hook.id, OutboxId(0))
        .await
        .unwrap();
    assert_eq!(all.queued as usize, before, "nothing else is in the outbox");
}

pub async fn webhook_payloads_name_members_as_the_backend_knows_them(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let hook = endpoint(h, &b).await;
    let ann = h.provisioned(&app, "u-ann", "ann").await;
    let bob = h.provisioned(&app, "u-bob", "bob").await;
    h.text(&ann, &bob, "hi").await;
    h.clock.advance(std::time::Duration::from_millis(1));
    let queue = h.core.claim_webhooks("node-a", 10).await.unwrap();
    assert!(queue.contains(&hook.id));
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let attempt = send_of(
            h.core
                .next_webhook_attempt("node-a", hook.id)
                .await
                .unwrap(),
        );
        bodies.push(serde_json::from_str::<Value>(&attempt.body).unwrap());
        let outcome = Outcome::Answered(204);
        assert!(h
            .core
            .settle_webhook_attempt("node-a", &attempt, outcome)
            .await
            .unwrap());
    }
    let message = &bodies[2];
    assert_eq!(message["type"], "message.created");
    let data = &message["data"];
    assert_eq!(data["message"]["sender"]["external_id"], "u-ann");
    assert_eq!(data["message"]["data"]["content"], "hi");
    assert_eq!(data["recipients"][0]["external_id"], "u-bob");
    assert_eq!(data["recipients"][0]["uuid"], bob.member.uuid.as_str());
    assert_eq!(bodies[0]["data"]["member"]["username"], "ann");
    let q = queued(h, &b, hook.id).await;
    assert!(q.iter().all(|(_, s)| s == "delivered"), "{q:?}");
}

pub async fn webhook_endpoints_are_confined_to_their_app(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let (b, ob) = (backend(h, &app).await, backend(h, &other).await);
    let hook = endpoint(h, &b).await;
    let nf = |r: Result<(), Error>| matches!(r, Err(Error::NotFound(Entity::Webhook)));
    assert!(nf(h.core.get_webhook(&ob, hook.id).await.map(drop)));
    let pause = WebhookEdit {
        enabled: Some(false),
        ..WebhookEdit::default()
    };
    assert!(nf(h
        .core
        .update_webhook(&ob, hook.id, pause)
        .await
        .map(drop)));
    let d = h
        .core
        .webhook_deliveries(&ob, hook.id, None, None, 10)
        .await;
    assert!(nf(d.map(drop)));
    let r = h.core.replay_webhook(&ob, hook.id, OutboxId(0)).await;
    assert!(nf(r.map(drop)));
    assert!(nf(h.core.test_webhook(&ob, hook.id).await.map(drop)));
    assert!(nf(h.core.delete_webhook(&ob, hook.id).await));
    assert!(h.core.list_webhooks(&ob).await.unwrap().is_empty());
    // The other app's changes never reach this app's endpoint.
    let (x, y) = (h.person(&other, "x").await, h.person(&other, "y").await);
    h.text(&x, &y, "elsewhere").await;
    assert!(queued(h, &b, hook.id).await.is_empty());
    let listed = h.core.list_webhooks(&b).await.unwrap();
    assert_eq!(listed, vec![hook.clone()]);
    h.core.delete_webhook(&b, hook.id).await.unwrap();
    assert!(nf(h.core.get_webhook(&b, hook.id).await.map(drop)));
}

pub async fn replays_requeue_from_a_position_in_order(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let hook = endpoint(h, &b).await;
    for i in 0..3 {
        h.text(&ann, &bob, &format!("m{i}")).await;
    }
    let page = h
        .core
        .webhook_deliveries(&b, hook.id, None, None, 100)
        .await
        .unwrap();
    let ids: Vec<OutboxId> = page.items.iter().map(|d| d.outbox).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let test = h.core.test_webhook(&b, hook.id).await.unwrap();
    assert!(test > ids[2]);
    let pending = Some("pending");
    let page = h
        .core
        .webhook_deliveries(&b, hook.id, pending, Some(ids[0]), 1)
        .await
        .unwrap();
    assert_eq!((page.items[0].outbox, page.has_more), (ids[1], true));
    let bad = h
        .core
        .webhook_deliveries(&b, hook.id, Some("lost"), None, 10);
    assert!(matches!(bad.await, Err(Error::Invalid { .. })));
    let again = h.core.replay_webhook(&b, hook.id, ids[1]).await.unwrap();
    // The test event is this endpoint's only, yet it is the app's: a replay includes it.
    assert_eq!(again.queued, 3);
    let status = |d: &sixin_core::webhook::DeliveryRecord| d.status;
    let page = h
        .core
        .webhook_deliveries(&b, hook.id, None, None, 100)
        .await
        .unwrap();
    assert!(page
        .items
        .iter()
        .all(|d| status(d) == DeliveryStatus::Pending));
    assert_eq!(page.items.last().unwrap().kind, "webhook.test");
}

fn send_of(next: Next) -> Attempt {
    match next {
        Next::Send(a) => a,
        other => panic!("expected a request, got {other:?}"),
    }
}

pub async fn webhook_leases_go_to_one_node_until_they_expire(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let hook = endpoint(h, &b).await;
    h.text(&ann, &bob, "hi").await;
    let core = &h.core;
    assert_eq!(core.claim_webhooks("a", 10).await.unwrap(), [hook.id]);
    assert!(core.claim_webhooks("b", 10).await.unwrap().is_empty());
    assert!(matches!(
        core.next_webhook_attempt("b", hook.id).await.unwrap(),
        Next::Lost
    ));
    let first = send_of(core.next_webhook_attempt("a", hook.id).await.unwrap());
    assert_eq!(first.headers[0].1, format!("msg_{}", first.outbox.0));
    let failed = Outcome::Answered(500);
    assert!(core
        .settle_webhook_attempt("a", &first, failed)
        .await
        .unwrap());
    assert!(matches!(
        core.next_webhook_attempt("a", hook.id).await.unwrap(),
        Next::Wait(d) if d > Duration::ZERO
    ));
    assert_eq!(
        core.renew_webhooks("a", &[hook.id]).await.unwrap(),
        [hook.id]
    );
    // Node a goes quiet past its lease: node b takes the queue over, and a writes nothing.
    h.clock
        .advance(core.config().webhooks.lease + Duration::from_secs(1));
    assert_eq!(core.claim_webhooks("b", 10).await.unwrap(), [hook.id]);
    let late = Outcome::Answered(200);
    assert!(!core
        .settle_webhook_attempt("a", &first, late)
        .await
        .unwrap());
    assert!(matches!(
        core.next_webhook_attempt("a", hook.id).await.unwrap(),
        Next::Lost
    ));
    assert!(core
        .renew_webhooks("a", &[hook.id])
        .await
        .unwrap()
        .is_empty());
    let again = send_of(core.next_webhook_attempt("b", hook.id).await.unwrap());
    assert_eq!(again.headers[0], first.headers[0], "the same webhook-id");
    let ok = Outcome::Answered(204);
    assert!(core.settle_webhook_attempt("b", &again, ok).await.unwrap());
    assert!(matches!(
        core.next_webhook_attempt("b", hook.id).await.unwrap(),
        Next::Idle
    ));
    let page = core
        .webhook_deliveries(&b, hook.id, None, None, 10)
        .await
        .unwrap();
    let d = &page.items[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 2));
    assert_eq!((d.last_status, d.last_error.as_deref()), (Some(204), None));
    // Released when idle: free for whoever has work for it next.
    h.text(&ann, &bob, "more").await;
    assert_eq!(core.claim_webhooks("a", 10).await.unwrap(), [hook.id]);
}

pub async fn unwanted_events_are_skipped_without_a_request(h: &Harness) {
    let app = h.app().await;
    let b = backend(h, &app).await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let spec = WebhookSpec {
        url: "https://hooks.example.com/bans".into(),
        events: Some(vec!["member.banned".into()]),
        ..WebhookSpec::default()
    };
    let hook = h.core.create_webhook(&b, spec).await.unwrap();
    h.text(&ann, &bob, "not wanted").await;
    h.core
        .set_banned(&app, bob.member.uuid.as_str(), Some(Default::default()))
        .await
        .unwrap();
    let core = &h.core;
    assert_eq!(core.claim_webhooks("n", 10).await.unwrap(), [hook.id]);
    let attempt = send_of(core.next_webhook_attempt("n", hook.id).await.unwrap());
    let body: Value = serde_json::from_str(&attempt.body).unwrap();
    assert_eq!(body["type"], "member.banned");
    let q = queued(h, &b, hook.id).await;
    assert_eq!(
        q,
        [
            ("message.created".to_owned(), "skipped".to_owned()),
            ("member.banned".to_owned(), "pending".to_owned())
        ]
    );
}
