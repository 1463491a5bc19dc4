//! Folding sanitised html: text is folded as plain text; a tag (`<…>`, attributes and all) is a
//! unit with no letters that a mask never touches; an entity (`&amp;`, `&lt;`, `&nbsp;`, …)
//! is one character of text with no letter, masked like punctuation.
//!
//! The input is the sanitiser's output (`validate::message_data`), which the html5ever
//! serialiser wrote: attribute values are always double-quoted, `<` and `>` in text are
//! always escaped, and the only entities are `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&nbsp;`,
//! none of which stands for a letter. Tags are still scanned with quotes in mind, so a `>`
//! inside an attribute value does not end the tag.

use super::{push_text, Folded};

/// Longest entity name looked for (`&` to `;`).
const MAX_ENTITY: usize = 32;

/// Folds `html` into units that cover it without gap.
pub(super) fn fold(html: &str) -> Folded {
    let bytes = html.as_bytes();
    let mut folded = Folded::default();
    let (mut i, mut text_from) = (0, 0);
    while i < bytes.len() {
        let end = match bytes[i] {
            b'<' => Some((tag_end(bytes, i), false)),
            b'&' => entity_end(bytes, i).map(|end| (end, true)),
            _ => None,
        };
        let Some((end, maskable)) = end else {
            i += 1;
            continue;
        };
        // `<`, `&`, `>` and `;` are ASCII, so every cut is on a character boundary.
        push_text(&mut folded, &html[text_from..i], text_from);
        folded.unit(i, end, maskable, None);
        (i, text_from) = (end, end);
    }
    push_text(&mut folded, &html[text_from..], text_from);
    folded
}

/// Where the tag starting at `start` ends (one past its `>`), or the end of the text.
fn tag_end(bytes: &[u8], start: usize) -> usize {
    let mut quote = None;
    for (j, &b) in bytes.iter().enumerate().skip(start + 1) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return j + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// Where the entity starting at `start` ends (one past its `;`), if it is one.
fn entity_end(bytes: &[u8], start: usize) -> Option<usize> {
    let name = bytes
        .iter()
        .skip(start + 1)
        .take(MAX_ENTITY)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'#')
        .count();
    let semicolon = start + 1 + name;
    (name > 0 && bytes.get(semicolon) == Some(&b';')).then_some(semicolon + 1)
}
