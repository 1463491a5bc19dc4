use super::*;
use crate::model::WordAction::{Mask, Reject};

fn matcher(words: &[(&str, WordAction)]) -> WordMatcher {
    let words: Vec<(String, WordAction)> =
        words.iter().map(|(w, a)| ((*w).to_owned(), *a)).collect();
    WordMatcher::build(1, &words).unwrap()
}

fn masked(m: &WordMatcher, text: &str) -> String {
    match m.screen_text(text) {
        Verdict::Masked(t) => t,
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn words_fold_width_case_and_ignore_what_is_not_a_letter() {
    assert_eq!(normalise_word("ＡＢＣ１２３"), "abc123");
    assert_eq!(normalise_word("Bad Word!"), "badword");
    assert_eq!(
        normalise_word("f\u{200B}u\u{200C}c\u{200D}k\u{2060}\u{FEFF}"),
        "fuck"
    );
    assert_eq!(normalise_word("法·轮、功"), "法轮功");
    assert_eq!(normalise_word("ｶﾀｶﾅ"), "カタカナ");
    assert_eq!(normalise_word("ﬁ"), "fi");
    // A precomposed letter and a letter with a combining mark are the same word.
    assert_eq!(normalise_word("e\u{301}"), normalise_word("é"));
    assert_eq!(
        normalise_word("ΣΊΣΥΦΟΣ"),
        normalise_word("σίσυφος").replace('ς', "σ")
    );
    assert_eq!(normalise_word("!!! ..."), "");
    assert_eq!(normalise_word("👍"), "");
}

#[test]
fn chinese_matches_without_spaces() {
    let m = matcher(&[("法轮功", Reject), ("傻逼", Mask)]);
    assert_eq!(m.screen_text("我们讨论法轮功的问题"), Verdict::Rejected);
    assert_eq!(masked(&m, "你这个傻逼啊"), "你这个**啊");
    assert_eq!(m.screen_text("今天天气很好"), Verdict::Clean);
    assert_eq!(m.screen_text("法 轮 功"), Verdict::Rejected);
}

#[test]
fn full_width_letters_and_case_match_the_word() {
    let m = matcher(&[("spam", Mask), ("QQ号", Reject)]);
    assert_eq!(masked(&m, "buy ＳＰＡＭ now"), "buy **** now");
    assert_eq!(masked(&m, "SpAm!"), "****!");
    assert_eq!(m.screen_text("加我ｑｑ号"), Verdict::Rejected);
}

#[test]
fn inserted_zero_width_and_punctuation_are_masked_with_the_word() {
    let m = matcher(&[("fuck", Mask)]);
    // The span from the first to the last letter is masked, what was inserted included; the
    // punctuation around it is kept.
    assert_eq!(masked(&m, "oh f.u.c.k!"), "oh *******!");
    assert_eq!(masked(&m, "f\u{200B}uck"), "*****");
    assert_eq!(masked(&m, "(f u c k)"), "(*******)");
    let m = matcher(&[("fuck", Reject)]);
    assert_eq!(m.screen_text("F-U-C-K"), Verdict::Rejected);
}

#[test]
fn mask_positions_follow_the_original_characters_in_mixed_text() {
    let m = matcher(&[("坏蛋", Mask), ("bad", Mask)]);
    // Multi-byte characters around and inside, full-width forms folded but masked one star
    // per original character, and several matches in one text.
    assert_eq!(
        masked(&m, "hi 坏，蛋! ｂａｄ and Bad. 好"),
        "hi ***! *** and ***. 好"
    );
    // A letter with a combining mark is one character: one star.
    let m = matcher(&[("café", Mask)]);
    assert_eq!(masked(&m, "a cafe\u{301} b"), "a **** b");
    // NFKC expanding one character into several: the whole character is masked.
    let m = matcher(&[("fi", Mask)]);
    assert_eq!(masked(&m, "a ﬁ b"), "a * b");
}

#[test]
fn leftmost_longest_decides_between_overlapping_mask_words() {
    let m = matcher(&[("ab", Mask), ("abc", Mask), ("cd", Mask)]);
    // At one start the longest wins; the search then goes on after it, so `cd` (overlapping
    // the `c`) is not masked on top.
    assert_eq!(masked(&m, "abcd"), "***d");
    // Spaces do not separate words: `ab c` is `abc`.
    assert_eq!(masked(&m, "ab cd"), "****d");
    assert_eq!(masked(&m, "ab-x-cd"), "**-x-**");
    // A reject word is found even inside or across mask words.
    let m = matcher(&[("abc", Mask), ("bcd", Reject)]);
    assert_eq!(m.screen_text("abcd"), Verdict::Rejected);
    assert_eq!(masked(&m, "abc x"), "*** x");
}

#[test]
fn html_is_masked_in_text_only() {
    let m = matcher(&[("bad", Mask), ("title", Mask)]);
    let html = r#"<p title="bad > title">so b<b>a</b>d &amp; bad</p>"#;
    let Verdict::Masked(out) = m.screen_html(html) else {
        panic!("not masked")
    };
    assert_eq!(out, r#"<p title="bad > title">so *<b>*</b>* &amp; ***</p>"#);
    // Entities are punctuation: masked (one star each) when inside a match, kept outside.
    let Verdict::Masked(out) = m.screen_html("b&amp;ad &lt;bad&gt;") else {
        panic!("not masked")
    };
    assert_eq!(out, "**** &lt;***&gt;");
    // Tag and attribute names never match.
    assert_eq!(
        m.screen_html(r#"<a href="https://bad.example/title">ok</a>"#),
        Verdict::Clean
    );
}

#[test]
fn usernames_are_checked_against_every_word() {
    let m = matcher(&[("admin", Mask), ("狗", Reject)]);
    assert!(m.occurs_in("the_Admin"));
    assert!(m.occurs_in("小狗"));
    assert!(!m.occurs_in("alice"));
    assert!(!WordMatcher::empty(3).occurs_in("admin"));
}

#[test]
fn an_empty_list_passes_everything_and_unfoldable_words_are_ignored() {
    let m = matcher(&[("...", Reject)]);
    assert!(m.is_empty());
    assert_eq!(m.screen_text("..."), Verdict::Clean);
    assert_eq!(
        WordMatcher::empty(0).screen_html("<p>x</p>"),
        Verdict::Clean
    );
}

#[test]
fn ten_thousand_words_build_and_match() {
    let words: Vec<(String, WordAction)> = (0..10_000u32)
        .map(|i| {
            let a = char::from_u32(0x4E00 + i % 5000).unwrap();
            let b = char::from_u32(0x4E00 + 5000 + i / 5000).unwrap();
            (format!("{a}{b}"), if i % 2 == 0 { Mask } else { Reject })
        })
        .collect();
    let m = WordMatcher::build(7, &words).unwrap();
    assert_eq!((m.len(), m.version()), (10_000, 7));
    let text = format!("hello {}{} world", &words[2].0, "");
    assert_eq!(
        m.screen_text(&text),
        Verdict::Masked("hello ** world".into())
    );
    assert_eq!(m.screen_text(&words[3].0), Verdict::Rejected);
}
