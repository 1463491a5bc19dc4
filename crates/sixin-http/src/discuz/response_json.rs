//! The tree as JSON the way the seed's server (PHP `json_encode`) writes it: every non-ASCII
//! character escaped as `\uXXXX` (lower-case hex; characters outside the Basic Multilingual
//! Plane as a UTF-16 surrogate pair), so the body is pure ASCII.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// serde_json's compact output with non-ASCII characters escaped inside strings.
#[derive(Debug, Default)]
struct AsciiFormatter(CompactFormatter);

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            w.write_all(&fragment.as_bytes()[plain..i])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            plain = i + ch.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[plain..])
    }
}

/// `value` as ASCII-only JSON.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter::default());
    value
        .serialize(&mut ser)
        .expect("serializing strings, integers, arrays and maps into a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn text(v: &Value) -> String {
        String::from_utf8(to_json(v)).unwrap()
    }

    #[test]
    fn chinese_is_escaped_exactly_as_in_the_seed_example() {
        let cases = [
            ("回复内容130", r"\u56de\u590d\u5185\u5bb9130"),
            (
                "我是demo1，我来发一个群聊看看",
                r"\u6211\u662fdemo1\uff0c\u6211\u6765\u53d1\u4e00\u4e2a\u7fa4\u804a\u770b\u770b",
            ),
            (
                "这里是群聊信息，包括uid3和uid6",
                r"\u8fd9\u91cc\u662f\u7fa4\u804a\u4fe1\u606f\uff0c\u5305\u62ecuid3\u548cuid6",
            ),
        ];
        for (plain, escaped) in cases {
            assert_eq!(text(&json!(plain)), format!("\"{escaped}\""));
            let back: String = serde_json::from_slice(&to_json(&json!(plain))).unwrap();
            assert_eq!(back, plain);
        }
    }

    #[test]
    fn characters_outside_the_bmp_become_surrogate_pairs_and_escapes_stay_valid() {
        assert_eq!(text(&json!("a😀b")), r#""a\ud83d\ude00b""#);
        assert_eq!(text(&json!("é\"\n\\")), r#""\u00e9\"\n\\""#);
        let v = json!({"键": ["ü", 1, "x"]});
        let out = to_json(&v);
        assert!(out.is_ascii());
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), v);
    }
}
