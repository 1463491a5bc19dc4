//! Two `sixin serve` processes on one PostgreSQL database deliver one app's webhooks: the node
//! holding the endpoint's lease is killed (SIGKILL) while a delivery is in flight, and the other
//! node takes the queue over within seconds; every event arrives, in outbox order, the one in
//! flight again with the same `webhook-id` (at least once). Needs `SIXIN_TEST_PG_URL` (a fresh
//! database is created next to it and dropped at the end).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use sixin_tests::native::post_created as post;
use sixin_tests::pg::TestDatabase;
use sixin_tests::process::{stdout, Server, Sixin};
use sixin_tests::server_token::mint;
use sixin_tests::webhooks::{first_arrivals, Answer, Receiver};
use sqlx::Row as _;

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

/// Short leases and retries, loopback receivers allowed, and tries that outlast the test (so
/// the killed node is still in the middle of one).
const CONFIG: &str = "[webhooks]\nallow_private_targets = true\nlease_secs = 2\n\
    retry_first_ms = 200\nretry_max_delay_secs = 1\npoll_interval_ms = 100\ntimeout_secs = 60\n";

/// (app_key, app_secret) of a new app.
fn create_app(dir: &Path, db: &str) -> (String, String) {
    let out = SIXIN.run(
        dir,
        &["--database-url", db, "app", "create", "hooks", "--json"],
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let field = |k: &str| v[k].as_str().unwrap().to_owned();
    (field("app_key"), field("app_secret"))
}

/// A fresh server token for the app.
fn token(key: &str, secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let jti = format!("t-{}", rand::random::<u64>());
    let claims =
        json!({"iss": key, "aud": "sixin-server", "iat": now, "exp": now + 60, "jti": jti});
    mint(secret, &claims)
}

/// The webhook node id a server logged at start.
fn node_id(server: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = server.log().iter().find_map(|l| {
            let at = l.find("worker started (node ")?;
            let rest = &l[at + "worker started (node ".len()..];
            Some(rest.split(')').next()?.to_owned())
        });
        if let Some(id) = found {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "no node id in {:?}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The node holding the endpoint's lease, if any.
async fn lease_owner(db: &str) -> Option<String> {
    let mut conn = sixin_tests::pg::connect(db).await;
    let row = sqlx::query("SELECT lease_owner FROM webhook_endpoints")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    row.get::<Option<String>, _>("lease_owner")
}

#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_takes_over_the_webhooks_of_a_node_killed_mid_delivery() {
    tokio::time::timeout(Duration::from_secs(90), takeover())
        .await
        .expect("the takeover scenario took longer than 90 s");
}

async fn takeover() {
    let Some(db) = TestDatabase::create("webhooks across two nodes").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hooks.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let (key, secret) = create_app(dir.path(), &db.url);
    let global = [
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    let mut nodes = vec![
        SIXIN.serve_with(dir.path(), &global),
        SIXIN.serve_with(dir.path(), &global),
    ];
    let ids: Vec<String> = nodes.iter().map(node_id).collect();
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Every request hangs: whichever node delivers is stuck in the middle of its first try.
    let hook = Receiver::start().await;
    hook.script(&[Answer::Hang]);
    let body = json!({"url": hook.url(), "events": ["message.created"]});
    let auth = format!("Bearer {}", token(&key, &secret));
    let r = client
        .post(nodes[0].url("/v1/server/webhooks"))
        .header("authorization", auth);
    let r = r.json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);

    let member = |name: &str| json!({"app_key": key, "username": name, "password": "secret-pw"});
    post(&client, nodes[0].url("/v1/members"), None, member("ann")).await;
    let bob = post(&client, nodes[1].url("/v1/members"), None, member("bob")).await;
    let ann = post(&client, nodes[0].url("/v1/sessions"), None, member("ann")).await;
    let ann_token = ann["token"].as_str().unwrap();
    for i in 0..10 {
        let node = &nodes[i % 2];
        let text = json!({"to": bob["uuid"], "type": "text", "data": {"content": format!("m{i}")}});
        post(&client, node.url("/v1/messages"), Some(ann_token), text).await;
    }
    let in_flight = hook.until(Duration::from_secs(10), |g| !g.is_empty()).await;
    let owner = lease_owner(&db.url).await.expect("a node holds the lease");
    let dead = ids.iter().position(|id| *id == owner).unwrap();
    nodes.remove(dead).kill();
    let killed_at = Instant::now();

    let got = hook.distinct(10, Duration::from_secs(30)).await;
    let first_again = hook.received()[1..]
        .iter()
        .position(|r| r.id() == in_flight[0].id())
        .expect("the event in flight is sent again");
    assert_eq!(
        first_again, 0,
        "it is the next request, before any later event"
    );
    let taken_over = killed_at.elapsed();
    assert!(
        taken_over < Duration::from_secs(20),
        "took over after {taken_over:?}"
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
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected, "nothing lost, nothing reordered");
    let positions: Vec<i64> = first_arrivals(&hook.received())
        .iter()
        .map(|r| r.position())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(
        lease_owner(&db.url)
            .await
            .as_deref()
            .unwrap_or(&ids[1 - dead]),
        ids[1 - dead]
    );
}
