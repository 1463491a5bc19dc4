//! Webhook delivery when receivers misbehave, on SQLite and PostgreSQL, with real HTTP
//! receivers on loopback: one that fails, one that times out, one that is down for longer than
//! several backoff steps and then back, one that never recovers. Nothing is lost, nothing is
//! reordered per endpoint, every retry carries the same `webhook-id`, and a delivery that runs
//! out of retry time is marked failed while the queue moves on.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};
use sixin_core::webhook::{NewWebhook, Subscription, WebhookPolicy, WebhookSecret};
use sixin_core::CoreConfig;
use sixin_tests::webhooks::{first_arrivals, live_config, Answer, Receiver, Rig};
use sixin_tests::{Harness, Person, TestDb};

const WAIT: Duration = Duration::from_secs(30);

/// Two members, created before any endpoint exists (so no member events are queued).
async fn pair(h: &Harness) -> (Person, Person) {
    let app = h.core.apps().await.unwrap().remove(0);
    (h.person(&app, "ann").await, h.person(&app, "bob").await)
}

/// Polls the endpoint's deliveries until `done` holds for them.
async fn deliveries_until(rig: &Rig, id: i64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = rig.deliveries(id).await;
        if done(&d) {
            return d;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_failing_receiver_gets_the_same_event_until_it_succeeds(db: TestDb) {
    let rig = Rig::start(db, live_config(WAIT), Duration::from_secs(2)).await;
    let (ann, bob) = pair(rig.api.h()).await;
    let hook = Receiver::start().await;
    hook.script(&[Answer::Status(500), Answer::Status(502)]);
    let (id, _) = rig.endpoint(&hook.url(), json!(["*"])).await;
    rig.api.h().text(&ann, &bob, "persistent").await;
    let got = hook.until(WAIT, |g| g.len() >= 3).await;
    assert!(
        got.iter().all(|r| r.id() == got[0].id()),
        "one webhook-id for every try"
    );
    let d = deliveries_until(&rig, id, |d| d[0]["status"] == "delivered").await;
    assert_eq!(
        (d[0]["attempts"].clone(), d[0]["last_status"].clone()),
        (json!(3), json!(200))
    );
    assert!(d[0]["last_error"].is_null());
}

async fn a_receiver_that_times_out_is_tried_again(db: TestDb) {
    let rig = Rig::start(db, live_config(WAIT), Duration::from_millis(300)).await;
    let (ann, bob) = pair(rig.api.h()).await;
    let hook = Receiver::start().await;
    hook.when_body_has("slow", Answer::Hang);
    let (id, _) = rig.endpoint(&hook.url(), json!(["*"])).await;
    rig.api.h().text(&ann, &bob, "slow one").await;
    rig.api.h().text(&ann, &bob, "quick one").await;
    let d = deliveries_until(&rig, id, |d| d[0]["attempts"].as_u64() >= Some(2)).await;
    assert_eq!(d[0]["status"], "pending");
    let error = d[0]["last_error"].as_str().unwrap();
    assert!(error.contains("no answer in time"), "{error}");
    assert_eq!(d[1]["status"], "pending", "the next event waits its turn");
    assert!(hook.received().iter().all(|r| r.body.contains("slow one")));
    hook.answer_normally();
    let got = hook
        .until(WAIT, |g| g.iter().any(|r| r.body.contains("quick one")))
        .await;
    let order: Vec<i64> = first_arrivals(&got).iter().map(|r| r.position()).collect();
    assert_eq!(order.len(), 2);
    assert!(order[0] < order[1]);
    deliveries_until(&rig, id, |d| d.iter().all(|d| d["status"] == "delivered")).await;
}

async fn a_receiver_down_for_many_backoff_steps_loses_nothing(db: TestDb) {
    let rig = Rig::start(db, live_config(WAIT), Duration::from_secs(2)).await;
    let (ann, bob) = pair(rig.api.h()).await;
    let mut hook = Receiver::start().await;
    let (id, _) = rig.endpoint(&hook.url(), json!(["message.created"])).await;
    rig.api.h().text(&ann, &bob, "m0").await;
    hook.distinct(1, WAIT).await;
    hook.stop();
    // Two senders at once: the endpoint still gets one order, the outbox's.
    let h = rig.api.h();
    tokio::join!(
        async {
            for i in 1..=5 {
                h.text(&ann, &bob, &format!("a{i}")).await;
            }
        },
        async {
            for i in 1..=5 {
                h.text(&bob, &ann, &format!("b{i}")).await;
            }
        }
    );
    // Down through at least four tries of the head (200, 400, 800, 800 ms steps, jittered).
    let d = deliveries_until(&rig, id, |d| d[1]["attempts"].as_u64() >= Some(4)).await;
    let error = d[1]["last_error"].as_str().unwrap();
    assert!(error.contains("cannot connect"), "{error}");
    assert!(d[1..].iter().all(|d| d["status"] == "pending"));
    hook.restart().await;
    let got = hook.distinct(11, WAIT).await;
    let positions: Vec<i64> = got.iter().map(|r| r.position()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "reordered: {positions:?}"
    );
    let texts: Vec<String> = got
        .iter()
        .map(|r| {
            r.json()["data"]["message"]["data"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for who in ["a", "b"] {
        let mine: Vec<&String> = texts.iter().filter(|t| t.starts_with(who)).collect();
        let expected: Vec<String> = (1..=5).map(|i| format!("{who}{i}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "{texts:?}");
    }
    deliveries_until(&rig, id, |d| d.iter().all(|d| d["status"] == "delivered")).await;
}

async fn a_delivery_out_of_retry_time_fails_and_the_queue_moves_on(db: TestDb) {
    let cfg = live_config(Duration::from_secs(1));
    let rig = Rig::start(db, cfg, Duration::from_secs(2)).await;
    let (ann, bob) = pair(rig.api.h()).await;
    let hook = Receiver::start().await;
    hook.when_body_has("doomed", Answer::Status(503));
    let (id, _) = rig.endpoint(&hook.url(), json!(["*"])).await;
    rig.api.h().text(&ann, &bob, "doomed").await;
    rig.api.h().text(&ann, &bob, "fine").await;
    let got = hook
        .until(WAIT, |g| g.iter().any(|r| r.body.contains("fine")))
        .await;
    let last = got.len() - 1;
    assert!(got[..last].iter().all(|r| r.body.contains("doomed")));
    assert!(last >= 2, "tried more than once: {}", got.len());
    let d = deliveries_until(&rig, id, |d| d[1]["status"] == "delivered").await;
    assert_eq!(
        (d[0]["status"].clone(), d[0]["last_status"].clone()),
        (json!("failed"), json!(503))
    );
    assert_eq!(d[0]["attempts"].as_u64(), Some(last as u64));
    let failed = rig.deliveries(id).await;
    let uri = format!("/v1/server/webhooks/{id}/deliveries?status=failed");
    let r = rig.backend("GET", &uri, None).await;
    assert_eq!(
        r.body["deliveries"].as_array().unwrap().len(),
        1,
        "{failed:?}"
    );
}

async fn private_targets_are_refused_at_delivery_too(db: TestDb) {
    let cfg = CoreConfig {
        webhooks: WebhookPolicy {
            allow_private_targets: false,
            ..live_config(WAIT).webhooks
        },
        ..live_config(WAIT)
    };
    let rig = Rig::start(db, cfg, Duration::from_secs(2)).await;
    let (ann, bob) = pair(rig.api.h()).await;
    let hook = Receiver::start().await;
    // Saved before the operator forbade private targets (the store takes what it is given): a
    // host name that resolves to loopback, and a loopback literal.
    let mut ids = Vec::new();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("http://{host}:{}/hook", hook.addr.port());
        let new = NewWebhook {
            url,
            secret: WebhookSecret::generate(),
            events: Subscription::All,
            enabled: true,
            description: None,
            created_at: rig.api.h().core.now(),
        };
        let saved = rig
            .api
            .h()
            .store
            .create_webhook(rig.app.id, new)
            .await
            .unwrap();
        ids.push(saved.id.0);
    }
    rig.api.h().text(&ann, &bob, "not to you").await;
    for id in ids {
        let d = deliveries_until(&rig, id, |d| d[0]["attempts"].as_u64() >= Some(1)).await;
        let error = d[0]["last_error"].as_str().unwrap();
        assert!(error.contains("private, loopback or link-local"), "{error}");
        assert_eq!(d[0]["status"], "pending");
    }
    assert!(
        hook.received().is_empty(),
        "nothing reached the private address"
    );
}

sixin_tests::webhook_tests!(
    private_targets_are_refused_at_delivery_too,
    a_failing_receiver_gets_the_same_event_until_it_succeeds,
    a_receiver_that_times_out_is_tried_again,
    a_receiver_down_for_many_backoff_steps_loses_nothing,
    a_delivery_out_of_retry_time_fails_and_the_queue_moves_on,
);
