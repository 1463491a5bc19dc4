//! Shared helpers for the router tests: a [`TestApp`] over a real SQLite store in a temporary
//! directory and a [`ManualClock`], requests through `oneshot`, logged-in members.

#![allow(dead_code)] // each test binary uses a different subset of the helpers
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sixin_core::ids::Timestamp;
use sixin_core::testing::{fast_config, ManualClock};
use sixin_core::{Core, LocalBus};
use sixin_http::{router, HttpConfig};
use sixin_store::StoreConfig;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub core: Core,
    pub clock: Arc<ManualClock>,
    pub app_key: String,
    _dir: tempfile::TempDir,
}

/// A logged-in member.
pub struct Member {
    pub uuid: String,
    pub uid: i64,
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

pub async fn test_app() -> TestApp {
    test_app_with(HttpConfig::default()).await
}

pub async fn test_app_with(cfg: HttpConfig) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = sixin_store::open(&StoreConfig::new(url))
        .await
        .expect("sqlite store opens");
    let clock = Arc::new(ManualClock::at(Timestamp(1_700_000_000_000)));
    let core = Core::new(
        store,
        Arc::new(LocalBus::default()),
        clock.clone(),
        fast_config(),
    );
    let app = core.create_app("test", false).await.expect("app created");
    TestApp {
        router: router(core.clone(), cfg),
        core,
        clock,
        app_key: app.key.to_string(),
        _dir: dir,
    }
}

impl TestApp {
    pub async fn raw(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.raw(req.expect("valid request")).await
    }

    pub async fn member(&self, username: &str) -> Member {
        let body =
            json!({"app_key": self.app_key, "username": username, "password": "secret-pass-1"});
        let r = self
            .call("POST", "/v1/members", None, Some(body.clone()))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let r = self.call("POST", "/v1/sessions", None, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        Member {
            uuid: r.body["member"]["uuid"].as_str().expect("uuid").to_owned(),
            uid: r.body["member"]["uid"].as_i64().expect("uid"),
            token: r.body["token"].as_str().expect("token").to_owned(),
        }
    }

    pub async fn send_text(&self, from: &Member, to: &Member, text: &str) -> Value {
        let body = json!({"to": to.uuid, "type": "text", "data": {"content": text}});
        let r = self
            .call("POST", "/v1/messages", Some(&from.token), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body
    }
}

pub fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{:?}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}
