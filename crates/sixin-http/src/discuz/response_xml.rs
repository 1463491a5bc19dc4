//! The tree as XML (`output=xml`): `<?xml version="1.0" encoding="UTF-8"?>`, then `<root>`
//! holding the envelope's fields as elements. A map key that is a valid XML name is the
//! element's name; any other key (the "0".."n-1" of `min_max`) becomes `<item key="0">`.
//! Array elements are `<item>`. Values are text: numbers and strings look alike. Text is
//! UTF-8 with `&`, `<`, `>` and carriage returns escaped; characters XML 1.0 forbids (most
//! control characters) become U+FFFD, so the document is always well-formed.

use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::response::Node;

const INFALLIBLE: &str = "writing XML into a Vec cannot fail";

/// `tree` as a UTF-8 XML document with `<root>` as its document element.
pub(crate) fn to_xml(tree: &Node) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .expect(INFALLIBLE);
    element(&mut w, "root", tree);
    w.into_inner()
}

fn element(w: &mut Writer<Vec<u8>>, key: &str, node: &Node) {
    let start = if is_name(key) {
        BytesStart::new(key)
    } else {
        BytesStart::new("item").with_attributes([("key", key)])
    };
    let end = start.to_end().into_owned();
    w.write_event(Event::Start(start)).expect(INFALLIBLE);
    match node {
        Node::Str(v) => text(w, v),
        Node::Num(n) => text(w, &n.to_string()),
        Node::List(items) => items.iter().for_each(|item| element(w, "item", item)),
        Node::Map(fields) => fields.iter().for_each(|(k, v)| element(w, k, v)),
    }
    w.write_event(Event::End(end)).expect(INFALLIBLE);
}

fn text(w: &mut Writer<Vec<u8>>, v: &str) {
    if !v.is_empty() {
        let escaped = escape(v);
        w.write_event(Event::Text(BytesText::from_escaped(escaped.as_str())))
            .expect(INFALLIBLE);
    }
}

/// Escapes character data; replaces what XML 1.0 cannot carry at all.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Whether `key` can be an element name as it is (a conservative ASCII subset of XML names,
/// not starting with the reserved `xml`).
fn is_name(key: &str) -> bool {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !key.to_ascii_lowercase().starts_with("xml")
}

/// Test support: parse a document written by [`to_xml`] back into (path, attribute `key`,
/// text) triples, so tests check values rather than bytes.
#[cfg(test)]
fn flatten(xml: &[u8]) -> Vec<(String, Option<String>, String)> {
    use quick_xml::Reader;
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let key = e
                    .try_get_attribute("key")
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned());
                path.push(name);
                out.push((path.join("/"), key, String::new()));
            }
            Event::Text(t) => {
                let last = out.last_mut().unwrap();
                last.2.push_str(&t.unescape().unwrap());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Str(v.to_owned())
    }

    #[test]
    fn the_tree_becomes_elements_items_and_keyed_items() {
        let tree = Node::Map(vec![
            ("code".into(), Node::Num(200)),
            (
                "data".into(),
                Node::Map(vec![
                    ("subject".into(), s("回复内容130 <b> & \"q\"")),
                    ("members".into(), Node::List(vec![s("1"), s("3")])),
                    (
                        "min_max".into(),
                        Node::Map(vec![
                            ("0".into(), Node::Map(vec![("pmid".into(), s("70"))])),
                            ("count".into(), Node::Num(1)),
                        ]),
                    ),
                    ("empty".into(), s("")),
                ]),
            ),
        ]);
        let xml = to_xml(&tree);
        let doc = String::from_utf8(xml.clone()).unwrap();
        assert!(doc.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><root>"#));
        let flat = flatten(&xml);
        let find = |p: &str| flat.iter().find(|(path, _, _)| path == p).unwrap().clone();
        assert_eq!(find("root/code").2, "200");
        assert_eq!(find("root/data/subject").2, "回复内容130 <b> & \"q\"");
        let items: Vec<_> = flat
            .iter()
            .filter(|(p, _, _)| p == "root/data/members/item")
            .map(|(_, _, t)| t.as_str())
            .collect();
        assert_eq!(items, ["1", "3"]);
        assert_eq!(find("root/data/min_max/item").1.as_deref(), Some("0"));
        assert_eq!(find("root/data/min_max/item/pmid").2, "70");
        assert_eq!(find("root/data/min_max/count").2, "1");
        assert_eq!(find("root/data/empty").2, "");
    }

    #[test]
    fn control_characters_cannot_break_the_document() {
        let tree = Node::Map(vec![("m".into(), s("a\u{1}b\r\nc\u{FFFF}"))]);
        let flat = flatten(&to_xml(&tree));
        assert_eq!(flat[1].2, "a\u{FFFD}b\r\nc\u{FFFD}");
    }

    #[test]
    fn only_plain_names_become_element_names() {
        assert!(is_name("min_max") && is_name("lastmessage") && is_name("a-b.c"));
        for bad in ["0", "12", "", "a b", "键", "xml_x", "<x>"] {
            assert!(!is_name(bad), "{bad}");
        }
    }
}
