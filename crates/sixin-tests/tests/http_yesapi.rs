//! The YesApi dialect over real HTTP (seeds/000): every documented field with its JSON type,
//! every err_code and ret code, the SDK's request signature and the `_auth` response tag,
//! paging direction, and isolation between members and apps. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use md5::{Digest, Md5};
use serde_json::Value;
use sixin_core::ids::MessageId;
use sixin_core::model::App;
use sixin_core::store::HistoryWindow;
use sixin_http::HttpConfig;
use sixin_tests::{Harness, Person, TestServer};

const CHAT: &str = "/api/App/Market_ChatMessage";

struct Resp {
    text: String,
    json: Value,
}

type Params = Vec<(&'static str, String)>;

async fn get(srv: &TestServer, path: &str, params: &Params) -> Resp {
    let r = srv
        .client
        .get(srv.url(path))
        .query(params)
        .send()
        .await
        .unwrap();
    read(r).await
}

async fn post(srv: &TestServer, path: &str, params: &Params) -> Resp {
    let r = srv
        .client
        .post(srv.url(path))
        .form(params)
        .send()
        .await
        .unwrap();
    read(r).await
}

async fn read(r: reqwest::Response) -> Resp {
    assert_eq!(r.status(), 200, "every YesApi answer is HTTP 200");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    Resp { text, json }
}

/// Common parameters of a logged-in member of `app`.
fn member(app: &App, p: &Person) -> Params {
    vec![
        ("app_key", app.key.to_string()),
        ("uuid", p.member.uuid.to_string()),
        ("token", p.token.clone()),
    ]
}

fn with(mut base: Params, more: &[(&'static str, &str)]) -> Params {
    base.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    base
}

/// The `data` text exactly as it appears in the body.
fn data_text(text: &str) -> &str {
    let start = text.find(r#""data":"#).expect("data") + 7;
    let end = text.rfind(r#","msg":"#).expect("msg");
    &text[start..end]
}

/// Checks `ret`, the envelope's members and types, and recomputes `_auth`.
fn envelope(r: &Resp, ret: i64, secret: &str) -> Value {
    let j = &r.json;
    assert_eq!(j["ret"].as_i64(), Some(ret), "{}", r.text);
    assert!(j["msg"].is_string(), "{}", r.text);
    assert!(j["data"].is_object(), "{}", r.text);
    let t = j["_t"].as_i64().expect("_t is an integer");
    assert!(t > 1_600_000_000, "_t is a Unix time");
    let expected = hex::encode(Md5::digest(format!("{}{t}{secret}", data_text(&r.text))));
    assert_eq!(j["_auth"].as_str(), Some(expected.as_str()), "{}", r.text);
    j["data"].clone()
}

/// A successful call: ret 200, err_code 0 (integer), err_msg "" (string).
fn ok(r: &Resp, secret: &str) -> Value {
    let d = envelope(r, 200, secret);
    assert_eq!(d["err_code"].as_i64(), Some(0), "{}", r.text);
    assert_eq!(d["err_msg"].as_str(), Some(""), "{}", r.text);
    d
}

/// An error without a known app: `{ret, data: {}, msg}` and no `_t`/`_auth`.
fn unsigned_error(r: &Resp, ret: i64) {
    assert_eq!(r.json["ret"].as_i64(), Some(ret), "{}", r.text);
    assert_eq!(r.json["data"], serde_json::json!({}));
    assert!(r.json["msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        r.json.get("_auth").is_none() && r.json.get("_t").is_none(),
        "{}",
        r.text
    );
}

/// YesApi's client SDK signature: MD5 of the parameter values ordered by name, then the secret,
/// upper-case (written here independently of the server's code).
fn sdk_sign(params: &Params, secret: &str) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().filter(|(k, _)| *k != "sign").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text: String = sorted.iter().map(|(_, v)| v.as_str()).collect();
    text.push_str(secret);
    hex::encode_upper(Md5::digest(text.as_bytes()))
}

fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// Register and RegisterExt, and their refusals (a taken username, `ext_info` that is not a JSON
/// object): alice and bob are registered. Returns alice's uuid.
async fn registration_and_its_refusals(srv: &TestServer, base: &Params, secret: &str) -> String {
    let r = post(
        srv,
        "/api/App/User/Register",
        &with(
            base.clone(),
            &[("username", "alice"), ("password", "secret-1")],
        ),
    )
    .await;
    let d = ok(&r, secret);
    let alice_uuid = d["uuid"].as_str().unwrap().to_owned();
    assert_eq!(alice_uuid.len(), 32);
    let again = get(
        srv,
        "/",
        &with(
            base.clone(),
            &[
                ("s", "App.User.Register"),
                ("username", "alice"),
                ("password", "other-22"),
            ],
        ),
    )
    .await;
    let d = envelope(&again, 200, secret);
    assert_eq!(
        d["err_code"].as_i64(),
        Some(1),
        "taken username: {}",
        again.text
    );

    let ext = r#"{"nickname":"Bob","age":"18","yesapi_avatar":""}"#;
    let r = get(
        srv,
        "/",
        &with(
            base.clone(),
            &[
                ("service", "App.User.RegisterExt"),
                ("username", "bob"),
                ("password", "secret-2"),
                ("ext_info", ext),
            ],
        ),
    )
    .await;
    ok(&r, secret);
    let bad = post(
        srv,
        "/api/App/User/RegisterExt",
        &with(
            base.clone(),
            &[
                ("username", "carol"),
                ("password", "secret-3"),
                ("ext_info", "[1,2]"),
            ],
        ),
    )
    .await;
    envelope(&bad, 400, secret);
    let bad = post(
        srv,
        "/api/App/User/RegisterExt",
        &with(
            base.clone(),
            &[
                ("username", "carol"),
                ("password", "secret-3"),
                ("ext_info", "{nope"),
            ],
        ),
    )
    .await;
    envelope(&bad, 400, secret);
    alice_uuid
}

/// Login and LoginExt as bob, and their refusals (a wrong password, a missing one).
async fn login_and_its_refusals(srv: &TestServer, base: &Params, secret: &str) {
    for (path, extra) in [
        ("/api/App/User/Login", None),
        ("/", Some("App.User.LoginExt")),
    ] {
        let mut p = with(
            base.clone(),
            &[("username", "bob"), ("password", "secret-2")],
        );
        if let Some(s) = extra {
            p.push(("s", s.to_owned()));
        }
        let d = ok(&post(srv, path, &p).await, secret);
        assert_eq!(d["uuid"].as_str().unwrap().len(), 32);
        assert!(d["token"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let wrong = post(
        srv,
        "/api/App/User/Login",
        &with(
            base.clone(),
            &[("username", "bob"), ("password", "nope-nope")],
        ),
    )
    .await;
    let d = envelope(&wrong, 200, secret);
    assert_eq!(d["err_code"].as_i64(), Some(1));
    assert!(d["err_msg"].as_str().is_some_and(|m| !m.is_empty()));
    let missing = post(
        srv,
        "/api/App/User/Login",
        &with(base.clone(), &[("username", "bob")]),
    )
    .await;
    envelope(&missing, 400, secret);
}

async fn user_endpoints_register_login_profile_logout(h: Harness) {
    let app = h.app().await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let key = app.key.to_string();
    let base: Params = vec![("app_key", key.clone())];

    let alice_uuid = registration_and_its_refusals(&srv, &base, &secret).await;
    login_and_its_refusals(&srv, &base, &secret).await;

    let d = ok(
        &post(
            &srv,
            "/api/App/User/Login",
            &with(
                base.clone(),
                &[("username", "bob"), ("password", "secret-2")],
            ),
        )
        .await,
        &secret,
    );
    let (uuid, token) = (
        d["uuid"].as_str().unwrap().to_owned(),
        d["token"].as_str().unwrap().to_owned(),
    );
    let session: Params = vec![
        ("app_key", key.clone()),
        ("uuid", uuid.clone()),
        ("token", token.clone()),
    ];
    let d = ok(&get(&srv, "/api/App/User/Profile", &session).await, &secret);
    let info = &d["info"];
    assert_eq!(info["uuid"].as_str(), Some(uuid.as_str()));
    assert_eq!(info["username"].as_str(), Some("bob"));
    assert_eq!(info["ext_info"]["nickname"].as_str(), Some("Bob"));
    assert!(is_datetime(info["reg_time"].as_str().unwrap()));

    ok(
        &post(
            &srv,
            "/",
            &with(session.clone(), &[("s", "App.User.Logout")]),
        )
        .await,
        &secret,
    );
    let after = get(&srv, "/api/App/User/Profile", &session).await;
    envelope(&after, 406, &secret);
    assert_ne!(uuid, alice_uuid);
}

async fn send_golden_fields_and_err_codes(h: Harness) {
    let app = h.app().await;
    let other_app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let stranger = h.person(&other_app, "stranger").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let me = member(&app, &a);
    let b_uuid = b.member.uuid.to_string();

    // POST form to the new path, a JSON object.
    let p = with(
        me.clone(),
        &[
            ("other_uuid", &b_uuid),
            ("chat_message_type", "text"),
            ("chat_message_data", r#"{"content":"I ❤ ⚽"}"#),
        ],
    );
    let d = ok(&post(&srv, &format!("{CHAT}/Send"), &p).await, &secret);
    let first = d["chat_message_id"]
        .as_i64()
        .expect("chat_message_id is an integer");
    assert!(first > 0);
    // GET on the old path; type defaults to text; a plain string is the content.
    let p = with(
        me.clone(),
        &[
            ("s", "App.Market_ChatMessage.Send"),
            ("other_uuid", &b_uuid),
            ("chat_message_data", "hello word"),
        ],
    );
    let d = ok(&get(&srv, "/", &p).await, &secret);
    let second = d["chat_message_id"].as_i64().unwrap();
    assert!(second > first);
    let page = srv
        .h
        .core
        .history_with(&a.caller, &b_uuid, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        page.items[1].message.data,
        serde_json::json!({"content": "hello word"})
    );
    assert_eq!(page.items[1].message.id, MessageId(second));

    // err_code 1: to yourself; err_code 2: unknown here (well-formed, or a member of another app).
    let cases = [
        (a.member.uuid.to_string(), 1),
        ("0123456789ABCDEF0123456789ABCDEF".to_owned(), 2),
        (stranger.member.uuid.to_string(), 2),
    ];
    for (to, code) in cases {
        let p = with(
            me.clone(),
            &[("other_uuid", &to), ("chat_message_data", "x")],
        );
        let r = post(&srv, &format!("{CHAT}/Send"), &p).await;
        let d = envelope(&r, 200, &secret);
        assert_eq!(d["err_code"].as_i64(), Some(code), "{}", r.text);
        assert!(d["err_msg"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(d["chat_message_id"].as_i64(), Some(0));
    }

    // ret 400: bad parameters and invalid data; nothing is written.
    let bad: [&[(&'static str, &str)]; 6] = [
        &[("other_uuid", "SHORT"), ("chat_message_data", "x")],
        &[("chat_message_data", "x")],
        &[("other_uuid", &b_uuid)],
        &[
            ("other_uuid", &b_uuid),
            ("chat_message_type", "video"),
            ("chat_message_data", "x"),
        ],
        &[
            ("other_uuid", &b_uuid),
            ("chat_message_type", "image"),
            ("chat_message_data", "not json"),
        ],
        &[
            ("other_uuid", &b_uuid),
            ("chat_message_type", "link"),
            (
                "chat_message_data",
                r#"{"url":"javascript:alert(1)","title":"t"}"#,
            ),
        ],
    ];
    for extra in bad {
        let r = post(&srv, &format!("{CHAT}/Send"), &with(me.clone(), extra)).await;
        envelope(&r, 400, &secret);
    }
    let page = srv
        .h
        .core
        .history_with(&a.caller, &b_uuid, HistoryWindow::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2, "bad input changes nothing");
}

async fn multi_send_reports_each_recipient(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let c = h.person(&app, "carol").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let me = member(&app, &a);
    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    let to = format!(
        "{},{}, {},{unknown}",
        b.member.uuid, a.member.uuid, c.member.uuid
    );
    let p = with(
        me.clone(),
        &[
            ("other_uuid", &to),
            ("chat_message_type", "text"),
            ("chat_message_data", r#"{"content":"hi all"}"#),
        ],
    );
    let d = ok(&post(&srv, &format!("{CHAT}/MultiSend"), &p).await, &secret);
    let detail = d["detail"].as_array().expect("detail is an array");
    assert_eq!(detail.len(), 4);
    let expect = [
        (b.member.uuid.to_string(), 0),
        (a.member.uuid.to_string(), 1),
        (c.member.uuid.to_string(), 0),
        (unknown.to_owned(), 2),
    ];
    for (item, (uuid, code)) in detail.iter().zip(expect) {
        assert_eq!(item["other_uuid"].as_str(), Some(uuid.as_str()));
        assert_eq!(item["err_code"].as_i64(), Some(code), "{item}");
        assert!(item["err_msg"].is_string());
        let id = item["chat_message_id"].as_i64().expect("integer id");
        assert_eq!(id > 0, code == 0, "{item}");
    }
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 1);

    // Nobody reachable: err_code 2 (or 1 when every recipient is yourself).
    let p = with(
        me.clone(),
        &[("other_uuid", unknown), ("chat_message_data", "x")],
    );
    let d = envelope(
        &get(&srv, &format!("{CHAT}/MultiSend"), &p).await,
        200,
        &secret,
    );
    assert_eq!(d["err_code"].as_i64(), Some(2));
    let p = with(
        me.clone(),
        &[
            ("other_uuid", &a.member.uuid.to_string()),
            ("chat_message_data", "x"),
        ],
    );
    let d = envelope(
        &get(&srv, &format!("{CHAT}/MultiSend"), &p).await,
        200,
        &secret,
    );
    assert_eq!(d["err_code"].as_i64(), Some(1));

    // 1..200 recipients.
    let many = vec![b.member.uuid.to_string(); 201].join(",");
    let r = post(
        &srv,
        &format!("{CHAT}/MultiSend"),
        &with(
            me.clone(),
            &[("other_uuid", &many), ("chat_message_data", "x")],
        ),
    )
    .await;
    envelope(&r, 400, &secret);
    let r = post(
        &srv,
        &format!("{CHAT}/MultiSend"),
        &with(
            me.clone(),
            &[("other_uuid", ","), ("chat_message_data", "x")],
        ),
    )
    .await;
    envelope(&r, 400, &secret);
    assert_eq!(
        srv.h.core.unread_total(&b.caller).await.unwrap(),
        1,
        "bad input changes nothing"
    );
}

/// TakeMessageList's items for alice and bob's m0..m4 (alice sent the even ones): every field.
fn assert_alice_and_bob_items(d: &Value, b_uuid: &str) -> Vec<Value> {
    let items = d["list"].as_array().unwrap();
    for (i, m) in items.iter().enumerate() {
        assert_eq!(m["chat_message_to_uuid"].as_str(), Some(b_uuid));
        assert_eq!(m["chat_message_type"].as_str(), Some("text"));
        assert_eq!(
            m["chat_message_data"]["content"].as_str(),
            Some(format!("m{i}").as_str())
        );
        let io = if i % 2 == 0 { "in" } else { "out" };
        assert_eq!(
            m["chat_message_io"].as_str(),
            Some(io),
            "in = sent by the caller"
        );
        assert_eq!(
            m["chat_message_is_read"].as_i64(),
            Some(0),
            "nobody has read anything"
        );
        assert!(is_datetime(m["add_time"].as_str().unwrap()));
    }
    items.clone()
}

async fn take_message_list_pages_by_direction(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let sent = if i % 2 == 0 {
            h.text(&a, &b, &format!("m{i}")).await
        } else {
            h.text(&b, &a, &format!("m{i}")).await
        };
        ids.push(sent.message.id.0);
    }
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let b_uuid = b.member.uuid.to_string();
    let me = with(member(&app, &a), &[("other_uuid", &b_uuid)]);
    let list = |r: &Resp| -> Vec<i64> {
        ok(r, &secret)["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    let url = format!("{CHAT}/TakeMessageList");

    // Defaults: last_id 0 → the newest perpage (20) messages, ascending.
    let r = get(&srv, &url, &me).await;
    assert_eq!(list(&r), ids);
    let d = ok(&r, &secret);
    assert_eq!(
        d["unread_num"].as_i64(),
        Some(2),
        "alice has two unread from bob"
    );
    let items = assert_alice_and_bob_items(&d, &b_uuid);
    // The harness clock starts at 2023-11-14 22:13:20 UTC: Asia/Shanghai is 8 hours ahead.
    assert_eq!(items[0]["add_time"].as_str(), Some("2023-11-15 06:13:20"));

    let page = |extra: &[(&'static str, &str)]| with(me.clone(), extra);
    let (i1, i4) = (ids[1].to_string(), ids[4].to_string());
    let none: &[i64] = &[];
    type Case<'a> = (&'a [(&'static str, &'a str)], &'a [i64]);
    let cases: [Case<'_>; 5] = [
        (&[("perpage", "2")], &ids[3..5]),
        (
            &[("perpage", "2"), ("direction", "up"), ("last_id", "0")],
            &ids[3..5],
        ),
        (
            &[("perpage", "2"), ("direction", "down"), ("last_id", &i1)],
            &ids[2..4],
        ),
        (
            &[("perpage", "2"), ("direction", "up"), ("last_id", &i4)],
            &ids[2..4],
        ),
        (&[("direction", "down"), ("last_id", &i4)], none),
    ];
    for (params, expected) in cases {
        let got = list(&post(&srv, &url, &page(params)).await);
        assert_eq!(got, expected, "{params:?}");
    }

    // Reading a list marks nothing.
    assert_eq!(srv.h.core.unread_total(&a.caller).await.unwrap(), 2);

    for bad in [
        ("perpage", "0"),
        ("perpage", "101"),
        ("direction", "left"),
        ("last_id", "-1"),
        ("last_id", "abc"),
        ("other_uuid", "SHORT"),
    ] {
        let r = get(&srv, &url, &page(&[bad])).await;
        envelope(&r, 400, &secret);
    }
    let ok100 = get(&srv, &url, &page(&[("perpage", "100")])).await;
    assert_eq!(list(&ok100).len(), 5);

    // With yourself: err_code 1.
    let selfp = with(
        member(&app, &a),
        &[("other_uuid", &a.member.uuid.to_string())],
    );
    let d = envelope(&get(&srv, &url, &selfp).await, 200, &secret);
    assert_eq!(d["err_code"].as_i64(), Some(1));
    assert_eq!(d["list"], serde_json::json!([]));
}

async fn mark_as_readed_marks_one_or_all(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let m1 = h.text(&b, &a, "one").await.message.id.0;
    h.text(&b, &a, "two").await;
    h.text(&b, &a, "three").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let url = format!("{CHAT}/MarkAsReaded");
    let me = with(
        member(&app, &a),
        &[("other_uuid", &b.member.uuid.to_string())],
    );

    let d = ok(
        &post(
            &srv,
            &url,
            &with(me.clone(), &[("chat_message_id", &m1.to_string())]),
        )
        .await,
        &secret,
    );
    assert_eq!(d["readed_num"].as_i64(), Some(1));
    // Bob now sees his first message as read by Alice.
    let bob = with(
        member(&app, &b),
        &[("other_uuid", &a.member.uuid.to_string())],
    );
    let d = ok(
        &get(&srv, &format!("{CHAT}/TakeMessageList"), &bob).await,
        &secret,
    );
    let read: Vec<i64> = d["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["chat_message_is_read"].as_i64().unwrap())
        .collect();
    assert_eq!(read, [1, 0, 0]);

    let d = ok(&get(&srv, &url, &me).await, &secret);
    assert_eq!(d["readed_num"].as_i64(), Some(2));
    let d = ok(&get(&srv, &url, &me).await, &secret);
    assert_eq!(d["readed_num"].as_i64(), Some(0));
    envelope(
        &get(&srv, &url, &with(me.clone(), &[("chat_message_id", "-3")])).await,
        400,
        &secret,
    );
    assert_eq!(srv.h.core.unread_total(&a.caller).await.unwrap(), 0);
}

async fn chat_list_and_unread_num(h: Harness) {
    let app = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let c = h.person(&app, "carol").await;
    h.text(&a, &b, "to bob").await;
    h.text(&c, &a, "from carol").await;
    h.text(&c, &a, "from carol again").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let me = member(&app, &a);
    let url = format!("{CHAT}/GetAllChatList");

    let d = ok(&get(&srv, &url, &me).await, &secret);
    assert_eq!(d["total"].as_i64(), Some(2));
    let list = d["list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let first = &list[0];
    assert_eq!(
        first["chat_message_to_uuid"].as_str(),
        Some(c.member.uuid.as_str()),
        "most recent first"
    );
    assert_eq!(
        first["chat_message_data"]["content"].as_str(),
        Some("from carol again")
    );
    assert_eq!(first["chat_message_type"].as_str(), Some("text"));
    assert_eq!(first["chat_message_io"].as_str(), Some("out"));
    assert_eq!(first["chat_message_is_read"].as_i64(), Some(0));
    assert!(is_datetime(first["add_time"].as_str().unwrap()));
    assert_eq!(first["user"]["username"].as_str(), Some("carol"));
    assert!(first["user"]["ext_info"].is_object());
    let second = &list[1];
    assert_eq!(second["chat_message_io"].as_str(), Some("in"));
    assert_eq!(second["user"]["username"].as_str(), Some("bob"));

    let d = ok(
        &post(
            &srv,
            &url,
            &with(me.clone(), &[("page", "2"), ("perpage", "1")]),
        )
        .await,
        &secret,
    );
    assert_eq!(d["total"].as_i64(), Some(2));
    assert_eq!(d["list"][0]["user"]["username"].as_str(), Some("bob"));
    let d = ok(
        &post(
            &srv,
            &url,
            &with(me.clone(), &[("page", "3"), ("perpage", "1")]),
        )
        .await,
        &secret,
    );
    assert_eq!(d["list"], serde_json::json!([]));
    for bad in [
        ("page", "0"),
        ("page", "101"),
        ("perpage", "0"),
        ("perpage", "101"),
    ] {
        envelope(
            &get(&srv, &url, &with(me.clone(), &[bad])).await,
            400,
            &secret,
        );
    }

    let d = ok(
        &get(&srv, &format!("{CHAT}/GetAllUnreadNum"), &me).await,
        &secret,
    );
    assert_eq!(d["unread_num"].as_i64(), Some(2));
    let d = ok(
        &get(
            &srv,
            "/",
            &with(
                member(&app, &b),
                &[("s", "App.Market_ChatMessage.GetAllUnreadNum")],
            ),
        )
        .await,
        &secret,
    );
    assert_eq!(d["unread_num"].as_i64(), Some(1));
}

/// 404 for an unknown service, 400 without an app_key, 407 for an unknown or malformed one: all
/// unsigned, since no app is resolved yet.
async fn unresolved_requests_answer_unsigned(srv: &TestServer, app: &App, a: &Person) {
    let unread = format!("{CHAT}/GetAllUnreadNum");
    // 404: unknown service, by path or by name, or none at all (no app is resolved yet).
    unsigned_error(
        &get(srv, &format!("{CHAT}/Nope"), &member(app, a)).await,
        404,
    );
    unsigned_error(
        &get(
            srv,
            "/",
            &with(member(app, a), &[("s", "App.Market_ChatMessage.Nope")]),
        )
        .await,
        404,
    );
    unsigned_error(&post(srv, "/", &member(app, a)).await, 404);
    unsigned_error(&get(srv, "/api/Nope/Nope", &member(app, a)).await, 404);
    // 400: missing app_key; 407: unknown or malformed app_key.
    unsigned_error(&get(srv, &unread, &vec![]).await, 400);
    unsigned_error(
        &get(
            srv,
            &unread,
            &vec![("app_key", "0123456789ABCDEF0123456789ABCDEF".into())],
        )
        .await,
        407,
    );
    unsigned_error(
        &get(srv, &unread, &vec![("app_key", "short".into())]).await,
        407,
    );
}

async fn ret_codes_and_return_data(h: Harness) {
    let app = h.app().await;
    let other = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let banned = h.person(&app, "mallory").await;
    let stranger = h.person(&other, "stranger").await;
    h.core
        .set_banned(
            &app,
            banned.member.uuid.as_str(),
            Some(sixin_core::store::Ban::default()),
        )
        .await
        .unwrap();
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let unread = format!("{CHAT}/GetAllUnreadNum");

    unresolved_requests_answer_unsigned(&srv, &app, &a).await;
    // 408: not logged in; 406: a token that is not this member's session in this app.
    envelope(
        &get(&srv, &unread, &vec![("app_key", app.key.to_string())]).await,
        408,
        &secret,
    );
    envelope(
        &get(
            &srv,
            &unread,
            &vec![
                ("app_key", app.key.to_string()),
                ("uuid", a.member.uuid.to_string()),
            ],
        )
        .await,
        408,
        &secret,
    );
    let mut wrong = member(&app, &a);
    wrong[2].1 = "f".repeat(64);
    envelope(&get(&srv, &unread, &wrong).await, 406, &secret);
    let mut swapped = member(&app, &a);
    swapped[2].1 = b.token.clone();
    envelope(&get(&srv, &unread, &swapped).await, 406, &secret);
    let mut foreign = member(&app, &stranger);
    foreign[0].1 = app.key.to_string();
    envelope(&get(&srv, &unread, &foreign).await, 406, &secret);
    // 408: banned (the ban also revoked the session, which is a failed token check first).
    let r = get(&srv, &unread, &member(&app, &banned)).await;
    let ret = r.json["ret"].as_i64().unwrap();
    assert!(ret == 406 || ret == 408, "{}", r.text);
    let login = post(
        &srv,
        "/api/App/User/Login",
        &vec![
            ("app_key", app.key.to_string()),
            ("username", "mallory".into()),
            ("password", "pass-phrase-1".into()),
        ],
    )
    .await;
    envelope(&login, 408, &secret);

    // return_data=1: only the data object; errors keep the envelope.
    let r = get(
        &srv,
        &unread,
        &with(member(&app, &a), &[("return_data", "1")]),
    )
    .await;
    assert_eq!(
        r.json,
        serde_json::json!({"err_code": 0, "err_msg": "", "unread_num": 0}),
        "{}",
        r.text
    );
    let r = get(
        &srv,
        &unread,
        &vec![
            ("app_key", app.key.to_string()),
            ("return_data", "1".into()),
        ],
    )
    .await;
    envelope(&r, 408, &secret);
    let r = get(
        &srv,
        &unread,
        &with(member(&app, &a), &[("return_data", "0")]),
    )
    .await;
    ok(&r, &secret);

    // A body that is not form-encoded is ignored, not a plain-text rejection.
    let r = srv
        .client
        .post(srv.url(&unread))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    unsigned_error(&read(r).await, 400);
}

async fn signed_requests_are_verified_when_the_app_requires_it(h: Harness) {
    let app = h.core.create_app("signed", true).await.unwrap();
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;

    let mut p = with(
        member(&app, &a),
        &[
            ("s", "App.Market_ChatMessage.Send"),
            ("other_uuid", b.member.uuid.as_str()),
            ("chat_message_type", "text"),
            ("chat_message_data", r#"{"content":"签名 ok"}"#),
        ],
    );
    // No sign, then a wrong one: 406, still signed with _auth (the app is known).
    envelope(&post(&srv, "/", &p).await, 406, &secret);
    p.push(("sign", "0".repeat(32)));
    envelope(&post(&srv, "/", &p).await, 406, &secret);
    p.pop();
    let sign = sdk_sign(&p, &secret);
    p.push(("sign", sign));
    let d = ok(&post(&srv, "/", &p).await, &secret);
    assert!(d["chat_message_id"].as_i64().unwrap() > 0);
    // The same signed parameters by GET; any tampered value breaks the signature.
    ok(&get(&srv, "/", &p).await, &secret);
    let mut tampered = p.clone();
    tampered[5].1 = "text ".into();
    envelope(&get(&srv, "/", &tampered).await, 406, &secret);

    // The new-style path: the service is not a parameter, so it is not signed.
    let mut q = with(member(&app, &b), &[("return_data", "0")]);
    let sign = sdk_sign(&q, &secret);
    q.push(("sign", sign));
    let d = ok(
        &get(&srv, &format!("{CHAT}/GetAllUnreadNum"), &q).await,
        &secret,
    );
    assert_eq!(d["unread_num"].as_i64(), Some(2));
    // Member endpoints are signed too.
    let mut login = vec![
        ("app_key", app.key.to_string()),
        ("username", "bob".to_owned()),
        ("password", "pass-phrase-1".to_owned()),
    ];
    envelope(
        &post(&srv, "/api/App/User/Login", &login).await,
        406,
        &secret,
    );
    let sign = sdk_sign(&login, &secret);
    login.push(("sign", sign));
    ok(&post(&srv, "/api/App/User/Login", &login).await, &secret);
}

async fn members_cannot_read_other_members_or_apps_conversations(h: Harness) {
    let app = h.app().await;
    let other = h.app().await;
    let a = h.person(&app, "alice").await;
    let b = h.person(&app, "bob").await;
    let c = h.person(&app, "carol").await;
    let x = h.person(&other, "xavier").await;
    h.text(&a, &b, "private to bob").await;
    let secret = app.secret.0.clone();
    let other_secret = other.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let take = format!("{CHAT}/TakeMessageList");

    // Carol asking about Alice sees her own (empty) conversation with Alice, not Alice–Bob.
    let d = ok(
        &get(
            &srv,
            &take,
            &with(member(&app, &c), &[("other_uuid", a.member.uuid.as_str())]),
        )
        .await,
        &secret,
    );
    assert_eq!(d["list"], serde_json::json!([]));
    assert_eq!(d["unread_num"].as_i64(), Some(0));
    let d = ok(
        &get(&srv, &format!("{CHAT}/GetAllChatList"), &member(&app, &c)).await,
        &secret,
    );
    assert_eq!(
        (d["total"].as_i64(), d["list"].as_array().unwrap().len()),
        (Some(0), 0)
    );
    // Carol cannot pose as Alice with her own token.
    let mut pose = with(member(&app, &a), &[("other_uuid", b.member.uuid.as_str())]);
    pose[2].1 = c.token.clone();
    envelope(&get(&srv, &take, &pose).await, 406, &secret);
    // Marking Alice–Bob read is not Carol's to do: her own conversation with Bob is empty.
    let d = ok(
        &get(
            &srv,
            &format!("{CHAT}/MarkAsReaded"),
            &with(member(&app, &c), &[("other_uuid", a.member.uuid.as_str())]),
        )
        .await,
        &secret,
    );
    assert_eq!(d["readed_num"].as_i64(), Some(0));
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 1);

    // Another app: its members do not exist here, and its keys open nothing here.
    let r = get(
        &srv,
        &take,
        &with(
            member(&other, &x),
            &[("other_uuid", a.member.uuid.as_str())],
        ),
    )
    .await;
    envelope(&r, 400, &other_secret);
    let mut cross = with(
        member(&other, &x),
        &[("other_uuid", b.member.uuid.as_str())],
    );
    cross[0].1 = app.key.to_string();
    envelope(&get(&srv, &take, &cross).await, 406, &secret);
    let d = ok(
        &get(&srv, &format!("{CHAT}/GetAllChatList"), &member(&other, &x)).await,
        &other_secret,
    );
    assert_eq!(d["total"].as_i64(), Some(0));
}

/// A muted member's Send and MultiSend, and Register on a closed app: `ret` 407 with the
/// reason in `msg`, `data` `{}`, signed like every answer of a known app.
async fn muted_members_and_closed_registration_get_ret_407(h: Harness) {
    let app = h.app().await;
    let m = h.provisioned(&app, "ext-1", "mute").await;
    let b = h.person(&app, "bob").await;
    h.mute(&app, "ext-1").await;
    let backend = h.backend(&app).await;
    h.core
        .set_registration(&backend, sixin_core::model::Registration::Closed)
        .await
        .unwrap();
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let b_uuid = b.member.uuid.to_string();
    let content = r#"{"content":"hi"}"#;
    for service in ["Send", "MultiSend"] {
        let p = with(
            member(&app, &m),
            &[("other_uuid", &b_uuid), ("chat_message_data", content)],
        );
        let r = post(&srv, &format!("{CHAT}/{service}"), &p).await;
        let d = envelope(&r, 407, &secret);
        assert_eq!(d, serde_json::json!({}), "{}", r.text);
        assert!(
            r.json["msg"].as_str().unwrap().contains("muted"),
            "{}",
            r.text
        );
    }
    let unread = get(&srv, &format!("{CHAT}/GetAllUnreadNum"), &member(&app, &m)).await;
    ok(&unread, &secret);
    let base = vec![("app_key", app.key.to_string())];
    for service in ["Register", "RegisterExt"] {
        let p = with(
            base.clone(),
            &[("username", "walk-in"), ("password", "secret-1")],
        );
        let r = post(&srv, &format!("/api/App/User/{service}"), &p).await;
        envelope(&r, 407, &secret);
        assert!(
            r.json["msg"]
                .as_str()
                .unwrap()
                .contains("registration is closed"),
            "{}",
            r.text
        );
    }
}

/// A reply to the app's system sender (server API `"from": "system"`): `Send` is `ret` 407
/// with the reason in `msg`; in a `MultiSend` that recipient alone fails (`err_code` 2) and the
/// others get their message.
async fn replies_to_system_notices_get_ret_407(h: Harness) {
    use sixin_core::service::{AppMember, AppRecipients, AppSend, AppSender};
    let app = h.app().await;
    let a = h.person(&app, "ann").await;
    let b = h.person(&app, "bob").await;
    let backend = h.backend(&app).await;
    let notice = AppSend {
        from: AppSender::System,
        to: AppRecipients::One(AppMember::Uuid(a.member.uuid.to_string())),
        kind: sixin_core::model::MessageType::Text,
        data: serde_json::json!({"content": "welcome"}),
        ext_data: None,
        client_msg_id: None,
    };
    h.core.app_send(&backend, notice).await.unwrap();
    let system = h
        .core
        .system_member(&backend)
        .await
        .unwrap()
        .uuid
        .to_string();
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let p = with(
        member(&app, &a),
        &[("other_uuid", &system), ("chat_message_data", "thanks")],
    );
    let r = post(&srv, &format!("{CHAT}/Send"), &p).await;
    let d = envelope(&r, 407, &secret);
    assert_eq!(d, serde_json::json!({}), "{}", r.text);
    assert_eq!(
        r.json["msg"].as_str(),
        Some("this conversation carries notices from the app: replies are not accepted"),
        "{}",
        r.text
    );
    let both = format!("{system},{}", b.member.uuid);
    let p = with(
        member(&app, &a),
        &[("other_uuid", &both), ("chat_message_data", "hi")],
    );
    let d = ok(&post(&srv, &format!("{CHAT}/MultiSend"), &p).await, &secret);
    assert_eq!(d["detail"][0]["err_code"].as_i64(), Some(2), "{d}");
    assert_eq!(d["detail"][1]["err_code"].as_i64(), Some(0), "{d}");
    assert_eq!(srv.h.core.unread_total(&b.caller).await.unwrap(), 1);
}

sixin_tests::both_backends!(
    replies_to_system_notices_get_ret_407,
    muted_members_and_closed_registration_get_ret_407,
    user_endpoints_register_login_profile_logout,
    send_golden_fields_and_err_codes,
    multi_send_reports_each_recipient,
    take_message_list_pages_by_direction,
    mark_as_readed_marks_one_or_all,
    chat_list_and_unread_num,
    ret_codes_and_return_data,
    signed_requests_are_verified_when_the_app_requires_it,
    members_cannot_read_other_members_or_apps_conversations,
);
