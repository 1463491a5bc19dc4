//! How a block, a who-may-message-me setting and a send limit refuse in the YesApi and PhalApi
//! dialects (issue 12): `Send` answers `ret` 407 (not accepted) or 429 (rate limited) with the
//! reason in `msg`; a `MultiSend` reports each refused recipient in its `detail` item
//! (`err_code` 2, the reason in `err_msg`) and delivers to the others. Discuz's pm plugin only
//! reads, so no send refusal can occur there. Runs on SQLite and PostgreSQL.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use md5::{Digest, Md5};
use serde_json::{json, Value};
use sixin_core::limits::Quota;
use sixin_core::model::App;
use sixin_core::testing::tight_limits;
use sixin_http::HttpConfig;
use sixin_tests::{Harness, Person, TestServer};

const CHAT: &str = "/api/App/Market_ChatMessage";
const NOT_ACCEPTED: &str = "this member does not accept messages from you";
const SENDS_LIMITED: &str = "too many requests (sends: 1 per 60 s); retry in 60 s";

type Params = Vec<(&'static str, String)>;

/// The body text and its JSON, after checking that the answer is HTTP 200.
async fn post(srv: &TestServer, path: &str, params: &Params) -> (String, Value) {
    let r = srv
        .client
        .post(srv.url(path))
        .form(params)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the PhalApi family always answers HTTP 200"
    );
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (text, json)
}

fn params(app: &App, from: &Person, to: &[&Person], more: &[(&'static str, &str)]) -> Params {
    let uuids: Vec<String> = to.iter().map(|p| p.member.uuid.to_string()).collect();
    let mut p = vec![
        ("app_key", app.key.to_string()),
        ("uuid", from.member.uuid.to_string()),
        ("token", from.token.clone()),
        ("other_uuid", uuids.join(",")),
        ("chat_message_to_uuid", uuids.join(",")),
        ("chat_message_data", "hello".to_owned()),
    ];
    p.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    p
}

/// A YesApi answer without `_t` and `_auth`, after recomputing `_auth` over the `data` text.
fn unsigned(text: &str, v: &Value, secret: &str) -> Value {
    let t = v["_t"].as_i64().unwrap();
    let start = text.find(r#""data":"#).unwrap() + 7;
    let end = text.rfind(r#","msg":"#).unwrap();
    let tag = hex::encode(Md5::digest(format!("{}{t}{secret}", &text[start..end])));
    assert_eq!(v["_auth"].as_str(), Some(tag.as_str()), "{text}");
    let mut v = v.clone();
    let o = v.as_object_mut().unwrap();
    o.remove("_t");
    o.remove("_auth");
    v
}

async fn yesapi_send_and_multi_send_show_refusals(h: Harness) {
    let sends = Quota {
        per: 1,
        secs: 60,
        burst: 3,
    };
    let h = h.reconfigured(tight_limits(sends, 1_000_000));
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "alice").await,
        h.person(&app, "bob").await,
        h.person(&app, "carol").await,
    );
    h.core
        .block(&b.caller, a.member.uuid.as_str())
        .await
        .unwrap();
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let send = format!("{CHAT}/Send");
    let multi = format!("{CHAT}/MultiSend");

    let (text, v) = post(&srv, &send, &params(&app, &a, &[&b], &[])).await;
    let expected = json!({"ret": 407, "data": {}, "msg": NOT_ACCEPTED});
    assert_eq!(unsigned(&text, &v, &secret), expected);

    let (text, v) = post(&srv, &multi, &params(&app, &a, &[&b, &c], &[])).await;
    let v = unsigned(&text, &v, &secret);
    let id = v["data"]["detail"][1]["chat_message_id"].as_i64().unwrap();
    assert!(id > 0);
    let expected = json!({"ret": 200, "msg": "", "data": {
        "err_code": 0, "err_msg": "",
        "detail": [
            {"other_uuid": b.member.uuid.to_string(), "chat_message_id": 0,
             "err_code": 2, "err_msg": NOT_ACCEPTED},
            {"other_uuid": c.member.uuid.to_string(), "chat_message_id": id,
             "err_code": 0, "err_msg": ""},
        ],
    }});
    assert_eq!(v, expected);

    // Three tokens were spent (the refused send too): the next send waits a minute.
    let (text, v) = post(&srv, &send, &params(&app, &a, &[&c], &[])).await;
    let expected = json!({"ret": 429, "data": {}, "msg": SENDS_LIMITED});
    assert_eq!(unsigned(&text, &v, &secret), expected);
    let (text, v) = post(&srv, &multi, &params(&app, &a, &[&c], &[])).await;
    let expected = json!({"ret": 200, "msg": "", "data": {
        "err_code": 2, "err_msg": "send failed for every recipient; see detail",
        "detail": [{"other_uuid": c.member.uuid.to_string(), "chat_message_id": 0,
                    "err_code": 2, "err_msg": SENDS_LIMITED}],
    }});
    assert_eq!(unsigned(&text, &v, &secret), expected);
    assert_eq!(srv.h.core.unread_total(&c.caller).await.unwrap(), 1);
}

async fn yesapi_send_is_refused_by_a_who_may_message_setting_and_the_daily_cap(h: Harness) {
    let sends = Quota {
        per: 1_000,
        secs: 1,
        burst: 1_000,
    };
    let h = h.reconfigured(tight_limits(sends, 1));
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "alice").await,
        h.person(&app, "bob").await,
        h.person(&app, "carol").await,
    );
    let nobody = Some(sixin_core::model::DmPolicy::Nobody);
    h.core.set_dm_policy(&b.caller, nobody).await.unwrap();
    let secret = app.secret.0.clone();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let send = format!("{CHAT}/Send");
    let (text, v) = post(&srv, &send, &params(&app, &a, &[&b], &[])).await;
    let expected = json!({"ret": 407, "data": {}, "msg": NOT_ACCEPTED});
    assert_eq!(unsigned(&text, &v, &secret), expected, "as for a block");
    let (_, v) = post(&srv, &send, &params(&app, &a, &[&c], &[])).await;
    assert_eq!(v["ret"], 200, "{v}");
    let (text, v) = post(&srv, &send, &params(&app, &c, &[&b], &[])).await;
    let capped = "too many requests (new_direct_conversations: 1 per 86400 s); retry in 86400 s";
    assert_eq!(
        unsigned(&text, &v, &secret),
        json!({"ret": 407, "data": {}, "msg": NOT_ACCEPTED}),
        "carol may open one, but bob takes none"
    );
    let d = srv.h.person(&app, "dave").await;
    let (text, v) = post(&srv, &send, &params(&app, &a, &[&d], &[])).await;
    let expected = json!({"ret": 429, "data": {}, "msg": capped});
    assert_eq!(unsigned(&text, &v, &secret), expected);
}

async fn phalapi_send_shows_refusals(h: Harness) {
    let sends = Quota {
        per: 1,
        secs: 60,
        burst: 2,
    };
    let h = h.reconfigured(tight_limits(sends, 1_000_000));
    let app = h.app().await;
    let (a, b, c) = (
        h.person(&app, "alice").await,
        h.person(&app, "bob").await,
        h.person(&app, "carol").await,
    );
    h.core
        .block(&b.caller, a.member.uuid.as_str())
        .await
        .unwrap();
    let srv = TestServer::start(h, HttpConfig::default()).await;
    let service = [
        ("s", "Platform.ChatMessage.Send"),
        ("chat_message_type", "text"),
    ];
    let (_, v) = post(&srv, "/api/platform", &params(&app, &a, &[&b], &service)).await;
    assert_eq!(v, json!({"ret": 407, "data": {}, "msg": NOT_ACCEPTED}));
    let (_, v) = post(&srv, "/api/platform", &params(&app, &a, &[&c], &service)).await;
    assert_eq!(v["ret"], 200, "{v}");
    let (_, v) = post(&srv, "/api/platform", &params(&app, &a, &[&c], &service)).await;
    assert_eq!(v, json!({"ret": 429, "data": {}, "msg": SENDS_LIMITED}));
}

sixin_tests::both_backends!(
    yesapi_send_and_multi_send_show_refusals,
    yesapi_send_is_refused_by_a_who_may_message_setting_and_the_daily_cap,
    phalapi_send_shows_refusals,
);
