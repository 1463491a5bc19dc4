//! The native `/v1` API over real HTTP: [`NativeApi`], a [`TestServer`] with an app, JSON calls
//! and logged-in members; [`post_created`], the one "POST JSON, expect 201" helper, also used by
//! the tests that run the binary.

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sixin_http::HttpConfig;

use crate::{Harness, TestServer};

/// A server over a harness, with one app.
pub struct NativeApi {
    pub srv: TestServer,
    pub app_key: String,
}

/// A logged-in member, as the API describes it.
pub struct Member {
    pub uuid: String,
    pub uid: i64,
    pub token: String,
}

/// An answer: status, headers, and the body as JSON (a JSON string if it is not JSON, `null` if
/// empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl NativeApi {
    /// Serves the router over `h` with the default configuration, and creates an app.
    pub async fn start(h: Harness) -> NativeApi {
        NativeApi::start_with(h, HttpConfig::default()).await
    }

    pub async fn start_with(h: Harness, cfg: HttpConfig) -> NativeApi {
        let srv = TestServer::start(h, cfg).await;
        let app = srv.h.app().await;
        NativeApi {
            srv,
            app_key: app.key.to_string(),
        }
    }

    /// The harness (core, store, clock).
    pub fn h(&self) -> &Harness {
        &self.srv.h
    }

    /// A request to `path_and_query` on this server, to finish and pass to [`NativeApi::send`].
    pub fn request(&self, method: Method, path_and_query: &str) -> RequestBuilder {
        self.srv
            .client
            .request(method, self.srv.url(path_and_query))
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, req: RequestBuilder) -> Reply {
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
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

    /// `method uri`, with a Bearer `token` and a JSON `body` if given.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut req = self.request(method, uri);
        if let Some(t) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    /// Registers `username` in the app and logs in.
    pub async fn member(&self, username: &str) -> Member {
        let body =
            json!({"app_key": self.app_key, "username": username, "password": "secret-pass-1"});
        let client = &self.srv.client;
        post_created(client, self.srv.url("/v1/members"), None, body.clone()).await;
        let s = post_created(client, self.srv.url("/v1/sessions"), None, body).await;
        Member {
            uuid: s["member"]["uuid"].as_str().expect("uuid").to_owned(),
            uid: s["member"]["uid"].as_i64().expect("uid"),
            token: s["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Sends a text from `from` to `to`; it must be created. Returns the message.
    pub async fn send_text(&self, from: &Member, to: &Member, text: &str) -> Value {
        let body = json!({"to": to.uuid, "type": "text", "data": {"content": text}});
        let url = self.srv.url("/v1/messages");
        post_created(&self.srv.client, url, Some(&from.token), body).await
    }
}

/// POSTs `body` as JSON (with a Bearer `token` if given), expects `201 Created`, and returns the
/// JSON answer.
/// Registers `username` (password `secret-pw`) in `app_key` and logs in: (uuid, token).
pub async fn register_and_log_in(
    client: &reqwest::Client,
    server: &crate::process::Server,
    app_key: &str,
    username: &str,
) -> (String, String) {
    let creds = json!({"app_key": app_key, "username": username, "password": "secret-pw"});
    let m = post_created(client, server.url("/v1/members"), None, creds.clone()).await;
    let s = post_created(client, server.url("/v1/sessions"), None, creds).await;
    (
        m["uuid"].as_str().unwrap().to_owned(),
        s["token"].as_str().unwrap().to_owned(),
    )
}

pub async fn post_created(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Value {
    let mut req = client.post(&url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status();
    let text = resp.text().await.expect("response body");
    assert_eq!(status, StatusCode::CREATED, "POST {url}: {text}");
    serde_json::from_str(&text).expect("JSON answer")
}

/// The answer is the native error envelope with this status and code, and a message.
pub fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{:?}",
        r.body
    );
}

/// The ids of a page's items, in order.
pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

/// A server over `h` and its app (with the secret, to sign server and member tokens).
pub async fn start_with_app(h: crate::Harness) -> (NativeApi, sixin_core::model::App) {
    let t = NativeApi::start(h).await;
    let app = t.h().core.app_by_key(&t.app_key).await.unwrap();
    (t, app)
}

/// A call as the app's backend: with a fresh server token of `app`.
pub async fn as_backend(
    t: &NativeApi,
    app: &sixin_core::model::App,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let token = t.h().server_token(app);
    t.call(method, uri, Some(&token), body).await
}

/// The body of `r`, after asserting its status.
pub fn ok(r: &Reply, status: StatusCode) -> &Value {
    assert_eq!(r.status, status, "{:?}", r.body);
    &r.body
}
