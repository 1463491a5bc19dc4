//! The sensitive-word filter's matching: [`WordMatcher`], built from one app's word list, finds
//! the app's words in a text as substrings (Aho-Corasick), so it works on text without spaces
//! (Chinese, Japanese) as well as on spaced text. Pure and synchronous; the core caches one
//! matcher per app (`service::words`) and applies it to the fields members write.
//!
//! **Normalisation.** Words and texts are compared in a folded form ([`normalise_word`]):
//! - Unicode NFKC, so full-width `ＡＢＣ１２３` is `ABC123`, half-width `ｶ` is `カ`, `ﬁ` is `fi`;
//! - lower case;
//! - only letters and digits (Unicode `Alphabetic` or `Numeric`) count: punctuation, symbols,
//!   emoji, whitespace and invisible characters (zero-width space U+200B, joiners U+200C/U+200D,
//!   word joiner U+2060, BOM U+FEFF, …) are skipped, so `f.u c\u{200B}k` contains `fuck` and
//!   `法*轮*功` contains `法轮功`.
//!
//! A character keeps the combining marks that follow it (it is normalised with them), and
//! every folded character remembers which original character it came from, so a match can be
//! masked in the original text.
//!
//! **Matching.** Words whose action is `reject` refuse a text if any of them occurs anywhere
//! (overlaps included). Words whose action is `mask` are found leftmost-longest, without
//! overlap: at each place the longest word wins (`ab` and `abc` in `abcd` mask `abc`), and the
//! search goes on after it. A mask covers the original text from the first to the last letter
//! of the match, **including** whatever was inserted between them (punctuation, spaces,
//! zero-width characters): each original character (with its combining marks) becomes one `*`,
//! so `f.u.c.k` becomes `*******` and nothing of the word stays readable. Text outside a match,
//! even the punctuation right next to it, is kept as written.
//!
//! Substring matching finds words inside longer words too (`ass` in `class`): an app lists
//! the words it means, and prefers `mask` where innocent words contain them.

use aho_corasick::{AhoCorasick, BuildError, MatchKind};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

use crate::model::WordAction;

mod html;
#[cfg(test)]
mod tests;

/// Longest word, in characters, before and after normalisation.
pub const MAX_WORD_CHARS: usize = 100;

/// What the filter does to one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No word of the list occurs in it.
    Clean,
    /// Only `mask` words occur: the text with each of them masked.
    Masked(String),
    /// A `reject` word occurs in it.
    Rejected,
}

/// The folded form a word is stored and matched in (see the module documentation); empty when
/// the word has no letter or digit at all.
pub fn normalise_word(word: &str) -> String {
    let mut folded = Folded::default();
    push_text(&mut folded, word, 0);
    folded.key
}

/// One app's word list, ready to match. Cheap to share (`Arc`); building one is the costly part
/// (about as long as the list, see BENCHMARKS.md).
#[derive(Debug)]
pub struct WordMatcher {
    version: i64,
    words: usize,
    reject: Option<AhoCorasick>,
    mask: Option<AhoCorasick>,
}

impl WordMatcher {
    /// A matcher with no words, standing for an app's list at `version`.
    pub fn empty(version: i64) -> Self {
        WordMatcher {
            version,
            words: 0,
            reject: None,
            mask: None,
        }
    }

    /// A matcher for these words (stored words are already folded; they are folded again, so
    /// any word works). Words with nothing left after folding are ignored.
    pub fn build(version: i64, words: &[(String, WordAction)]) -> Result<Self, BuildError> {
        let (mut reject, mut mask) = (Vec::new(), Vec::new());
        for (word, action) in words {
            let key = normalise_word(word);
            if key.is_empty() {
                continue;
            }
            match action {
                WordAction::Reject => reject.push(key),
                WordAction::Mask => mask.push(key),
            }
        }
        let automaton = |keys: &[String]| -> Result<Option<AhoCorasick>, BuildError> {
            if keys.is_empty() {
                return Ok(None);
            }
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(keys)
                .map(Some)
        };
        Ok(WordMatcher {
            version,
            words: reject.len() + mask.len(),
            reject: automaton(&reject)?,
            mask: automaton(&mask)?,
        })
    }

    /// The app's `word_list_version` this matcher was built at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// How many words it matches.
    pub fn len(&self) -> usize {
        self.words
    }

    /// Whether it matches nothing (then every text is [`Verdict::Clean`]).
    pub fn is_empty(&self) -> bool {
        self.words == 0
    }

    /// Screens plain text.
    pub fn screen_text(&self, text: &str) -> Verdict {
        if self.is_empty() {
            return Verdict::Clean;
        }
        let mut folded = Folded::default();
        push_text(&mut folded, text, 0);
        self.screen(text, &folded)
    }

    /// Screens sanitised html: only its text counts and only its text is masked; tags and
    /// their attributes are skipped as if they were punctuation and are never changed.
    pub fn screen_html(&self, html: &str) -> Verdict {
        if self.is_empty() {
            return Verdict::Clean;
        }
        self.screen(html, &html::fold(html))
    }

    /// Whether any word occurs in `text`, whatever its action (usernames: see
    /// `service::words`).
    pub fn occurs_in(&self, text: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let mut folded = Folded::default();
        push_text(&mut folded, text, 0);
        let found = |ac: &Option<AhoCorasick>| ac.as_ref().is_some_and(|a| a.is_match(&folded.key));
        found(&self.reject) || found(&self.mask)
    }

    fn screen(&self, original: &str, folded: &Folded) -> Verdict {
        if let Some(reject) = &self.reject {
            if reject.is_match(&folded.key) {
                return Verdict::Rejected;
            }
        }
        let Some(mask) = &self.mask else {
            return Verdict::Clean;
        };
        let mut masked = vec![false; folded.units.len()];
        let mut any = false;
        for m in mask.find_iter(&folded.key) {
            let (first, last) = (folded.origin[m.start()], folded.origin[m.end() - 1]);
            for flag in &mut masked[first as usize..=last as usize] {
                *flag = true;
            }
            any = true;
        }
        if !any {
            return Verdict::Clean;
        }
        let mut out = String::with_capacity(original.len());
        for (unit, masked) in folded.units.iter().zip(masked) {
            if masked && unit.maskable {
                out.push('*');
            } else {
                out.push_str(&original[unit.start..unit.end]);
            }
        }
        Verdict::Masked(out)
    }
}

/// One piece of the original text: a character with the combining marks after it, or (html) a
/// tag or an entity. Units cover the text without gap, in order.
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    /// Whether a mask replaces it with `*` (text is; an html tag is not).
    maskable: bool,
}

/// A text as the matcher sees it: `key` is the folded letters, and `origin[i]` the unit that
/// byte `i` of `key` came from.
#[derive(Debug, Default)]
struct Folded {
    units: Vec<Unit>,
    key: String,
    origin: Vec<u32>,
}

impl Folded {
    /// Adds a unit; `piece` (plain text) gives its folded letters, `None` (a tag or an entity)
    /// none.
    fn unit(&mut self, start: usize, end: usize, maskable: bool, piece: Option<&str>) {
        let index = u32::try_from(self.units.len()).unwrap_or(u32::MAX);
        self.units.push(Unit {
            start,
            end,
            maskable,
        });
        if let Some(piece) = piece {
            let (key, origin) = (&mut self.key, &mut self.origin);
            fold(piece, |c| {
                key.push(c);
                origin.extend(std::iter::repeat_n(index, c.len_utf8()));
            });
        }
    }
}

/// Adds the plain text `text` (found at byte `offset` of the original) character by character.
fn push_text(folded: &mut Folded, text: &str, offset: usize) {
    let mut chars = text.char_indices().peekable();
    while let Some((i, _)) = chars.next() {
        // A character takes the combining marks that follow it.
        while let Some(&(_, next)) = chars.peek() {
            if canonical_combining_class(next) == 0 {
                break;
            }
            chars.next();
        }
        let end = chars.peek().map_or(text.len(), |&(j, _)| j);
        folded.unit(offset + i, offset + end, true, Some(&text[i..end]));
    }
}

/// The folded letters of one character and its combining marks. ASCII and the common CJK
/// ideographs are their own NFKC form with no case, so they skip the normaliser (most of
/// Chinese text).
fn fold(piece: &str, mut emit: impl FnMut(char)) {
    let mut chars = piece.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}') {
            emit(c);
            return;
        }
    }
    if piece.is_ascii() {
        for b in piece.bytes() {
            let c = char::from(b.to_ascii_lowercase());
            if c.is_ascii_alphanumeric() {
                emit(c);
            }
        }
        return;
    }
    for c in piece.nfkc() {
        for lower in c.to_lowercase() {
            if lower.is_alphanumeric() {
                emit(lower);
            }
        }
    }
}
