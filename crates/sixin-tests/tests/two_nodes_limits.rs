//! Two nodes over one PostgreSQL database, each a core with its own store pool and its own
//! router on its own loopback port, as two `sixin serve` behind a balancer: the failed-login
//! lockout is shared through the database (guesses on one node lock the account on the other),
//! while the per-IP buckets are each node's own (one node refusing a client does not stop the
//! other). Ignored unless `SIXIN_TEST_PG_URL` was set at build time.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{json, Value};
use sixin_core::ids::Timestamp;
use sixin_core::testing::{fast_config, ManualClock};
use sixin_core::{Core, LocalBus};
use sixin_http::HttpConfig;
use sixin_tests::TestDb;

/// A node: a core over its own connection pool to `db`, served on a loopback port (with the
/// peer address, as `sixin serve` serves it). Its base URL, its core and the server task.
async fn node(db: &TestDb, clock: Arc<ManualClock>) -> (String, Core, tokio::task::JoinHandle<()>) {
    let core = Core::new(
        db.open().await,
        Arc::new(LocalBus::default()),
        clock,
        fast_config(),
    );
    let router = sixin_http::router(core.clone(), HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, core, task)
}

/// `POST base/path` with a JSON body: the status and the body.
async fn post(client: &reqwest::Client, base: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(sixin_test_pg), ignore = "needs PostgreSQL: set SIXIN_TEST_PG_URL")]
async fn two_nodes_share_the_lockout_but_not_the_per_ip_buckets() {
    let Some(db) = TestDb::postgres("two nodes over one PostgreSQL").await else {
        return;
    };
    let clock = Arc::new(ManualClock::at(Timestamp(1_700_000_000_000)));
    let (one, core, task_one) = node(&db, clock.clone()).await;
    let (two, _, task_two) = node(&db, clock).await;
    let app = core.create_app("two nodes", false).await.unwrap();
    let caller = core.act_for_app(app.key.as_str()).await.unwrap();
    let over = json!({"logins_per_ip": {"per": 3, "secs": 60, "burst": 3},
        "failed_logins_free": 2, "failed_login_delay_secs": 60});
    core.set_limits(&caller, Some(over)).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let creds = |name: &str, pw: &str| json!({"app_key": app.key.as_str(), "username": name, "password": pw});
    for name in ["alice", "bob"] {
        let (status, _) = post(&client, &one, "/v1/members", &creds(name, "pass-phrase-1")).await;
        assert_eq!(status, 201);
    }

    // Two wrong passwords on node one lock alice's account on node two as well.
    for _ in 0..2 {
        let (status, _) = post(
            &client,
            &one,
            "/v1/sessions",
            &creds("alice", "guess-guess"),
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, body) = post(
        &client,
        &two,
        "/v1/sessions",
        &creds("alice", "pass-phrase-1"),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let message = "too many requests (failed_logins: 2 per 60 s); retry in 60 s";
    assert_eq!(body["error"]["message"], message);

    // Node one has counted 3 logins from 127.0.0.1 (the two guesses and bob's) and refuses a
    // fourth; node two has counted one (alice's, refused) and lets bob in twice more.
    let bob = creds("bob", "pass-phrase-1");
    assert_eq!(post(&client, &one, "/v1/sessions", &bob).await.0, 201);
    let (status, body) = post(&client, &one, "/v1/sessions", &bob).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body["error"]["message"],
        "too many requests (logins: 3 per 60 s); retry in 20 s"
    );
    assert_eq!(post(&client, &two, "/v1/sessions", &bob).await.0, 201);
    assert_eq!(post(&client, &two, "/v1/sessions", &bob).await.0, 201);
    assert_eq!(post(&client, &two, "/v1/sessions", &bob).await.0, 429);
    task_one.abort();
    task_two.abort();
}
