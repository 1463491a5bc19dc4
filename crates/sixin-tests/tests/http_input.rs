//! Hostile input over real HTTP, on SQLite and PostgreSQL: the NUL character is refused in every
//! stored string in every dialect that writes (a clear invalid-parameter error, nothing
//! written), and an XSS vector corpus (`data/xss_vectors.txt`) sent as text, html, link and
//! image stays inert wherever a dialect hands it to something that renders HTML.
//!
//! "Inert", per field (README "Hostile input"):
//! - native and YesApi `data.content` of html messages: sanitised markup — no script-capable
//!   element, no event-handler attribute, no script or data URL, no character reference inside
//!   a tag ([`live_markup`]);
//! - image `url`/`thumb`, link `url`/`image`: http(s), with no quote, angle bracket, backtick,
//!   space or control character ([`safe_url`]);
//! - Discuz `message`, `subject`, `firstsummary`, `lastsummary`, `firstauthor`, `lastauthor`
//!   (JSON, and XML after XML-unescaping): escaped text — no `<`, `>`, `"` or `'`, and `&` only
//!   as `&amp;`, `&lt;`, `&gt;`, `&quot;` or `&#39;` ([`escaped_text`]);
//! - text content, link `title`/`desc`, `ext_data`: plain text, returned as sent; a client
//!   escapes it like any other text (not checked here beyond being unchanged).

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use quick_xml::events::Event;
use quick_xml::Reader;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sixin_tests::native::{assert_error, Member, NativeApi};
use sixin_tests::{both_backends, Harness};

const NUL_REASON: &str = "U+0000";
const PLUGIN: &str = "/plugin.php?id=xinxiu_network:pm";
const CHAT: &str = "/api/App/Market_ChatMessage";

both_backends!(
    nul_is_refused_in_every_native_field_and_changes_nothing,
    nul_is_refused_by_yesapi_and_phalapi_and_changes_nothing,
    xss_corpus_stays_inert_in_every_dialect,
    group_subjects_reach_discuz_escaped,
);

fn assert_nul_refused(r: &sixin_tests::native::Reply) {
    assert_error(r, StatusCode::BAD_REQUEST, "invalid_request");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains(NUL_REASON), "{msg}");
}

async fn nul_is_refused_in_every_native_field_and_changes_nothing(h: Harness) {
    let api = NativeApi::start(h).await;
    let (a, b) = (api.member("alice").await, api.member("bob").await);
    let key = api.app_key.clone();
    // Registration and login: the raw JSON text carries `\u0000` escapes, as a client sends them.
    let register = [
        r#"{"app_key":"KEY","username":"a\u0000b","password":"secret-pass-1"}"#,
        r#"{"app_key":"KEY","username":"carol","password":"secret\u0000pass"}"#,
        r#"{"app_key":"KEY","username":"carol","password":"secret-pass-1","ext_info":{"nick":"x\u0000"}}"#,
        r#"{"app_key":"KEY","username":"carol","password":"secret-pass-1","ext_info":{"a":[{"k\u0000":1}]}}"#,
    ];
    for raw in register {
        let req = api
            .request(reqwest::Method::POST, "/v1/members")
            .header("content-type", "application/json")
            .body(raw.replace("KEY", &key));
        assert_nul_refused(&api.send(req).await);
    }
    let login = json!({"app_key": key, "username": "alice\u{0}", "password": "secret-pass-1"});
    assert_nul_refused(&api.call("POST", "/v1/sessions", None, Some(login)).await);
    let carol = json!({"app_key": key, "username": "carol", "password": "secret-pass-1"});
    let r = api.call("POST", "/v1/sessions", None, Some(carol)).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");

    // Messages: any string inside data (keys too), ext_data, client_msg_id.
    let to = b.uuid.as_str();
    let sends = [
        json!({"to": to, "type": "text", "data": {"content": "hi\u{0}"}}),
        json!({"to": to, "type": "html", "data": {"content": "<b>\u{0}</b>"}}),
        json!({"to": to, "type": "link", "data": {"url": "https://x.y/", "title": "t\u{0}"}}),
        json!({"to": to, "type": "image", "data": {"url": "https://x.y/\u{0}.png"}}),
        json!({"to": to, "type": "custom", "data": {"deep": [{"k\u{0}": 1}]}}),
        json!({"to": to, "type": "text", "data": {"content": "hi"}, "ext_data": "e\u{0}"}),
        json!({"to": to, "type": "text", "data": {"content": "hi"}, "client_msg_id": "k\u{0}"}),
    ];
    for body in sends {
        let r = api
            .call("POST", "/v1/messages", Some(&a.token), Some(body))
            .await;
        assert_nul_refused(&r);
    }
    let multi = json!({"to": [to], "type": "text", "data": {"content": "\u{0}"}});
    let r = api
        .call("POST", "/v1/messages/multi", Some(&a.token), Some(multi))
        .await;
    assert_nul_refused(&r);
    let group = json!({"subject": "g\u{0}", "members": [to]});
    assert_nul_refused(
        &api.call("POST", "/v1/groups", Some(&a.token), Some(group))
            .await,
    );

    let list = api
        .call("GET", "/v1/conversations", Some(&a.token), None)
        .await;
    assert_eq!(list.body["items"], json!([]), "nothing was written");
    let direct = format!("/v1/direct/{to}/messages");
    let page = api.call("GET", &direct, Some(&a.token), None).await;
    assert_eq!(page.body["items"], json!([]));
}

async fn nul_is_refused_by_yesapi_and_phalapi_and_changes_nothing(h: Harness) {
    let api = NativeApi::start(h).await;
    let (a, b) = (api.member("alice").await, api.member("bob").await);
    let base = |m: &Member| -> Vec<(&'static str, String)> {
        vec![
            ("app_key", api.app_key.clone()),
            ("uuid", m.uuid.clone()),
            ("token", m.token.clone()),
        ]
    };
    let form = |path: &str, params: Vec<(&'static str, String)>| {
        api.request(reqwest::Method::POST, path).form(&params)
    };
    let app = || vec![("app_key", api.app_key.clone())];
    let mut cases: Vec<(&str, Vec<(&'static str, String)>)> = Vec::new();
    let mut reg = app();
    reg.extend([
        ("username", "x\u{0}y".into()),
        ("password", "secret-1".into()),
    ]);
    cases.push(("/api/App/User/Register", reg));
    let mut reg = app();
    reg.extend([
        ("username", "carol".into()),
        ("password", "secret-1".into()),
        ("ext_info", r#"{"nick":"\u0000"}"#.into()),
    ]);
    cases.push(("/api/App/User/RegisterExt", reg));
    let mut send = base(&a);
    send.extend([
        ("other_uuid", b.uuid.clone()),
        ("chat_message_data", r#"{"content":"a\u0000"}"#.into()),
    ]);
    cases.push(("/api/App/Market_ChatMessage/Send", send));
    let mut send = base(&a);
    send.extend([
        ("other_uuid", b.uuid.clone()),
        ("chat_message_data", "plain\u{0}".into()),
    ]);
    cases.push(("/api/App/Market_ChatMessage/Send", send));
    let mut phal = base(&a);
    phal.extend([
        ("s", "Platform.ChatMessage.Send".into()),
        ("chat_message_to_uuid", b.uuid.clone()),
        ("chat_message_data", "hello".into()),
        ("chat_message_type", "text".into()),
        ("ext_data", "order\u{0}".into()),
    ]);
    cases.push(("/api/platform", phal));
    for (path, params) in cases {
        let r = api.send(form(path, params)).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body["ret"], 400, "{path}: {}", r.body);
        let msg = r.body["msg"].as_str().unwrap();
        assert!(msg.contains(NUL_REASON), "{path}: {msg}");
    }
    let page = api
        .call(
            "GET",
            &format!("/v1/direct/{}/messages", b.uuid),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(page.body["items"], json!([]), "nothing was written");
    let carol = json!({"app_key": api.app_key, "username": "carol", "password": "secret-1"});
    let r = api.call("POST", "/v1/sessions", None, Some(carol)).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
}

/// The corpus, one vector a line.
fn corpus() -> Vec<String> {
    let text = include_str!("../data/xss_vectors.txt");
    let v: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect();
    assert!(v.len() >= 30, "the corpus has {} vectors", v.len());
    v
}

/// Sends `data` of `kind` from `from` to `to`; the message, or `None` when refused (400).
async fn try_send(
    api: &NativeApi,
    from: &Member,
    to: &Member,
    kind: &str,
    data: Value,
) -> Option<Value> {
    let body = json!({"to": to.uuid, "type": kind, "data": data});
    let r = api
        .call("POST", "/v1/messages", Some(&from.token), Some(body))
        .await;
    match r.status {
        StatusCode::CREATED => Some(r.body),
        StatusCode::BAD_REQUEST => None,
        s => panic!("{s}: {}", r.body),
    }
}

async fn xss_corpus_stays_inert_in_every_dialect(h: Harness) {
    let api = NativeApi::start(h).await;
    let alice = api.member("alice").await;
    let kinds = ["text", "html", "link", "image"];
    let mut peers = Vec::new();
    for kind in kinds {
        peers.push(api.member(&format!("peer-{kind}")).await);
    }
    let mut sent = 0;
    for v in corpus() {
        let datas = [
            json!({ "content": v }),
            json!({ "content": v }),
            json!({"url": format!("https://x.example/{v}"), "title": v, "desc": v,
                   "image": format!("https://x.example/i?{v}")}),
            json!({"url": format!("https://x.example/{v}"), "thumb": format!("http://x.example/#{v}")}),
        ];
        for ((kind, data), peer) in kinds.iter().zip(datas).zip(&peers) {
            if let Some(m) = try_send(&api, &alice, peer, kind, data).await {
                check_native_data(kind, &m["data"], &v);
                sent += 1;
            }
        }
        // A script URL as the URL itself is refused.
        for kind in ["link", "image"] {
            let data = json!({"url": v, "title": "t"});
            if let Some(m) = try_send(&api, &alice, &peers[2], kind, data).await {
                check_native_data(kind, &m["data"], &v);
            }
        }
    }
    assert!(
        sent >= 3 * corpus().len(),
        "most vectors are accepted: {sent}"
    );

    for (kind, peer) in kinds.iter().zip(&peers) {
        // Native history, as the peer reads it.
        let page = api
            .call(
                "GET",
                &format!("/v1/direct/{}/messages?limit=100", alice.uuid),
                Some(&peer.token),
                None,
            )
            .await;
        let items = page.body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{kind}");
        for m in items {
            check_native_data(m["type"].as_str().unwrap(), &m["data"], kind);
        }
        let plid = items[0]["conversation_id"].as_i64().unwrap();

        // YesApi: the same data objects.
        let params = [
            ("app_key", api.app_key.as_str()),
            ("uuid", peer.uuid.as_str()),
            ("token", peer.token.as_str()),
            ("other_uuid", alice.uuid.as_str()),
            ("perpage", "100"),
        ];
        let req = api
            .request(reqwest::Method::GET, &format!("{CHAT}/TakeMessageList"))
            .query(&params);
        let r = api.send(req).await;
        let list = r.body["data"]["list"].as_array().unwrap();
        assert_eq!(list.len(), items.len(), "{}", r.body);
        for m in list {
            check_native_data(
                m["chat_message_type"].as_str().unwrap(),
                &m["chat_message_data"],
                kind,
            );
        }

        // Discuz, JSON and XML.
        let q = format!(
            "{PLUGIN}&action=pm_get&token={}&plids={plid}&limit=100",
            peer.token
        );
        let r = api.send(api.request(reqwest::Method::GET, &q)).await;
        assert_eq!(r.body["code"], 200, "{}", r.body);
        check_discuz_json(&r.body["data"]);
        let req = api.request(reqwest::Method::GET, &format!("{q}&output=xml"));
        let xml = req.send().await.unwrap().text().await.unwrap();
        let fields = xml_text_fields(&xml);
        assert!(!fields.is_empty(), "{kind}");
        for (name, value) in fields {
            assert!(
                escaped_text(&value),
                "XML {name} of a {kind} message is live: {value}"
            );
        }
    }
}

async fn group_subjects_reach_discuz_escaped(h: Harness) {
    let api = NativeApi::start(h).await;
    let (a, b) = (api.member("alice").await, api.member("bob").await);
    for v in corpus().into_iter().filter(|v| v.chars().count() <= 100) {
        let body = json!({"subject": v, "members": [b.uuid]});
        let r = api
            .call("POST", "/v1/groups", Some(&a.token), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{v}: {}", r.body);
        let plid = r.body["id"].as_i64().unwrap();
        let send = json!({"conversation_id": plid, "type": "text", "data": {"content": v}});
        let r = api
            .call("POST", "/v1/messages", Some(&a.token), Some(send))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let q = format!("{PLUGIN}&action=pm_get&token={}&plids={plid}", b.token);
        let r = api.send(api.request(reqwest::Method::GET, &q)).await;
        check_discuz_json(&r.body["data"]);
        let subject = r.body["data"]["subject"].as_str().unwrap();
        assert!(!subject.is_empty(), "{v}");
    }
}

/// Checks the html-ish and URL fields of a native/YesApi message `data` object.
fn check_native_data(kind: &str, data: &Value, ctx: &str) {
    match kind {
        "html" => {
            let html = data["content"].as_str().unwrap();
            assert_eq!(live_markup(html), None, "{ctx}: {html}");
        }
        "link" | "image" => {
            for key in ["url", "thumb", "image"] {
                if let Some(u) = data.get(key).and_then(Value::as_str) {
                    assert!(safe_url(u), "{ctx}: {key} = {u}");
                }
            }
        }
        _ => {}
    }
}

/// Checks every field Discuz clients show as HTML.
fn check_discuz_json(data: &Value) {
    let mut fields = vec![data["subject"].clone()];
    for (k, m) in data["min_max"].as_object().unwrap() {
        if k != "count" {
            fields.push(m["message"].clone());
        }
    }
    for k in ["firstsummary", "lastsummary", "firstauthor", "lastauthor"] {
        fields.push(data["lastmessage"][k].clone());
    }
    for f in fields {
        let s = f.as_str().unwrap();
        assert!(escaped_text(s), "a Discuz field is live: {s}");
    }
}

/// `(element name, text)` of the Discuz fields shown as HTML in an XML answer.
fn xml_text_fields(xml: &str) -> Vec<(String, String)> {
    const SHOWN: [&str; 6] = [
        "message",
        "subject",
        "firstsummary",
        "lastsummary",
        "firstauthor",
        "lastauthor",
    ];
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                current = SHOWN.contains(&name.as_str()).then_some(name);
            }
            Event::Text(t) => {
                if let Some(name) = &current {
                    out.push((name.clone(), t.unescape().unwrap().into_owned()));
                }
            }
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Text that renders as itself in HTML: no markup characters, only the five escapes.
fn escaped_text(s: &str) -> bool {
    if s.contains(['<', '>', '"', '\'']) {
        return false;
    }
    s.match_indices('&').all(|(i, _)| {
        ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            .iter()
            .any(|e| s[i..].starts_with(e))
    })
}

/// An http(s) URL safe inside any HTML attribute.
fn safe_url(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && !u.contains([' ', '"', '\'', '<', '>', '`'])
        && !u.chars().any(char::is_control)
}

/// Why `html` is not inert markup, if it is not (written independently of the sanitiser).
fn live_markup(html: &str) -> Option<String> {
    const ELEMENTS: [&str; 13] = [
        "script", "iframe", "object", "embed", "svg", "math", "style", "base", "form", "meta",
        "link", "input", "body",
    ];
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag_start = rest.trim_start_matches('/');
        if !tag_start.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Some(format!("a raw `<` that is not a tag: {rest}"));
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag_start
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if ELEMENTS.contains(&name.as_str()) {
            return Some(format!("element <{name}>"));
        }
        let bytes = tag.as_bytes();
        for (j, _) in tag.match_indices("on") {
            let before = if j == 0 { b' ' } else { bytes[j - 1] };
            let after: String = tag[j + 2..]
                .chars()
                .skip_while(char::is_ascii_alphabetic)
                .collect();
            if matches!(before, b' ' | b'/' | b'"' | b'\'' | b'\t' | b'\n')
                && tag[j + 2..].starts_with(|c: char| c.is_ascii_alphabetic())
                && after.trim_start().starts_with('=')
            {
                return Some(format!("an event handler in <{tag}>"));
            }
        }
        let compact: String = tag.chars().filter(|c| !c.is_whitespace()).collect();
        for bad in ["javascript:", "vbscript:", "data:", "&#", "expression("] {
            if compact.contains(bad) {
                return Some(format!("`{bad}` in <{tag}>"));
            }
        }
        rest = &rest[end..];
    }
    None
}
