//! Two `sixin serve` processes on one PostgreSQL database and one NATS server: a member
//! connected to node A hears what is sent through node B, and when NATS goes away and comes
//! back, every message sent meanwhile still reaches the member, by position, with no gap and no
//! duplicate. Needs `SIXIN_TEST_PG_URL` (a fresh database is created next to it and dropped at the
//! end) and a `nats-server` binary (`SIXIN_TEST_NATS_BIN`); ignored when either was unset at
//! build time.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::path::Path;
use std::time::Duration;

use reqwest::Client;
use serde_json::json;
use sixin_tests::native::post_created as post;
use sixin_tests::nats::NatsServer;
use sixin_tests::pg::TestDatabase;
use sixin_tests::process::{Server, Sixin};
use sixin_tests::stream_client::WsClient;
use tokio::time::Instant;

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

/// A `sixin serve` on `db` connected to NATS at `nats`.
fn node(dir: &Path, db: &str, nats: &str) -> Server {
    SIXIN.serve_with(dir, &["--database-url", db, "--nats-url", nats])
}

/// Everything a scenario needs: the database, NATS, two nodes, an app and two members.
struct Cluster {
    // Fields drop in order: nodes first, then NATS, then the database, then the directory.
    a: Server,
    b: Server,
    nats: NatsServer,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
    client: Client,
    alice: Member,
    bob: Member,
}

struct Member {
    uuid: String,
    token: String,
}

impl Cluster {
    async fn start(suite: &str) -> Option<Cluster> {
        let nats = NatsServer::start(suite)?;
        let db = TestDatabase::create(suite).await?;
        let dir = tempfile::tempdir().unwrap();
        let app_key = SIXIN.create_app(dir.path(), &db.url);
        let a = node(dir.path(), &db.url, &nats.url());
        let b = node(dir.path(), &db.url, &nats.url());
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let alice = register(&client, &a, &app_key, "alice").await;
        let bob = register(&client, &a, &app_key, "bob").await;
        Some(Cluster {
            a,
            b,
            nats,
            _db: db,
            _dir: dir,
            client,
            alice,
            bob,
        })
    }

    /// Sends a text from `from` to `to` through `node`; it must be acknowledged (201).
    async fn send(&self, node: &Server, from: &Member, to: &Member, content: &str) {
        let body = json!({"to": to.uuid, "type": "text", "data": {"content": content}});
        post(
            &self.client,
            node.url("/v1/messages"),
            Some(&from.token),
            body,
        )
        .await;
    }
}

async fn register(client: &Client, node: &Server, app_key: &str, username: &str) -> Member {
    let creds = json!({"app_key": app_key, "username": username, "password": "secret-pw"});
    post(client, node.url("/v1/members"), None, creds.clone()).await;
    let s = post(client, node.url("/v1/sessions"), None, creds).await;
    Member {
        uuid: s["member"]["uuid"].as_str().unwrap().to_owned(),
        token: s["token"].as_str().unwrap().to_owned(),
    }
}

/// Opens `member`'s event stream on `node` and checks the `ready` frame's position.
async fn connect(node: &Server, member: &Member, after: Option<i64>, ready_at: i64) -> WsClient {
    let mut ws = WsClient::connect(&node.base, &member.token, after).await;
    let ready = ws.frame().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["position"], ready_at, "{ready}");
    ws
}

/// The next `n` frames, each of which must be a message: (position, content). Waits at most
/// `within` for all of them; fails on any other frame or a closed stream.
async fn messages(ws: &mut WsClient, n: usize, within: Duration) -> Vec<(i64, String)> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        // Short slices, so the stream client's own 10 s frame wait never fires first.
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Ok(f)) => {
                assert_eq!(
                    f["type"], "message",
                    "expected a message frame after {got:?}, got {f}"
                );
                got.push((
                    f["position"].as_i64().unwrap(),
                    f["message"]["data"]["content"].as_str().unwrap().to_owned(),
                ));
            }
            Ok(Err(closed)) => panic!("stream closed after {got:?}: {closed:?}"),
            Err(_) => assert!(
                Instant::now() < deadline,
                "only {} of {n} messages within {within:?}: {got:?}",
                got.len()
            ),
        }
    }
    got
}

/// (position, content) for positions `first..=last`, content `prefix{position}`.
fn expected(first: i64, last: i64, prefix: &str) -> Vec<(i64, String)> {
    (first..=last)
        .map(|p| (p, format!("{prefix}{p}")))
        .collect()
}

#[cfg_attr(
    not(all(sixin_test_pg, sixin_test_nats_bin)),
    ignore = "needs PostgreSQL and nats-server: set SIXIN_TEST_PG_URL and SIXIN_TEST_NATS_BIN"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_node_a_receives_what_is_sent_through_node_b() {
    tokio::time::timeout(Duration::from_secs(60), cross_node_delivery())
        .await
        .expect("the two-node delivery scenario took longer than 60 s");
}

async fn cross_node_delivery() {
    let Some(c) = Cluster::start("two sixin nodes over NATS").await else {
        return;
    };
    let mut bob_ws = connect(&c.a, &c.bob, None, 0).await;
    for p in 1..=20 {
        c.send(&c.b, &c.alice, &c.bob, &format!("m{p}")).await;
    }
    let got = messages(&mut bob_ws, 20, Duration::from_secs(15)).await;
    assert_eq!(got, expected(1, 20, "m"), "bob on node A");

    // The other way: bob sends through A, alice (whose 20 sends are positions 1..=20) hears it
    // on B.
    let mut alice_ws = connect(&c.b, &c.alice, None, 20).await;
    c.send(&c.a, &c.bob, &c.alice, "back").await;
    let got = messages(&mut alice_ws, 1, Duration::from_secs(15)).await;
    assert_eq!(got, vec![(21, "back".to_owned())], "alice on node B");
    let got = messages(&mut bob_ws, 1, Duration::from_secs(15)).await;
    assert_eq!(got, vec![(21, "back".to_owned())], "bob's own send on A");
}

#[cfg_attr(
    not(all(sixin_test_pg, sixin_test_nats_bin)),
    ignore = "needs PostgreSQL and nats-server: set SIXIN_TEST_PG_URL and SIXIN_TEST_NATS_BIN"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_recover_every_message_by_position_after_nats_stops() {
    tokio::time::timeout(Duration::from_secs(90), nats_outage())
        .await
        .expect("the NATS outage scenario took longer than 90 s");
}

async fn nats_outage() {
    let Some(mut c) = Cluster::start("two sixin nodes over a NATS outage").await else {
        return;
    };
    let mut bob_ws = connect(&c.a, &c.bob, None, 0).await;
    for p in 1..=5 {
        c.send(&c.b, &c.alice, &c.bob, &format!("m{p}")).await;
    }
    let got = messages(&mut bob_ws, 5, Duration::from_secs(15)).await;
    assert_eq!(got, expected(1, 5, "m"), "before the outage");

    // NATS goes away: sends still succeed, the database is the source of truth.
    c.nats.kill();
    for p in 6..=15 {
        c.send(&c.b, &c.alice, &c.bob, &format!("m{p}")).await;
    }
    // Long enough for the nodes' reconnect attempts to back off a little.
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.nats.restart();

    // A fresh connection resumes from the store at once.
    let mut fresh = connect(&c.a, &c.bob, Some(5), 5).await;
    let got = messages(&mut fresh, 10, Duration::from_secs(5)).await;
    assert_eq!(got, expected(6, 15, "m"), "a fresh connection after 5");

    // The connection that stayed open catches up once node A is back on NATS.
    let got = messages(&mut bob_ws, 10, Duration::from_secs(25)).await;
    assert_eq!(
        got,
        expected(6, 15, "m"),
        "the connection open through the outage"
    );

    // And live delivery across nodes works again.
    c.send(&c.b, &c.alice, &c.bob, "m16").await;
    for (name, ws) in [("open", &mut bob_ws), ("fresh", &mut fresh)] {
        let got = messages(ws, 1, Duration::from_secs(15)).await;
        assert_eq!(got, expected(16, 16, "m"), "the {name} connection, live");
    }
}
