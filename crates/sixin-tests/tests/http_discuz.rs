//! The Discuz! pm dialect (`/plugin.php?id=xinxiu_network:pm&action=pm_get`) over real HTTP,
//! checked field by field against shared/seeds/003 on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use sixin_core::ids::ConversationId;
use sixin_core::model::{MessageType, Sent};
use sixin_core::service::{Recipient, SendMessage};
use sixin_core::store::ReadTarget;
use sixin_core::Clock;
use sixin_tests::{Harness, Person, TestServer};

const PLUGIN: &str = "/plugin.php?id=xinxiu_network:pm";

async fn start(h: Harness) -> TestServer {
    TestServer::start(h, sixin_http::HttpConfig::default()).await
}

/// `GET /plugin.php?id=xinxiu_network:pm&{query}`: checks HTTP 200 and an ASCII-only JSON body.
async fn call(srv: &TestServer, query: &str) -> (String, Value) {
    let resp = srv
        .client
        .get(srv.url(&format!("{PLUGIN}&{query}")))
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.status(),
        200,
        "Discuz answers HTTP 200 whatever the code"
    );
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    let raw = resp.text().await.expect("body");
    assert!(
        raw.is_ascii(),
        "non-ASCII must be escaped as \\uXXXX: {raw}"
    );
    let v: Value = serde_json::from_str(&raw).expect("JSON body");
    (raw, v)
}

/// `action=pm_get` for `who` on `plid` with extra parameters; checks code 200.
async fn pm_get(srv: &TestServer, who: &Person, plid: ConversationId, extra: &str) -> Value {
    let q = format!("action=pm_get&token={}&plids={}{extra}", who.token, plid.0);
    let (raw, v) = call(srv, &q).await;
    assert_eq!(v["code"], 200, "{raw}");
    check_envelope(&v);
    v
}

/// The envelope every answer has: `code`/`count` numbers, `result`/`sqltime` strings, `count`
/// the number of keys of `data`.
fn check_envelope(v: &Value) {
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["code", "result", "count", "data", "sqltime"])
    );
    assert!(v["code"].is_u64() && v["count"].is_u64(), "{v}");
    assert!(v["result"].is_string());
    let data = v["data"].as_object().expect("data is an object");
    assert_eq!(v["count"].as_u64().unwrap(), data.len() as u64);
    let sqltime = v["sqltime"].as_str().unwrap();
    let digits = sqltime.strip_suffix('s').expect("sqltime ends with s");
    let (whole, frac) = digits.split_once('.').expect("sqltime has a fraction");
    assert!(
        whole.bytes().all(|b| b.is_ascii_digit()) && frac.len() == 5,
        "{sqltime}"
    );
}

/// Every number inside `data` is a JSON string, except `min_max.count`.
fn numbers_are_strings(v: &Value, path: &str) {
    match v {
        Value::Number(_) => assert_eq!(path, "data.min_max.count", "a JSON number at {path}"),
        Value::Array(items) => items
            .iter()
            .for_each(|i| numbers_are_strings(i, &format!("{path}[]"))),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, i)| numbers_are_strings(i, &format!("{path}.{k}"))),
        Value::String(_) => {}
        other => panic!("unexpected {other} at {path}"),
    }
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn secs(t: sixin_core::ids::Timestamp) -> String {
    t.unix_seconds().to_string()
}

/// Sends a text into a conversation one second after the previous event.
async fn say(h: &Harness, from: &Person, plid: ConversationId, content: &str) -> Sent {
    h.clock.advance(Duration::from_secs(1));
    let req = sixin_tests::text_to(Recipient::Conversation(plid), content);
    h.core.send(&from.caller, req).await.expect("send")
}

/// A group "subject" owned by `owner` with `others`.
async fn group(h: &Harness, owner: &Person, subject: &str, others: &[&Person]) -> ConversationId {
    let uuids = others.iter().map(|p| p.member.uuid.to_string()).collect();
    let change = h
        .core
        .create_group(&owner.caller, subject, uuids)
        .await
        .expect("create group");
    change.conversation.id
}

/// The pmids of `min_max`, in key order "0".."n-1", after checking its keys and `count`.
fn pmids(v: &Value) -> Vec<i64> {
    let mm = &v["data"]["min_max"];
    let n = mm["count"].as_u64().expect("min_max.count is a number") as usize;
    let mut expected: BTreeSet<String> = (0..n).map(|i| i.to_string()).collect();
    expected.insert("count".into());
    let got: BTreeSet<String> = mm.as_object().unwrap().keys().cloned().collect();
    assert_eq!(got, expected);
    (0..n)
        .map(|i| mm[i.to_string()]["pmid"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The raw JSON of the seed's group `pm_get` example keeps the seed's key order and escapes.
fn assert_seed_key_order(raw: &str) {
    let order = [
        r#"{"code":200,"result":"OK","count":8,"data":{"plid":"#,
        r#","authorid":"#,
        r#","pmtype":"#,
        r#","subject":"#,
        r#","members":[{"plid":"#,
        r#","min_max":{"0":{"pmid":"#,
        r#","count":4},"dateline":"#,
        r#","lastmessage":{"firstauthorid":"#,
        r#"},"sqltime":"#,
    ];
    let at: Vec<usize> = order.iter().map(|k| raw.find(k).expect(k)).collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "keys in the seed's order: {raw}"
    );
    assert!(raw.contains(r"\u6211\u91cd\u65b0\u53d1\u4e00\u4e2a\u7fa4\u804a\uff0c"));
}

/// `min_max`: the group's messages, newest first, every field.
fn assert_min_max(d: &Value, plid: ConversationId, sent: &[&Sent]) {
    assert_eq!(d["min_max"]["count"], 4);
    for (i, s) in sent.iter().enumerate() {
        let item = &d["min_max"][i.to_string()];
        assert_eq!(
            keys(item),
            BTreeSet::from([
                "pmid",
                "plid",
                "authorid",
                "message",
                "delstatus",
                "dateline"
            ])
        );
        assert_eq!(item["plid"], plid.0.to_string());
        assert_eq!(item["authorid"], s.message.sender.0.to_string());
        assert_eq!(item["message"], s.message.data["content"]);
        assert_eq!(item["delstatus"], "0");
        assert_eq!(item["dateline"], secs(s.message.created_at));
    }
}

/// `lastmessage`: first and last author and summary (both by admin).
fn assert_admin_lastmessage(d: &Value, admin: &Person) {
    let lm = &d["lastmessage"];
    assert_eq!(
        keys(lm),
        BTreeSet::from([
            "firstauthorid",
            "firstauthor",
            "firstsummary",
            "lastauthorid",
            "lastauthor",
            "lastsummary"
        ])
    );
    assert_eq!(lm["firstauthorid"], admin.member.id.0.to_string());
    assert_eq!(lm["firstauthor"], "admin");
    assert_eq!(lm["firstsummary"], "这里是群聊信息，包括uid3和uid6");
    assert_eq!(lm["lastauthorid"], admin.member.id.0.to_string());
    assert_eq!(lm["lastauthor"], "admin");
    assert_eq!(lm["lastsummary"], "回复内容130");
}

async fn group_conversation_matches_the_documented_shape_and_types(h: Harness) {
    let app = h.app().await;
    let (admin, demo, demo1) = (
        h.person(&app, "admin").await,
        h.person(&app, "demo").await,
        h.person(&app, "demo1").await,
    );
    let subject = "我重新发一个群聊，里面有demo和demo1两个用户";
    let plid = group(&h, &admin, subject, &[&demo, &demo1]).await;
    let m1 = say(&h, &admin, plid, "这里是群聊信息，包括uid3和uid6").await;
    let m2 = say(&h, &demo1, plid, "我是demo1，我来发一个群聊看看").await;
    let m3 = say(&h, &demo, plid, "回复内容130").await;
    let m4 = say(&h, &admin, plid, "回复内容130").await;
    let srv = start(h).await;

    let (raw, v) = call(
        &srv,
        &format!(
            "token={}&action=pm_get&plids={}&start=0&limit=5",
            admin.token, plid.0
        ),
    )
    .await;
    check_envelope(&v);
    assert_eq!(v["code"], 200);
    assert_eq!(v["result"], "OK");
    assert_eq!(v["count"], 8, "eight keys in data, as in the seed example");
    numbers_are_strings(&v["data"], "data");
    assert!(raw.contains(r#""\u56de\u590d\u5185\u5bb9130""#), "{raw}");
    assert_seed_key_order(&raw);

    let d = &v["data"];
    assert_eq!(
        keys(d),
        BTreeSet::from([
            "plid",
            "authorid",
            "pmtype",
            "subject",
            "members",
            "min_max",
            "dateline",
            "lastmessage"
        ])
    );
    let detail = srv.h.core.conversation(&admin.caller, plid).await.unwrap();
    let c = &detail.conversation;
    assert_eq!(d["plid"], plid.0.to_string());
    assert_eq!(d["authorid"], admin.member.id.0.to_string());
    assert_eq!(d["pmtype"], "2");
    assert_eq!(d["subject"], subject);
    assert_eq!(d["dateline"], secs(c.created_at));

    let members = d["members"].as_array().unwrap();
    let mut uids: Vec<String> = members
        .iter()
        .map(|m| m["uid"].as_str().unwrap().into())
        .collect();
    let mut want: Vec<i64> = [&admin, &demo, &demo1]
        .iter()
        .map(|p| p.member.id.0)
        .collect();
    want.sort();
    assert_eq!(uids, want.iter().map(|i| i.to_string()).collect::<Vec<_>>());
    uids.dedup();
    assert_eq!(uids.len(), 3);
    for m in members {
        assert_eq!(
            keys(m),
            BTreeSet::from([
                "plid",
                "uid",
                "isnew",
                "pmnum",
                "lastupdate",
                "lastdateline"
            ])
        );
        assert_eq!(m["plid"], plid.0.to_string());
        assert_eq!(m["pmnum"], "4");
        assert_eq!(m["lastdateline"], secs(m4.message.created_at));
        let p = detail
            .participants
            .iter()
            .find(|p| m["uid"] == p.profile.id.0.to_string().as_str())
            .unwrap();
        assert_eq!(m["lastupdate"], secs(p.read_updated_at));
        let isnew = if p.unread > 0 { "1" } else { "0" };
        assert_eq!(m["isnew"], isnew);
    }

    let sent = [&m4, &m3, &m2, &m1];
    assert_eq!(
        pmids(&v),
        sent.iter().map(|s| s.message.id.0).collect::<Vec<_>>(),
        "DESC by default: \"0\" is the newest, as in the seed example"
    );
    assert_min_max(d, plid, &sent);
    assert_admin_lastmessage(d, &admin);
}

async fn direct_conversation_is_pmtype_1_with_its_first_message_as_subject(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let long = format!("你好 {}", "x".repeat(120));
    let first = h.text(&a, &b, &long).await;
    let plid = first.conversation.id;
    h.clock.advance(Duration::from_secs(5));
    let html = SendMessage {
        to: Recipient::Member(a.member.uuid.to_string()),
        kind: MessageType::Html,
        data: serde_json::json!({"content": "<p>收到 &amp; <b>好的</b></p>"}),
        ext_data: None,
        client_msg_id: None,
    };
    let last = h.core.send(&b.caller, html).await.unwrap();
    let srv = start(h).await;

    for viewer in [&a, &b] {
        let v = pm_get(&srv, viewer, plid, "").await;
        numbers_are_strings(&v["data"], "data");
        let d = &v["data"];
        assert_eq!(d["pmtype"], "1");
        assert_eq!(
            d["authorid"],
            a.member.id.0.to_string(),
            "the first sender owns it"
        );
        let expected_subject: String = long.chars().take(80).collect();
        assert_eq!(d["subject"], expected_subject);
        assert_eq!(d["members"].as_array().unwrap().len(), 2);
        assert_eq!(pmids(&v), vec![last.message.id.0, first.message.id.0]);
        // Discuz shows messages as HTML: text arrives escaped.
        assert_eq!(d["min_max"]["0"]["message"], "收到 &amp; 好的");
        assert_eq!(
            d["min_max"]["1"]["message"],
            long.as_str(),
            "messages are not cut"
        );
        let lm = &d["lastmessage"];
        assert_eq!(lm["firstsummary"], expected_subject);
        assert_eq!(lm["firstauthor"], "alice");
        assert_eq!(lm["lastauthorid"], b.member.id.0.to_string());
        assert_eq!(lm["lastauthor"], "bob");
        assert_eq!(lm["lastsummary"], "收到 &amp; 好的");
        assert_eq!(d["dateline"], secs(first.conversation.created_at));
    }
}

async fn start_limit_and_sort_page_through_the_conversation(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let mut ids = Vec::new();
    for i in 0..7 {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        ids.push(h.text(from, to, &format!("m{i}")).await.message.id.0);
    }
    let plid = h
        .core
        .direct_with(&a.caller, &b.member.uuid.to_string())
        .await
        .unwrap()
        .unwrap();
    let srv = start(h).await;
    let newest: Vec<i64> = ids.iter().rev().copied().collect();

    let all = pm_get(&srv, &a, plid, "").await;
    assert_eq!(pmids(&all), newest, "default: limit 10, DESC");
    let d1 = pm_get(&srv, &a, plid, "&start=0&limit=3&sort=DESC").await;
    assert_eq!(pmids(&d1), newest[0..3]);
    assert_eq!(d1["data"]["min_max"]["count"], 3);
    let d2 = pm_get(&srv, &a, plid, "&start=3&limit=3&sort=DESC").await;
    assert_eq!(pmids(&d2), newest[3..6]);
    let d3 = pm_get(&srv, &a, plid, "&start=6&limit=3&sort=desc").await;
    assert_eq!(pmids(&d3), newest[6..7]);
    let a1 = pm_get(&srv, &a, plid, "&start=0&limit=3&sort=ASC").await;
    assert_eq!(pmids(&a1), ids[0..3]);
    let a2 = pm_get(&srv, &a, plid, "&start=5&limit=3&sort=asc").await;
    assert_eq!(pmids(&a2), ids[5..7]);
    let beyond = pm_get(&srv, &a, plid, "&start=50&limit=3").await;
    assert_eq!(pmids(&beyond), Vec::<i64>::new());
    assert_eq!(beyond["data"]["min_max"]["count"], 0);
    let max = pm_get(&srv, &a, plid, "&limit=100").await;
    assert_eq!(pmids(&max).len(), 7);

    for bad in [
        "&limit=0",
        "&limit=101",
        "&limit=-1",
        "&start=-1",
        "&sort=sideways",
    ] {
        let q = format!("action=pm_get&token={}&plids={}{bad}", a.token, plid.0);
        let (_, v) = call(&srv, &q).await;
        assert_eq!(v["code"], 400, "{bad}: {v}");
        check_envelope(&v);
    }
}

async fn isnew_and_lastupdate_follow_the_read_state(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let sent = h.text(&a, &b, "hi").await;
    let plid = sent.conversation.id;
    let isnew = |v: &Value, who: &Person| -> (String, String) {
        let m = v["data"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["uid"] == who.member.id.0.to_string().as_str())
            .unwrap()
            .clone();
        (
            m["isnew"].as_str().unwrap().into(),
            m["lastupdate"].as_str().unwrap().into(),
        )
    };
    h.clock.advance(Duration::from_secs(60));
    let srv = start(h).await;
    let before = pm_get(&srv, &b, plid, "").await;
    assert_eq!(
        isnew(&before, &b).0,
        "1",
        "bob has not read alice's message"
    );
    assert_eq!(isnew(&before, &a).0, "0");

    srv.h
        .core
        .mark_read(&b.caller, plid, ReadTarget::All)
        .await
        .unwrap();
    let after = pm_get(&srv, &b, plid, "").await;
    let (flag, lastupdate) = isnew(&after, &b);
    assert_eq!(flag, "0", "reading clears isnew");
    assert_eq!(lastupdate, secs(srv.h.clock.now()));
    assert_ne!(lastupdate, isnew(&before, &b).1);
}

async fn xml_output_is_well_formed_and_carries_the_same_values(h: Harness) {
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "alice").await,
        h.person(&app, "bob").await,
        h.person(&app, "carol").await,
    );
    let plid = group(&h, &a, "群聊 <&> \"x\"", &[&b, &c]).await;
    say(&h, &a, plid, "回复内容130 & <b>not a tag</b>").await;
    say(&h, &b, plid, "😀 second").await;
    let srv = start(h).await;
    let json = pm_get(&srv, &a, plid, "&limit=5").await;
    let resp = srv
        .client
        .get(srv.url(&format!(
            "{PLUGIN}&action=pm_get&token={}&plids={}&limit=5&output=xml",
            a.token, plid.0
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/xml"), "{ct}");
    let xml = resp.text().await.unwrap();
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));

    let mut from_xml = xml_leaves(&xml);
    let mut from_json = json_leaves(&json, "root");
    from_xml.retain(|(p, _)| p != "root/sqltime");
    from_json.retain(|(p, _)| p != "root/sqltime");
    assert_eq!(from_xml, from_json);
    // XML-unescaped once, the values are the HTML-escaped text Discuz shows.
    assert!(from_xml.contains(&(
        "root/data/subject".into(),
        "群聊 &lt;&amp;&gt; &quot;x&quot;".into()
    )));
    assert!(from_xml.contains(&(
        "root/data/min_max/1/message".into(),
        "回复内容130 &amp; &lt;b&gt;not a tag&lt;/b&gt;".into()
    )));

    let err = srv
        .client
        .get(srv.url(&format!("{PLUGIN}&action=pm_get&plids=1&output=xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(err.status(), 200);
    let leaves = xml_leaves(&err.text().await.unwrap());
    assert!(
        leaves.contains(&("root/code".into(), "401".into())),
        "{leaves:?}"
    );
    assert!(leaves.contains(&("root/count".into(), "0".into())));
}

/// (path, text) of every leaf of a JSON value, paths as the XML rendering names them
/// (`min_max`'s keys as `<item key>`, the n-th array item as `item#n`); sorted.
fn json_leaves(v: &Value, path: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match v {
        Value::Object(m) if m.is_empty() => vec![(path.into(), String::new())],
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, x)| json_leaves(x, &format!("{path}/{k}")))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, x)| json_leaves(x, &format!("{path}/item#{i}")))
            .collect(),
        Value::String(s) => vec![(path.into(), s.clone())],
        other => vec![(path.into(), other.to_string())],
    };
    out.sort();
    out
}

/// (path, text) of every leaf element, parsed with quick-xml; an `item key="k"` element's
/// path segment is `k`, the n-th plain `item` of a parent is `item#n`; sorted.
fn xml_leaves(xml: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut items: Vec<usize> = vec![0];
    let mut out: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    let mut leaf = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = std::str::from_utf8(e.name().as_ref()).unwrap().to_owned();
                let key = e
                    .try_get_attribute("key")
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned());
                let segment = match key {
                    Some(k) => k,
                    None if name == "item" => {
                        let n = items.last_mut().unwrap();
                        *n += 1;
                        format!("item#{}", *n - 1)
                    }
                    None => name,
                };
                path.push(segment);
                items.push(0);
                text.clear();
                leaf = true;
            }
            Event::Text(t) => text.push_str(&t.unescape().unwrap()),
            Event::End(_) => {
                if leaf {
                    out.push((path.join("/"), std::mem::take(&mut text)));
                }
                leaf = false;
                path.pop();
                items.pop();
            }
            Event::Empty(_) => panic!("no self-closing elements are written"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "every element is closed");
    out.sort();
    out
}

async fn errors_use_the_documented_codes_in_the_same_envelope(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let plid = h.text(&a, &b, "hi").await.conversation.id;
    let srv = start(h).await;
    let t = &a.token;
    let p = plid.0;
    let cases: Vec<(String, u64)> = vec![
        (format!("action=pm_get&plids={p}"), 401),
        (format!("action=pm_get&token=&plids={p}"), 401),
        (format!("action=pm_get&token=nonsense&plids={p}"), 401),
        (format!("action=pm_get&token={t}"), 400),
        (format!("action=pm_get&token={t}&plids=abc"), 400),
        (format!("action=pm_get&token={t}&plids=0"), 400),
        (format!("action=pm_get&token={t}&plids={p},{p}"), 400),
        (format!("action=pm_get&token={t}&plids={p}&sort=UP"), 400),
        (format!("action=pm_get&token={t}&plids={p}&limit=1000"), 400),
        (format!("action=pm_get&token={t}&plids=999999999"), 404),
        (format!("action=pm_send&token={t}&plids={p}"), 404),
        (format!("token={t}&plids={p}"), 404),
    ];
    for (q, code) in cases {
        let (_, v) = call(&srv, &q).await;
        check_envelope(&v);
        assert_eq!(v["code"], code, "{q}: {v}");
        assert_eq!(v["count"], 0);
        assert_eq!(v["data"], serde_json::json!({}));
        assert!(!v["result"].as_str().unwrap().is_empty());
    }
    let (_, v) = call(&srv, &format!("action=nope&token={t}&plids={p}")).await;
    assert_eq!(v["result"], "unknown action");

    let other_plugin = srv
        .client
        .get(srv.url(&format!(
            "/plugin.php?id=other:pm&action=pm_get&token={t}&plids={p}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(other_plugin.status(), 200);
    let v: Value = other_plugin.json().await.unwrap();
    assert_eq!(v["code"], 404);

    let put = srv.client.put(srv.url(PLUGIN)).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let v: Value = put.json().await.unwrap();
    assert_eq!(v["code"], 405);
    check_envelope(&v);

    let json_body = srv
        .client
        .post(srv.url(PLUGIN))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let v: Value = json_body.json().await.unwrap();
    assert_eq!(v["code"], 400);

    srv.h.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let (_, v) = call(&srv, &format!("action=pm_get&token={t}&plids={p}")).await;
    assert_eq!(v["code"], 401, "an expired session is code 401");
}

async fn post_form_requests_answer_like_get(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let plid = h.text(&a, &b, "你好").await.conversation.id;
    let srv = start(h).await;
    let resp = srv
        .client
        .post(srv.url("/plugin.php?id=xinxiu_network%3Apm"))
        .form(&[
            ("action", "pm_get"),
            ("token", a.token.as_str()),
            ("plids", &plid.0.to_string()),
            ("limit", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut posted: Value = resp.json().await.unwrap();
    let mut got = pm_get(&srv, &a, plid, "&limit=5").await;
    check_envelope(&posted);
    posted["sqltime"] = Value::Null;
    got["sqltime"] = Value::Null;
    assert_eq!(posted, got);
    assert_eq!(got["data"]["min_max"]["0"]["message"], "你好");
}

async fn members_cannot_read_conversations_they_are_not_in(h: Harness) {
    let app = h.app().await;
    let (a, b, outsider) = (
        h.person(&app, "alice").await,
        h.person(&app, "bob").await,
        h.person(&app, "eve").await,
    );
    let direct = h.text(&a, &b, "secret").await.conversation.id;
    let grp = group(&h, &a, "private group", &[&b]).await;
    say(&h, &a, grp, "group secret").await;
    let other_app = h.app().await;
    let stranger = h.person(&other_app, "alice").await;
    let (s1, s2) = (
        h.person(&other_app, "s1").await,
        h.person(&other_app, "s2").await,
    );
    let theirs = h.text(&s1, &s2, "other app").await.conversation.id;
    let srv = start(h).await;

    let missing = {
        let q = format!("action=pm_get&token={}&plids=999999999", outsider.token);
        call(&srv, &q).await.1
    };
    for (who, plid) in [
        (&outsider, direct),
        (&outsider, grp),
        (&stranger, direct),
        (&stranger, grp),
        (&a, theirs),
        (&b, theirs),
    ] {
        let q = format!("action=pm_get&token={}&plids={}", who.token, plid.0);
        let (raw, v) = call(&srv, &q).await;
        assert_eq!(v["code"], 404, "{raw}");
        assert_eq!(
            v["result"], missing["result"],
            "not a member looks like no conversation"
        );
        assert!(!raw.contains("secret"));
    }
    // Members still read their own.
    pm_get(&srv, &b, grp, "").await;
    pm_get(&srv, &s2, theirs, "").await;
}

async fn hidden_messages_are_left_out_and_recalled_ones_say_so(h: Harness) {
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let m1 = h.text(&a, &b, "one").await;
    let m2 = h.text(&b, &a, "two").await;
    let m3 = h.text(&a, &b, "three").await;
    let plid = m1.conversation.id;
    h.core.hide(&a.caller, m2.message.id).await.unwrap();
    h.core.recall(&a.caller, m3.message.id).await.unwrap();
    let srv = start(h).await;
    let v = pm_get(&srv, &a, plid, "").await;
    assert_eq!(pmids(&v), vec![m3.message.id.0, m1.message.id.0]);
    assert_eq!(v["data"]["min_max"]["0"]["message"], "[recalled]");
    assert_eq!(v["data"]["min_max"]["0"]["delstatus"], "0");
    assert_eq!(v["data"]["lastmessage"]["lastsummary"], "[recalled]");
    let bob = pm_get(&srv, &b, plid, "").await;
    assert_eq!(pmids(&bob).len(), 3, "hiding is for alice only");
}

/// Discuz's pm plugin only reads (`pm_get`): a muted member may read, so their conversation
/// still answers `code` 200 with its messages (a muted send has no Discuz path to refuse).
async fn muted_members_still_read(h: Harness) {
    let app = h.app().await;
    let m = h.provisioned(&app, "ext-1", "mute").await;
    let b = h.person(&app, "bob").await;
    let plid = h.text(&b, &m, "hello").await.conversation.id;
    h.mute(&app, "ext-1").await;
    let srv = start(h).await;
    let v = pm_get(&srv, &m, plid, "").await;
    assert_eq!(pmids(&v).len(), 1, "{v}");
}

sixin_tests::both_backends!(
    muted_members_still_read,
    group_conversation_matches_the_documented_shape_and_types,
    direct_conversation_is_pmtype_1_with_its_first_message_as_subject,
    start_limit_and_sort_page_through_the_conversation,
    isnew_and_lastupdate_follow_the_read_state,
    xml_output_is_well_formed_and_carries_the_same_values,
    errors_use_the_documented_codes_in_the_same_envelope,
    post_form_requests_answer_like_get,
    members_cannot_read_conversations_they_are_not_in,
    hidden_messages_are_left_out_and_recalled_ones_say_so,
);
