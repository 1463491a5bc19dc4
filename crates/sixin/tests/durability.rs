//! An acknowledged send survives the server being killed: start the real binary, send
//! concurrently, SIGKILL right after the last acknowledgement, restart on the same database and
//! find every acknowledged message in the history.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sixin_tests::native::{post_created as post, register_and_log_in as member};
use sixin_tests::process::Sixin;

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));
const MESSAGES: usize = 200;
const IN_FLIGHT: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sends_survive_sigkill() {
    tokio::time::timeout(Duration::from_secs(120), scenario())
        .await
        .expect("the durability scenario took longer than 120 s");
}

async fn scenario() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/durable.db", dir.path().display());
    let app_key = SIXIN.create_app(dir.path(), &db);
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let server = SIXIN.serve(dir.path(), &db);
    let (_, alice_token) = member(&client, &server, &app_key, "alice").await;
    let (bob_uuid, _) = member(&client, &server, &app_key, "bob").await;

    let url = server.url("/v1/messages");
    let acked: Vec<(i64, i64)> = futures::stream::iter(0..MESSAGES)
        .map(|i| {
            let (client, url, token, to) = (&client, url.clone(), &alice_token, &bob_uuid);
            async move {
                let body = json!({
                    "to": to,
                    "type": "text",
                    "data": {"content": format!("durable {i}")},
                    "client_msg_id": format!("m{i}"),
                });
                let m = post(client, url, Some(token), body).await;
                Ok::<_, ()>((
                    m["id"].as_i64().unwrap(),
                    m["conversation_id"].as_i64().unwrap(),
                ))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await
        .unwrap();
    server.kill();

    assert_eq!(acked.len(), MESSAGES);
    let conversations: BTreeSet<i64> = acked.iter().map(|&(_, c)| c).collect();
    assert_eq!(conversations.len(), 1, "one direct conversation");
    let conversation = *conversations.first().unwrap();
    let acked: BTreeSet<i64> = acked.iter().map(|&(id, _)| id).collect();
    assert_eq!(acked.len(), MESSAGES, "ids are unique");

    // Restart on the same file; the session survives too.
    let server = SIXIN.serve(dir.path(), &db);
    let mut found = BTreeSet::new();
    let mut before: Option<String> = None;
    for _page in 0..(MESSAGES / 50 + 5) {
        let mut url = format!(
            "{}?limit=50",
            server.url(&format!("/v1/conversations/{conversation}/messages"))
        );
        if let Some(c) = &before {
            url.push_str(&format!("&before={c}"));
        }
        let resp = client
            .get(&url)
            .bearer_auth(&alice_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "GET {url}");
        let page: Value = resp.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            found.insert(item["id"].as_i64().unwrap());
        }
        match page["prev_cursor"].as_str() {
            Some(c) if !page["items"].as_array().unwrap().is_empty() => before = Some(c.to_owned()),
            _ => break,
        }
    }
    let missing: Vec<_> = acked.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost after SIGKILL: {missing:?}"
    );
    drop(server);
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/term.db", dir.path().display());
    let mut server = SIXIN.serve(dir.path(), &db);
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
}
