//! Input rules shared by every dialect: message data shapes, html sanitising, URL
//! normalising, and the limits on usernames, passwords, subjects and client keys. No string
//! that reaches the store may hold the NUL character (U+0000): PostgreSQL cannot store it in
//! text or JSON, so it is refused here, for every store alike, with [`NUL_REASON`]. Pure
//! functions; unit-tested here.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::MessageType;

/// Longest text or html content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;
/// Largest custom message, serialized.
pub const MAX_CUSTOM_BYTES: usize = 16 * 1024;
/// Longest URL in image and link messages.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest `ext_data`.
pub const MAX_EXT_DATA_CHARS: usize = 4096;
/// Largest member `ext_info`, serialized.
pub const MAX_EXT_INFO_BYTES: usize = 4096;

/// Why a string holding U+0000 is refused.
pub const NUL_REASON: &str = "must not contain the NUL character (U+0000)";

/// Refuses a string holding U+0000 (also when it arrived as a JSON `\u0000` escape).
pub fn no_nul(field: &'static str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::invalid(field, NUL_REASON));
    }
    Ok(())
}

/// Refuses a JSON value with U+0000 in any string inside it, object keys included.
pub fn json_no_nul(field: &'static str, v: &Value) -> Result<()> {
    match v {
        Value::String(s) => no_nul(field, s),
        Value::Array(items) => items.iter().try_for_each(|i| json_no_nul(field, i)),
        Value::Object(o) => o.iter().try_for_each(|(k, v)| {
            no_nul(field, k)?;
            json_no_nul(field, v)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Checks `data` against the shape of `kind` and returns what will be stored: html content is
/// sanitised to a safe allow-list (no scripts, no event handlers, no `javascript:` or relative
/// URLs);
/// image and link URLs are stored normalised ([`normalise_url`]).
pub fn message_data(kind: MessageType, data: Value) -> Result<Value> {
    json_no_nul("data", &data)?;
    let Value::Object(mut obj) = data else {
        return Err(Error::invalid("data", "must be a JSON object"));
    };
    match kind {
        MessageType::Text => {
            let content = content(&obj)?;
            only_keys(&obj, &["content"])?;
            Ok(json_object([(
                "content",
                Value::String(content.to_owned()),
            )]))
        }
        MessageType::Html => {
            let raw = content(&obj)?;
            only_keys(&obj, &["content"])?;
            // Relative URLs mean nothing in a message (relative to what?) and only widen what
            // reaches an attribute, so links and images must be absolute.
            let clean = ammonia::Builder::default()
                .url_relative(ammonia::UrlRelative::Deny)
                .clean(raw)
                .to_string();
            if clean.trim().is_empty() {
                return Err(Error::invalid(
                    "data.content",
                    "html is empty after sanitising",
                ));
            }
            Ok(json_object([("content", Value::String(clean))]))
        }
        MessageType::Image => {
            only_keys(&obj, &["url", "width", "height", "thumb"])?;
            http_url(&mut obj, "url", true)?;
            http_url(&mut obj, "thumb", false)?;
            positive_int(&obj, "width")?;
            positive_int(&obj, "height")?;
            Ok(Value::Object(obj))
        }
        MessageType::Link => {
            only_keys(&obj, &["url", "title", "desc", "image"])?;
            http_url(&mut obj, "url", true)?;
            http_url(&mut obj, "image", false)?;
            bounded_string(&obj, "title", true, 200)?;
            bounded_string(&obj, "desc", false, 1000)?;
            Ok(Value::Object(obj))
        }
        MessageType::Custom => {
            let len = Value::Object(obj.clone()).to_string().len();
            if len > MAX_CUSTOM_BYTES {
                return Err(Error::invalid(
                    "data",
                    format!("custom data is {len} bytes; at most {MAX_CUSTOM_BYTES} allowed"),
                ));
            }
            Ok(Value::Object(obj))
        }
    }
}

fn json_object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Error::invalid(
            "data",
            format!("unknown field `{k}` (allowed: {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

fn content(obj: &Map<String, Value>) -> Result<&str> {
    let s = match obj.get("content") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(Error::invalid("data.content", "must be a string")),
        None => return Err(Error::invalid("data.content", "is required")),
    };
    if s.trim().is_empty() {
        return Err(Error::invalid("data.content", "must not be empty"));
    }
    let chars = s.chars().count();
    if chars > MAX_CONTENT_CHARS {
        return Err(Error::invalid(
            "data.content",
            format!("is {chars} characters; at most {MAX_CONTENT_CHARS} allowed"),
        ));
    }
    Ok(s)
}

/// Checks an image or link URL and replaces it with its normalised form.
fn http_url(obj: &mut Map<String, Value>, key: &'static str, required: bool) -> Result<()> {
    let field = field_name(key);
    let s = match obj.get_mut(key) {
        Some(Value::String(s)) => s,
        Some(_) => return Err(Error::invalid(field, "must be a string")),
        None if required => return Err(Error::invalid(field, "is required")),
        None => return Ok(()),
    };
    if s.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(
            field,
            format!("longer than {MAX_URL_CHARS} characters"),
        ));
    }
    *s =
        normalise_url(s).ok_or_else(|| Error::invalid(field, "must be an absolute http(s) URL"))?;
    Ok(())
}

/// An absolute http(s) URL with a host, in a form that is safe inside a quoted or unquoted HTML
/// attribute: surrounding whitespace trimmed, and every space, control character, `"`, `'`,
/// `<`, `>` and backtick percent-encoded (anywhere; a host holding one is refused). The rest
/// is kept as the client wrote it. `None` if it is not such a URL.
pub fn normalise_url(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        match c {
            ' ' | '"' | '\'' | '<' | '>' | '`' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_ascii_control() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    match url::Url::parse(&out) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            // Hosts are serialised as ASCII (IDNA); anything else in one is refused.
            let host = u.host_str().unwrap_or_default();
            let plain = |c: char| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
            };
            host.chars().all(plain).then_some(out)
        }
        _ => None,
    }
}

fn positive_int(obj: &Map<String, Value>, key: &'static str) -> Result<()> {
    match obj.get(key) {
        None => Ok(()),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v > 0) => Ok(()),
        Some(_) => Err(Error::invalid(
            field_name(key),
            "must be a positive integer",
        )),
    }
}

fn bounded_string(
    obj: &Map<String, Value>,
    key: &'static str,
    required: bool,
    max: usize,
) -> Result<()> {
    let field = field_name(key);
    match obj.get(key) {
        None if required => Err(Error::invalid(field, "is required")),
        None => Ok(()),
        Some(Value::String(s)) if required && s.trim().is_empty() => {
            Err(Error::invalid(field, "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(Error::invalid(
            field,
            format!("longer than {max} characters"),
        )),
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

fn field_name(key: &str) -> &'static str {
    match key {
        "url" => "data.url",
        "thumb" => "data.thumb",
        "image" => "data.image",
        "width" => "data.width",
        "height" => "data.height",
        "title" => "data.title",
        "desc" => "data.desc",
        _ => "data",
    }
}

/// `ext_data`: an opaque string of at most [`MAX_EXT_DATA_CHARS`].
pub fn ext_data(s: Option<String>) -> Result<Option<String>> {
    if let Some(s) = &s {
        no_nul("ext_data", s)?;
    }
    match s {
        Some(s) if s.chars().count() > MAX_EXT_DATA_CHARS => Err(Error::invalid(
            "ext_data",
            format!("longer than {MAX_EXT_DATA_CHARS} characters"),
        )),
        Some(s) if s.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// A client's idempotency key: 1..=64 printable ASCII characters.
pub fn client_msg_id(s: Option<String>) -> Result<Option<String>> {
    if let Some(s) = &s {
        no_nul("client_msg_id", s)?;
    }
    match s {
        None => Ok(None),
        Some(s) if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(s))
        }
        Some(_) => Err(Error::invalid(
            "client_msg_id",
            "must be 1..64 printable ASCII characters",
        )),
    }
}

/// A username: 1..=64 characters, no control characters, not only whitespace, not starting
/// with [`rules::RESERVED_PREFIX`] (`sixin:`, kept for sixin's own members such as the app's
/// system sender).
pub fn username(s: &str) -> Result<()> {
    no_nul("username", s)?;
    let n = s.chars().count();
    if s.trim().is_empty() || n > 64 || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            "username",
            "must be 1..64 characters without control characters",
        ));
    }
    if s.trim_start().starts_with(crate::rules::RESERVED_PREFIX) {
        return Err(Error::invalid(
            "username",
            "must not start with sixin: (reserved)",
        ));
    }
    Ok(())
}

/// A new password: 6..=128 characters, no U+0000, and not too easy to guess
/// ([`passwords::weakness`](crate::passwords::weakness): a common password, only whitespace,
/// one character repeated).
pub fn password(s: &str) -> Result<()> {
    no_nul("password", s)?;
    let n = s.chars().count();
    if !(6..=128).contains(&n) {
        return Err(Error::invalid("password", "must be 6..128 characters"));
    }
    match crate::passwords::weakness(s) {
        Some(why) => Err(Error::invalid("password", why)),
        None => Ok(()),
    }
}

/// Member `ext_info`: a JSON object of at most [`MAX_EXT_INFO_BYTES`] serialized, with no
/// U+0000 in any string or key inside it.
pub fn ext_info(v: Option<Value>) -> Result<Value> {
    if let Some(v) = &v {
        json_no_nul("ext_info", v)?;
    }
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(o)) => {
            let len = Value::Object(o.clone()).to_string().len();
            if len > MAX_EXT_INFO_BYTES {
                return Err(Error::invalid(
                    "ext_info",
                    format!("is {len} bytes; at most {MAX_EXT_INFO_BYTES} allowed"),
                ));
            }
            Ok(Value::Object(o))
        }
        Some(_) => Err(Error::invalid("ext_info", "must be a JSON object")),
    }
}

/// A group subject or app name: 1..=100 characters, not only whitespace.
pub fn subject(field: &'static str, s: &str) -> Result<()> {
    no_nul(field, s)?;
    let n = s.chars().count();
    if s.trim().is_empty() || n > 100 || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be 1..100 characters without control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_requires_non_empty_bounded_content() {
        assert!(message_data(MessageType::Text, json!({"content": "hi"})).is_ok());
        assert!(message_data(MessageType::Text, json!({"content": "  "})).is_err());
        assert!(message_data(MessageType::Text, json!({"content": 3})).is_err());
        assert!(message_data(MessageType::Text, json!({"content": "x", "y": 1})).is_err());
        assert!(message_data(MessageType::Text, json!("x")).is_err());
        let long = "字".repeat(MAX_CONTENT_CHARS);
        assert!(message_data(MessageType::Text, json!({ "content": long })).is_ok());
        let longer = "字".repeat(MAX_CONTENT_CHARS + 1);
        assert!(message_data(MessageType::Text, json!({ "content": longer })).is_err());
    }

    #[test]
    fn html_is_sanitised() {
        let dirty =
            r#"<p onclick="x()">hi<script>alert(1)</script><a href="javascript:x">l</a></p>"#;
        let v = message_data(MessageType::Html, json!({ "content": dirty })).unwrap();
        let clean = v["content"].as_str().unwrap();
        assert!(clean.contains("<p>hi"), "{clean}");
        assert!(
            !clean.contains("script") && !clean.contains("onclick"),
            "{clean}"
        );
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(message_data(MessageType::Html, json!({"content": "<script>x</script>"})).is_err());
    }

    #[test]
    fn urls_must_be_http() {
        let ok = json!({"url": "https://example.com/a.png", "width": 10});
        assert!(message_data(MessageType::Image, ok).is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x/y",
            "/relative",
            "data:image/png;base64,AA",
        ] {
            assert!(
                message_data(MessageType::Image, json!({ "url": bad })).is_err(),
                "{bad}"
            );
        }
        assert!(
            message_data(MessageType::Image, json!({"url": "http://x.y", "width": 0})).is_err()
        );
        let link = json!({"url": "http://x.y", "title": "t", "image": "https://x.y/i.png"});
        assert!(message_data(MessageType::Link, link).is_ok());
        assert!(message_data(MessageType::Link, json!({"url": "http://x.y"})).is_err());
    }

    #[test]
    fn custom_is_any_object_up_to_16_kib() {
        assert!(message_data(MessageType::Custom, json!({"a": [1, 2, {"b": null}]})).is_ok());
        let big = "x".repeat(MAX_CUSTOM_BYTES);
        assert!(message_data(MessageType::Custom, json!({ "a": big })).is_err());
        assert!(message_data(MessageType::Custom, json!([1])).is_err());
    }

    #[test]
    fn nul_is_refused_in_every_stored_string() {
        let nul = |r: Result<Value>| matches!(r, Err(Error::Invalid { reason, .. }) if reason == NUL_REASON);
        let decoded: Value = serde_json::from_str(r#"{"content": "a\u0000b"}"#).unwrap();
        assert!(nul(message_data(MessageType::Text, decoded)));
        assert!(nul(message_data(
            MessageType::Custom,
            json!({"ok": [1, {"deep\u{0}key": 1}]})
        )));
        assert!(nul(message_data(
            MessageType::Link,
            json!({"url": "http://x.y", "title": "t\u{0}"})
        )));
        assert!(nul(ext_info(Some(json!({"a": {"b": ["\u{0}"]}})))));
        assert!(nul(ext_info(Some(json!({"\u{0}": 1})))));
        let plain =
            |r: Result<()>| matches!(r, Err(Error::Invalid { reason, .. }) if reason == NUL_REASON);
        assert!(plain(username("a\u{0}b")));
        assert!(plain(password("123456\u{0}")));
        assert!(plain(subject("subject", "g\u{0}")));
        assert!(plain(ext_data(Some("x\u{0}".into())).map(|_| ())));
        assert!(plain(client_msg_id(Some("k\u{0}".into())).map(|_| ())));
        assert!(ext_data(Some("x\u{1}".into())).is_ok());
    }

    #[test]
    fn urls_are_stored_with_attribute_breaking_characters_encoded() {
        let norm = |u: &str| normalise_url(u);
        assert_eq!(
            norm(r##" https://x.y/a"b'c<d>e`f g?q="1"#h'<> "##).as_deref(),
            Some("https://x.y/a%22b%27c%3Cd%3Ee%60f%20g?q=%221%22#h%27%3C%3E")
        );
        assert_eq!(norm("https://x.y").as_deref(), Some("https://x.y"));
        assert_eq!(norm("http://x.y/a\nb").as_deref(), Some("http://x.y/a%0Ab"));
        assert_eq!(norm("https://x\"y/"), None);
        assert_eq!(norm("javascript:alert(1)"), None);
        let v = message_data(
            MessageType::Link,
            json!({"url": "https://x.y/\"onmouseover=alert(1)", "title": "t",
                   "image": "https://x.y/<i>.png"}),
        )
        .unwrap();
        assert_eq!(v["url"], "https://x.y/%22onmouseover=alert(1)");
        assert_eq!(v["image"], "https://x.y/%3Ci%3E.png");
        let v = message_data(MessageType::Image, json!({"url": "https://x.y/a b.png"})).unwrap();
        assert_eq!(v["url"], "https://x.y/a%20b.png");
    }

    #[test]
    fn member_fields() {
        assert!(username("dogstar").is_ok());
        assert!(username(" ").is_err());
        assert!(username("a\nb").is_err());
        assert!(username("sixin:system").is_err());
        assert!(username(" sixin:x").is_err());
        assert!(username("my sixin:x").is_ok());
        assert!(password("12345").is_err());
        assert!(password("123456").is_err());
        assert!(password("      ").is_err());
        assert!(password("s1xin-pw").is_ok());
        assert!(ext_info(Some(json!([1]))).is_err());
        assert_eq!(ext_info(None).unwrap(), json!({}));
        assert!(client_msg_id(Some("k-1".into())).is_ok());
        assert!(client_msg_id(Some("has space".into())).is_err());
    }
}
