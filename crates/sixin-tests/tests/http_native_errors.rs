//! Native API failures come back in the JSON error envelope with the documented status. Runs on
//! SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sixin_http::HttpConfig;
use sixin_tests::native::{assert_error, NativeApi};
use sixin_tests::Harness;

async fn malformed_requests_answer_in_the_error_envelope(h: Harness) {
    let t = NativeApi::start(h).await;
    let alice = t.member("alice").await;
    let tok = Some(alice.token.as_str());

    let bad_json = t
        .request(Method::POST, "/v1/messages")
        .header(AUTHORIZATION, format!("Bearer {}", alice.token))
        .header(CONTENT_TYPE, "application/json")
        .body("{not json");
    assert_error(
        &t.send(bad_json).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let no_type = t.request(Method::POST, "/v1/sessions").body("{}");
    assert_error(
        &t.send(no_type).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let wrong_type = json!({"to": alice.uuid, "type": "video", "data": {}});
    let r = t.call("POST", "/v1/messages", tok, Some(wrong_type)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let both =
        json!({"to": alice.uuid, "conversation_id": 1, "type": "text", "data": {"content": "x"}});
    let r = t.call("POST", "/v1/messages", tok, Some(both)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let string_data = json!({"to": alice.uuid, "type": "text", "data": "hello"});
    let r = t.call("POST", "/v1/messages", tok, Some(string_data)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let to_self = json!({"to": alice.uuid, "type": "text", "data": {"content": "me"}});
    let r = t.call("POST", "/v1/messages", tok, Some(to_self)).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "self_send");

    let r = t.call("GET", "/v1/conversations/abc", tok, None).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = t
        .call("GET", "/v1/conversations?limit=abc", tok, None)
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = t.call("GET", "/v1/conversations?limit=0", tok, None).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = t
        .call("GET", "/v1/conversations?kind=channel", tok, None)
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");

    let r = t.call("GET", "/v1/no/such/route", tok, None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = t.call("PUT", "/v1/me", tok, None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    let unknown_app = json!({"app_key": "0".repeat(32), "username": "x", "password": "y"});
    let r = t
        .call("POST", "/v1/sessions", None, Some(unknown_app))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "unknown_app");
    let wrong_pw = json!({"app_key": t.app_key, "username": "alice", "password": "nope-nope-1"});
    let r = t.call("POST", "/v1/sessions", None, Some(wrong_pw)).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
    let taken = json!({"app_key": t.app_key, "username": "alice", "password": "secret-pass-1"});
    let r = t.call("POST", "/v1/members", None, Some(taken)).await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
}

async fn oversized_bodies_are_refused_in_the_envelope(h: Harness) {
    let cfg = HttpConfig {
        body_limit_bytes: 64,
        ..HttpConfig::default()
    };
    let t = NativeApi::start_with(h, cfg).await;
    let big = json!({"app_key": t.app_key, "username": "x".repeat(200), "password": "p"});
    let r = t.call("POST", "/v1/members", None, Some(big)).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

async fn missing_unknown_and_expired_tokens_are_unauthenticated(h: Harness) {
    let t = NativeApi::start(h).await;
    let alice = t.member("alice").await;
    let r = t.call("GET", "/v1/me", None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    let r = t
        .call("GET", "/v1/unread", Some("not-a-real-token"), None)
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    let basic = t
        .request(Method::GET, "/v1/me")
        .header(AUTHORIZATION, format!("Basic {}", alice.token));
    assert_error(
        &t.send(basic).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    assert_eq!(
        t.call("GET", "/v1/me", Some(&alice.token), None)
            .await
            .status,
        StatusCode::OK
    );
    t.h()
        .clock
        .advance(t.h().core.config().session_ttl + Duration::from_secs(1));
    let r = t.call("GET", "/v1/me", Some(&alice.token), None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
}

async fn someone_elses_conversation_is_not_found(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob, eve) = (
        t.member("alice").await,
        t.member("bob").await,
        t.member("eve").await,
    );
    let conv = t.send_text(&alice, &bob, "private").await["conversation_id"]
        .as_i64()
        .unwrap();
    let eve_tok = Some(eve.token.as_str());
    for uri in [
        format!("/v1/conversations/{conv}"),
        format!("/v1/conversations/{conv}/messages"),
    ] {
        let r = t.call("GET", &uri, eve_tok, None).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(r.body["error"]["message"], "no such conversation");
    }
    let r = t
        .call(
            "POST",
            &format!("/v1/conversations/{conv}/read"),
            eve_tok,
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let into = json!({"conversation_id": conv, "type": "text", "data": {"content": "let me in"}});
    let r = t.call("POST", "/v1/messages", eve_tok, Some(into)).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = t
        .call(
            "GET",
            &format!("/v1/members/{}", "A".repeat(32)),
            eve_tok,
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(r.body["error"]["message"], "no such member");
}

async fn malformed_cursors_are_invalid_requests(h: Harness) {
    let t = NativeApi::start(h).await;
    let (alice, bob) = (t.member("alice").await, t.member("bob").await);
    let conv = t.send_text(&alice, &bob, "x").await["conversation_id"]
        .as_i64()
        .unwrap();
    let tok = Some(alice.token.as_str());
    for uri in [
        "/v1/conversations?cursor=%21%21".to_owned(),
        "/v1/conversations?cursor=MTIz".to_owned(),
        format!("/v1/conversations/{conv}/messages?before=@@@"),
        format!("/v1/conversations/{conv}/messages?after=bm9wZQ"),
        format!("/v1/conversations/{conv}/messages?before=MQ&after=MQ"),
        format!("/v1/direct/{}/messages?after=xyz", bob.uuid),
    ] {
        let r = t.call("GET", &uri, tok, None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

sixin_tests::both_backends!(
    malformed_requests_answer_in_the_error_envelope,
    oversized_bodies_are_refused_in_the_envelope,
    missing_unknown_and_expired_tokens_are_unauthenticated,
    someone_elses_conversation_is_not_found,
    malformed_cursors_are_invalid_requests,
);
