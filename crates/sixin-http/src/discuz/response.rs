//! Core results → the seed's tree: field names, every number inside `data` as a string, Unix
//! seconds for times, uids for members, plain-text renderings of messages; and [`Reply`], the
//! envelope (`code`, `result`, `count`, `data`, `sqltime`) in JSON or XML, always HTTP 200.
//!
//! Discuz shows `message`, `subject`, the summaries and the author names as HTML, as Discuz
//! itself stores them. So every text that comes from a member is HTML-escaped here, *after*
//! it was turned into plain text and cut to length: what a client renders is inert, and
//! escaped markup (`&lt;img …&gt;` in an html message) never turns back into a live tag.

use std::time::Instant;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use sixin_core::ids::Timestamp;
use sixin_core::model::{
    ConversationDetail, ConversationKind, HistoryItem, Message, MessageType, Participant,
};

use super::error::DiscuzError;
use super::request::Format;
use super::{response_json, response_xml};

/// Summaries (`firstsummary`, `lastsummary`, a direct conversation's `subject`) keep this many
/// characters of the message's text.
const SUMMARY_CHARS: usize = 80;

/// A tree in the seed's shape, keys in the order they are rendered. JSON numbers are only used
/// where the seed's example uses them (`code`, `count`, `min_max.count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Str(String),
    Num(i64),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn s(v: impl ToString) -> Node {
    Node::Str(v.to_string())
}

fn map<const N: usize>(fields: [(&str, Node); N]) -> Node {
    Node::Map(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn secs(t: Timestamp) -> Node {
    s(t.unix_seconds())
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Str(v) => ser.serialize_str(v),
            Node::Num(n) => ser.serialize_i64(*n),
            Node::List(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(fields) => {
                let mut m = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

/// `data` of `action=pm_get`: the conversation, its members, one page of messages (`min_max`,
/// keyed "0".."n-1" in the requested order, plus `count`), its start time and its first and
/// last messages. `page` is ascending, as the core returns it; `newest_first` reverses it.
pub(crate) fn pm_get(
    detail: &ConversationDetail,
    page: Vec<HistoryItem>,
    newest_first: bool,
) -> Node {
    let c = &detail.conversation;
    let (pmtype, subject) = match c.kind {
        ConversationKind::Direct => ("1", detail.first_message.as_ref().map(summary)),
        ConversationKind::Group => ("2", c.subject.as_deref().map(escape_html)),
    };
    let mut members: Vec<&Participant> = detail.participants.iter().collect();
    members.sort_by_key(|p| p.profile.id);
    let members = members
        .into_iter()
        .map(|p| {
            map([
                ("plid", s(c.id)),
                ("uid", s(p.profile.id)),
                ("isnew", s(u8::from(p.unread > 0))),
                ("pmnum", s(c.message_count)),
                ("lastupdate", secs(p.read_updated_at)),
                ("lastdateline", secs(c.last_activity_at)),
            ])
        })
        .collect();
    let mut messages: Vec<Message> = page.into_iter().map(|i| i.message).collect();
    if newest_first {
        messages.reverse();
    }
    let count = i64::try_from(messages.len()).unwrap_or(i64::MAX);
    let mut min_max: Vec<(String, Node)> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let item = map([
                ("pmid", s(m.id)),
                ("plid", s(m.conversation)),
                ("authorid", s(m.sender)),
                ("message", s(escape_html(&text(m)))),
                ("delstatus", s(0)),
                ("dateline", secs(m.created_at)),
            ]);
            (i.to_string(), item)
        })
        .collect();
    min_max.push(("count".to_owned(), Node::Num(count)));
    let (first, last) = (&detail.first_message, &detail.last_message);
    map([
        ("plid", s(c.id)),
        ("authorid", s(c.owner)),
        ("pmtype", s(pmtype)),
        ("subject", s(subject.unwrap_or_default())),
        ("members", Node::List(members)),
        ("min_max", Node::Map(min_max)),
        ("dateline", secs(c.created_at)),
        (
            "lastmessage",
            map([
                ("firstauthorid", s(first.as_ref().map_or(0, |m| m.sender.0))),
                ("firstauthor", s(author(first))),
                (
                    "firstsummary",
                    s(first.as_ref().map(summary).unwrap_or_default()),
                ),
                ("lastauthorid", s(last.as_ref().map_or(0, |m| m.sender.0))),
                ("lastauthor", s(author(last))),
                (
                    "lastsummary",
                    s(last.as_ref().map(summary).unwrap_or_default()),
                ),
            ]),
        ),
    ])
}

fn author(m: &Option<Message>) -> String {
    escape_html(m.as_ref().map_or("", |m| m.sender_username.as_str()))
}

/// `text` made safe to show as HTML: `&`, `<`, `>`, `"` and `'` become entities.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The plain text of a message, before escaping: text as is, html as plain text, `[image]`,
/// `[link] <title or url>`, `[custom]`; a recalled message is `[recalled]`.
pub(crate) fn text(m: &Message) -> String {
    if m.recalled_at.is_some() {
        return "[recalled]".to_owned();
    }
    let field = |k: &str| m.data.get(k).and_then(Value::as_str).unwrap_or("");
    match m.kind {
        MessageType::Text => field("content").to_owned(),
        MessageType::Html => html_to_text(field("content")),
        MessageType::Image => "[image]".to_owned(),
        MessageType::Link => match field("title").trim() {
            "" => format!("[link] {}", field("url")),
            title => format!("[link] {title}"),
        },
        MessageType::Custom => "[custom]".to_owned(),
    }
}

/// The first [`SUMMARY_CHARS`] characters of [`text`], HTML-escaped (cut first, so no entity
/// is ever cut in half).
pub(crate) fn summary(m: &Message) -> String {
    let cut: String = text(m).chars().take(SUMMARY_CHARS).collect();
    escape_html(&cut)
}

/// The text of (already sanitised) html: tags dropped (block-level ones become a space), the
/// entities a sanitiser emits decoded, runs of whitespace collapsed.
fn html_to_text(html: &str) -> String {
    const BLOCKS: [&str; 12] = [
        "br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6",
    ];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let name: String = rest[1..end]
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if BLOCKS.contains(&name.as_str()) {
                out.push(' ');
            }
            rest = &rest[end..];
        } else {
            let end = rest.find(';').filter(|e| *e <= 10);
            let decoded = end.and_then(|e| entity(&rest[1..e]));
            match (end, decoded) {
                (Some(e), Some(c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                _ => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// A finished Discuz answer: the outcome, the format asked for, and when the request arrived.
#[derive(Debug)]
pub(crate) struct Reply {
    outcome: Result<Node, DiscuzError>,
    format: Format,
    started: Instant,
}

impl Reply {
    pub(crate) fn new(
        outcome: Result<Node, DiscuzError>,
        format: Format,
        started: Instant,
    ) -> Self {
        Reply {
            outcome,
            format,
            started,
        }
    }
}

/// `{"code", "result", "count", "data", "sqltime"}`; `count` is the number of keys of `data`.
fn envelope(code: u16, result: String, data: Node, sqltime: String) -> Node {
    let count = match &data {
        Node::Map(fields) => fields.len(),
        Node::List(items) => items.len(),
        Node::Str(_) | Node::Num(_) => 1,
    };
    map([
        ("code", Node::Num(i64::from(code))),
        ("result", Node::Str(result)),
        ("count", Node::Num(i64::try_from(count).unwrap_or(i64::MAX))),
        ("data", data),
        ("sqltime", Node::Str(sqltime)),
    ])
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (code, result, data) = match self.outcome {
            Ok(data) => (200, "OK".to_owned(), data),
            Err(e) => {
                e.log();
                (e.code, e.result, Node::Map(Vec::new()))
            }
        };
        let sqltime = format!("{:.5}s", self.started.elapsed().as_secs_f64());
        let tree = envelope(code, result, data, sqltime);
        let (body, content_type) = match self.format {
            Format::Json => (
                response_json::to_json(&tree),
                "application/json; charset=utf-8",
            ),
            Format::Xml => (
                response_xml::to_xml(&tree),
                "application/xml; charset=utf-8",
            ),
        };
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sixin_core::ids::{ConversationId, MemberId, MemberUuid, MessageId};

    fn message(kind: MessageType, data: Value) -> Message {
        Message {
            id: MessageId(70),
            conversation: ConversationId(20),
            sender: MemberId(1),
            sender_uuid: MemberUuid::generate(),
            sender_username: "admin".to_owned(),
            kind,
            data,
            ext_data: None,
            client_msg_id: None,
            created_at: Timestamp(1_636_464_320_000),
            recalled_at: None,
        }
    }

    #[test]
    fn messages_render_as_the_documented_plain_text() {
        let t = message(MessageType::Text, json!({"content": "回复内容130"}));
        assert_eq!(text(&t), "回复内容130");
        let h = message(
            MessageType::Html,
            json!({"content": "<p>a &amp; b</p><p>c&lt;d&nbsp;<b>e</b>f &#20320;</p>"}),
        );
        assert_eq!(text(&h), "a & b c<d ef 你");
        let i = message(MessageType::Image, json!({"url": "https://x/a.png"}));
        assert_eq!(text(&i), "[image]");
        let l = message(MessageType::Link, json!({"url": "https://x", "title": "T"}));
        assert_eq!(text(&l), "[link] T");
        let bare = message(MessageType::Link, json!({"url": "https://x"}));
        assert_eq!(text(&bare), "[link] https://x");
        assert_eq!(
            text(&message(MessageType::Custom, json!({"a": 1}))),
            "[custom]"
        );
        let mut r = t;
        r.recalled_at = Some(Timestamp(1));
        assert_eq!(text(&r), "[recalled]");
    }

    #[test]
    fn summaries_keep_eighty_characters() {
        let long = "长".repeat(100);
        let m = message(MessageType::Text, json!({ "content": long }));
        assert_eq!(summary(&m).chars().count(), 80);
        assert_eq!(text(&m).chars().count(), 100);
    }

    #[test]
    fn escaped_markup_stays_escaped_and_summaries_never_cut_an_entity() {
        let h = message(
            MessageType::Html,
            json!({"content": "<p>&lt;img src=x onerror=alert(1)&gt;</p>"}),
        );
        assert_eq!(text(&h), "<img src=x onerror=alert(1)>");
        assert_eq!(summary(&h), "&lt;img src=x onerror=alert(1)&gt;");
        let t = message(MessageType::Text, json!({"content": "<b a=\"'\">&"}));
        assert_eq!(summary(&t), "&lt;b a=&quot;&#39;&quot;&gt;&amp;");
        let long = format!("{}<script>", "x".repeat(78));
        let m = message(MessageType::Text, json!({ "content": long }));
        assert_eq!(summary(&m), format!("{}&lt;s", "x".repeat(78)));
    }

    #[test]
    fn html_without_markup_and_stray_ampersands_survive() {
        assert_eq!(html_to_text("a & b &unknown; <"), "a & b &unknown;");
        assert_eq!(html_to_text("x<br/>y"), "x y");
    }

    #[test]
    fn count_is_the_number_of_keys_of_data() {
        let data = map([("a", s(1)), ("b", s(2))]);
        let env = envelope(200, "OK".into(), data, "0.00001s".into());
        let Node::Map(fields) = env else {
            panic!("envelope is a map")
        };
        assert_eq!(fields[2], ("count".to_owned(), Node::Num(2)));
        let empty = envelope(404, "x".into(), Node::Map(Vec::new()), String::new());
        assert!(matches!(&empty, Node::Map(f) if f[2].1 == Node::Num(0)));
    }
}
