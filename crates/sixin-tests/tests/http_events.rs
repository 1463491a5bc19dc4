//! `GET /v1/events` over real HTTP: WebSocket and Server-Sent Events, resume by position, the
//! JSON of every event type, refusals in the native envelope, heartbeats, idle and session
//! ends, and shutdown. Runs on SQLite and PostgreSQL. Heartbeats and idle timeouts fire on a
//! paused clock the tests move ([`PausedTime`]), never by waiting.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};
use sixin_core::service::Recipient;
use sixin_core::store::ReadTarget;
use sixin_core::testing::fast_config;
use sixin_core::CoreConfig;
use sixin_http::{EventStreamConfig, HttpConfig};
use sixin_tests::stream_client::{Sse, SseClient, WsClient};
use sixin_tests::time::PausedTime;
use sixin_tests::{text_to, Harness, TestDb, TestServer};

fn content(frame: &Value) -> &str {
    frame["message"]["data"]["content"].as_str().unwrap()
}

const HEARTBEAT: Duration = Duration::from_millis(100);
const IDLE_TIMEOUT: Duration = Duration::from_millis(250);

/// Heartbeats every 100 ms and an idle timeout of 250 ms, on a clock the test moves.
fn quick_heartbeats() -> HttpConfig {
    HttpConfig {
        events: EventStreamConfig {
            heartbeat: HEARTBEAT,
            idle_timeout: IDLE_TIMEOUT,
            write_timeout: Duration::from_secs(5),
        },
        ..HttpConfig::default()
    }
}

async fn websocket_streams_live_events_and_resumes_after_a_position(h: Harness) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let (a, b) = (srv.h.person(&app, "a").await, srv.h.person(&app, "b").await);

    let mut ws = WsClient::connect(&srv.base, &b.token, None).await;
    let ready = ws.frame().await;
    assert_eq!(
        ready,
        json!({"type": "ready", "position": 0, "heartbeat_ms": 25000})
    );
    let sent = srv.h.text(&a, &b, "hello").await;
    let f = ws.event().await;
    assert_eq!(f["type"], "message");
    assert_eq!(f["position"], 1);
    assert_eq!(f["unread_total"], 1);
    assert_eq!(f["message"]["id"], sent.message.id.0);
    assert_eq!(f["message"]["conversation_id"], sent.conversation.id.0);
    assert_eq!(f["message"]["sender"]["uuid"], a.member.uuid.to_string());
    assert_eq!(content(&f), "hello");
    ws.close().await;

    // Two more while away; reconnecting after 1 brings them, then live ones, in order.
    srv.h.text(&a, &b, "missed 1").await;
    srv.h.text(&a, &b, "missed 2").await;
    let mut ws = WsClient::connect(&srv.base, &b.token, Some(1)).await;
    assert_eq!(ws.frame().await["position"], 1, "ready at the resume point");
    srv.h.text(&a, &b, "live").await;
    let got: Vec<(i64, String, u64)> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let f = ws.event().await;
            v.push((
                f["position"].as_i64().unwrap(),
                content(&f).to_owned(),
                f["unread_total"].as_u64().unwrap(),
            ));
        }
        v
    };
    assert_eq!(
        got,
        vec![
            (2, "missed 1".into(), 2),
            (3, "missed 2".into(), 3),
            (4, "live".into(), 4)
        ]
    );

    // A browser passes the token in the query; the sender's other devices get their sends.
    let mut a_ws = WsClient::connect_with_query_token(&srv.base, &a.token).await;
    assert_eq!(a_ws.frame().await["type"], "ready");
    srv.h.text(&a, &b, "from a").await;
    assert_eq!(content(&a_ws.event().await), "from a");
    assert_eq!(content(&ws.event().await), "from a");
}

async fn sse_streams_with_ids_and_resumes_from_last_event_id(h: Harness) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let (a, b) = (srv.h.person(&app, "a").await, srv.h.person(&app, "b").await);
    srv.h.text(&a, &b, "one").await;

    let mut sse = SseClient::connect(&srv.client, &srv.base, &b.token, None).await;
    let (id, ready) = sse.frame().await;
    assert_eq!(
        (id.as_deref(), ready["type"].as_str()),
        (Some("1"), Some("ready"))
    );
    srv.h.text(&a, &b, "two").await;
    let (id, f) = sse.frame().await;
    assert_eq!(id.as_deref(), Some("2"), "the SSE id is the position");
    assert_eq!((f["position"].as_i64(), content(&f)), (Some(2), "two"));
    drop(sse);

    srv.h.text(&a, &b, "three").await;
    // What EventSource sends on reconnect.
    let mut sse = SseClient::connect(&srv.client, &srv.base, &b.token, Some("1")).await;
    assert_eq!(sse.frame().await.1["position"], 1);
    for (want_id, want) in [("2", "two"), ("3", "three")] {
        let (id, f) = sse.frame().await;
        assert_eq!((id.as_deref(), content(&f)), (Some(want_id), want));
    }
}

async fn every_event_type_has_its_frame(h: Harness) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let (a, b, c) = (
        srv.h.person(&app, "a").await,
        srv.h.person(&app, "b").await,
        srv.h.person(&app, "c").await,
    );
    let core = &srv.h.core;
    let mut a_ws = WsClient::connect(&srv.base, &a.token, None).await;
    let mut b_ws = WsClient::connect(&srv.base, &b.token, None).await;
    a_ws.frame().await;
    b_ws.frame().await;

    // Direct message, read by b: a (the peer) and b (other devices) both hear of it.
    let sent = srv.h.text(&a, &b, "hi").await;
    assert_eq!(a_ws.event().await["type"], "message");
    assert_eq!(b_ws.event().await["unread_total"], 1);
    core.mark_read(&b.caller, sent.conversation.id, ReadTarget::All)
        .await
        .unwrap();
    for (ws, unread) in [(&mut a_ws, 0), (&mut b_ws, 0)] {
        let f = ws.event().await;
        assert_eq!(f["type"], "read", "{f}");
        assert_eq!(f["conversation_id"], sent.conversation.id.0);
        assert_eq!(f["reader_uuid"], b.member.uuid.to_string());
        assert_eq!(f["last_read_id"], sent.message.id.0);
        assert_eq!(f["message_id"], Value::Null);
        assert_eq!(f["unread_total"], unread);
    }

    // Recall: both see the recalled message.
    core.recall(&a.caller, sent.message.id).await.unwrap();
    for ws in [&mut a_ws, &mut b_ws] {
        let f = ws.event().await;
        assert_eq!(f["type"], "recalled");
        assert_eq!(f["message"]["recalled"], true);
        assert_eq!(f["message"]["data"], json!({}));
    }

    // Delete-for-me reaches only the member's own devices.
    let sent2 = srv.h.text(&a, &b, "hide me").await;
    a_ws.event().await;
    b_ws.event().await;
    core.hide(&b.caller, sent2.message.id).await.unwrap();
    let f = b_ws.event().await;
    assert_eq!(
        (f["type"].as_str(), f["message_id"].as_i64()),
        (Some("hidden"), Some(sent2.message.id.0))
    );
    assert_eq!(f["conversation_id"], sent2.conversation.id.0);

    // A group: membership, then a group message.
    let group = core
        .create_group(&a.caller, "team", vec![b.member.uuid.to_string()])
        .await
        .unwrap();
    let f = b_ws.event().await;
    assert_eq!(f["type"], "membership");
    assert_eq!(f["conversation_id"], group.conversation.id.0);
    let added: Vec<&str> = f["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(added.contains(&b.member.uuid.to_string().as_str()), "{f}");
    assert_eq!(f["removed"], json!([]));
    assert_eq!(a_ws.event().await["type"], "membership");
    core.add_members(
        &a.caller,
        group.conversation.id,
        vec![c.member.uuid.to_string()],
    )
    .await
    .unwrap();
    let f = b_ws.event().await;
    assert_eq!(f["added"], json!([c.member.uuid.to_string()]));
    a_ws.event().await;
    let req = text_to(
        Recipient::Conversation(group.conversation.id),
        "to the team",
    );
    core.send(&a.caller, req).await.unwrap();
    let f = b_ws.event().await;
    assert_eq!(
        (f["type"].as_str(), content(&f)),
        (Some("message"), "to the team")
    );
    // Positions stayed gapless through every type.
    assert_eq!(f["position"], 8);
}

async fn refusals_use_the_native_envelope(h: Harness) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let b = srv.h.person(&app, "b").await;
    let url = srv.url("/v1/events");

    let r = srv.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");

    let r = srv
        .client
        .get(format!("{url}?after=abc"))
        .bearer_auth(&b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");

    let refused = WsClient::try_connect(&srv.base, "not-a-token", None).await;
    let (status, body) = refused.err().unwrap();
    assert_eq!(status, 401);
    assert!(body.contains("unauthenticated"), "{body}");
}

async fn shutdown_tells_every_stream_to_reconnect(h: Harness) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let (a, b) = (srv.h.person(&app, "a").await, srv.h.person(&app, "b").await);
    let mut ws = WsClient::connect(&srv.base, &b.token, None).await;
    ws.frame().await;
    let mut sse = SseClient::connect(&srv.client, &srv.base, &a.token, None).await;
    sse.frame().await;
    srv.h.text(&a, &b, "before").await;
    ws.event().await;
    sse.frame().await;

    srv.shutdown.begin();
    let f = ws.frame().await;
    assert_eq!(
        f,
        json!({"type": "closing", "reason": "shutdown", "position": 1})
    );
    let closed = ws.next().await.unwrap_err();
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (Some(1012), "shutdown")
    );
    let (id, f) = sse.frame().await;
    assert_eq!(
        f,
        json!({"type": "closing", "reason": "shutdown", "position": 1})
    );
    assert_eq!(id.as_deref(), Some("1"));
    assert!(sse.next().await.is_none(), "the SSE body ends");
}

async fn heartbeats_keep_streams_alive_and_silent_clients_are_closed(h: Harness, time: PausedTime) {
    let srv = TestServer::start(h, quick_heartbeats()).await;
    let app = srv.h.app().await;
    let b = srv.h.person(&app, "b").await;

    // A client that answers pings (tungstenite does while it reads) stays open past the idle
    // timeout.
    let mut ws = WsClient::connect(&srv.base, &b.token, None).await;
    assert_eq!(ws.frame().await["heartbeat_ms"], 100);
    for _ in 0..5 {
        // The server has read the last pong before the heartbeat fires: a message arriving while
        // the server handles a heartbeat cancels that heartbeat's ping.
        ws.sync().await;
        time.advance_past(HEARTBEAT).await;
        assert!(ws.ping().await, "pings keep coming");
    }
    ws.send_text("anything").await;

    // SSE gets comments.
    let mut sse = SseClient::connect(&srv.client, &srv.base, &b.token, None).await;
    sse.frame().await;
    time.advance_past(HEARTBEAT).await;
    assert_eq!(sse.next().await, Some(Sse::Comment("ping".into())));

    // A client that reads nothing (so answers no ping) is closed as idle at the first heartbeat
    // after the idle timeout.
    let mut silent = WsClient::connect(&srv.base, &b.token, None).await;
    // After `ready` the server's heartbeat is running (from the upgrade, not from the handshake).
    assert_eq!(silent.frame().await["type"], "ready");
    time.advance_past(IDLE_TIMEOUT + HEARTBEAT).await;
    let mut frames = Vec::new();
    let closed = loop {
        match silent.next().await {
            Ok(f) => frames.push(f),
            Err(c) => break c,
        }
    };
    assert_eq!(frames.last().unwrap()["reason"], "idle", "{frames:?}");
    assert_eq!(closed.code, Some(1001));
}

/// If the news of a revocation is lost (here: the session is deleted behind the core's back, so
/// nothing is published), the next heartbeat's session check still ends the stream.
async fn a_session_ended_without_news_ends_its_streams_at_the_next_heartbeat(
    h: Harness,
    time: PausedTime,
) {
    let srv = TestServer::start(h, quick_heartbeats()).await;
    let app = srv.h.app().await;
    let b = srv.h.person(&app, "b").await;
    let mut ws = WsClient::connect(&srv.base, &b.token, None).await;
    ws.frame().await;
    let hash = sixin_core::auth::token_hash(&b.token);
    assert!(srv.h.store.delete_session(&hash).await.unwrap());
    // The next heartbeat re-checks the session.
    time.advance_past(HEARTBEAT).await;
    let f = ws.frame().await;
    assert_eq!(f["type"], "closing");
    assert_eq!(f["reason"], "session_ended");
    assert_eq!(ws.next().await.unwrap_err().code, Some(1008));
}

/// Logging out ends that session's WebSocket and SSE streams at once — the clock is paused and
/// never moved, so no heartbeat can be what ends them — while another session of the same member
/// keeps streaming; a ban then ends that one too.
async fn logout_ends_that_sessions_streams_at_once_and_spares_the_others(
    h: Harness,
    _time: PausedTime,
) {
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let (a, b) = (srv.h.person(&app, "a").await, srv.h.person(&app, "b").await);
    let other = srv
        .h
        .core
        .login(&app, "b", "pass-phrase-1", None)
        .await
        .unwrap()
        .token;
    let mut ws = WsClient::connect(&srv.base, &b.token, None).await;
    ws.frame().await;
    let mut sse = SseClient::connect(&srv.client, &srv.base, &b.token, None).await;
    sse.frame().await;
    let mut kept = WsClient::connect(&srv.base, &other, None).await;
    kept.frame().await;

    let r = srv
        .client
        .delete(srv.url("/v1/sessions/current"))
        .bearer_auth(&b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ended = json!({"type": "closing", "reason": "session_ended", "position": 0});
    assert_eq!(ws.frame().await, ended);
    assert_eq!(ws.next().await.unwrap_err().code, Some(1008));
    assert_eq!(sse.frame().await.1, ended);
    assert!(sse.next().await.is_none(), "the SSE body ends");

    srv.h.text(&a, &b, "still here").await;
    assert_eq!(content(&kept.event().await), "still here");
    let uuid = b.member.uuid.to_string();
    srv.h
        .core
        .set_banned(&app, &uuid, Some(sixin_core::store::Ban::default()))
        .await
        .unwrap();
    let f = kept.frame().await;
    assert_eq!(f["reason"], "session_ended", "{f}");
    assert_eq!(kept.next().await.unwrap_err().code, Some(1008));
}

sixin_tests::both_backends!(
    websocket_streams_live_events_and_resumes_after_a_position,
    sse_streams_with_ids_and_resumes_from_last_event_id,
    every_event_type_has_its_frame,
    refusals_use_the_native_envelope,
    shutdown_tells_every_stream_to_reconnect,
    #[paused]
    heartbeats_keep_streams_alive_and_silent_clients_are_closed,
    #[paused]
    a_session_ended_without_news_ends_its_streams_at_the_next_heartbeat,
    #[paused]
    logout_ends_that_sessions_streams_at_once_and_spares_the_others,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_member_cap_answers_429() {
    let cfg = CoreConfig {
        max_streams_per_member: 1,
        ..fast_config()
    };
    let h = Harness::with_config(TestDb::sqlite(), cfg).await;
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let app = srv.h.app().await;
    let b = srv.h.person(&app, "b").await;
    let mut first = WsClient::connect(&srv.base, &b.token, None).await;
    first.frame().await;
    let metrics = srv.client.get(srv.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("\nsixin_event_streams_open 1\n"),
        "{metrics}"
    );
    let (status, body) = WsClient::try_connect(&srv.base, &b.token, None)
        .await
        .err()
        .unwrap();
    assert_eq!(status, 429);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "too_many_streams");
    let r = srv
        .client
        .get(srv.url("/v1/events"))
        .bearer_auth(&b.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "SSE too");
    // Closing the first frees the place.
    first.close().await;
    let mut again = None;
    for _ in 0..50 {
        match WsClient::try_connect(&srv.base, &b.token, None).await {
            Ok(ws) => {
                again = Some(ws);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "a closed stream frees its place");
}
