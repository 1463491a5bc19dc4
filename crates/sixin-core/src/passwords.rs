//! New passwords too easy to guess: one of the most common passwords, compared without regard
//! to case — the embedded list `data/common_passwords.txt` (25,566 entries: the 30,000 most
//! frequent of Mark Burnett's 10 million password corpus as Dropbox's zxcvbn ranks them, MIT;
//! source and licence in `data/common_passwords.NOTICE`) — or made only of whitespace, or of
//! one character repeated. Pure; unit-tested here.

use std::collections::HashSet;
use std::sync::LazyLock;

/// One lower-case password a line, most common first.
const LIST: &str = include_str!("../data/common_passwords.txt");

/// The list as a set, built on first use (a few milliseconds, once per process).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// Why `password` is too easy to guess, or `None` when it is not.
pub fn weakness(password: &str) -> Option<&'static str> {
    if password.chars().all(char::is_whitespace) {
        return Some("must not be only whitespace");
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Some("must not be one character repeated");
        }
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Some("is one of the most common passwords: choose one that is harder to guess");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_long_lower_case_and_without_duplicates() {
        assert!(COMMON.len() >= 10_000, "{}", COMMON.len());
        assert_eq!(COMMON.len(), LIST.lines().count());
        assert!(LIST.lines().all(|p| p == p.to_lowercase() && !p.is_empty()));
    }

    #[test]
    fn common_blank_and_repeated_passwords_are_weak_in_any_case() {
        for weak in [
            "123456",
            "password1",
            "PassWord1",
            "QWERTY123",
            "iloveyou",
            "woaini",
        ] {
            assert!(weakness(weak).is_some(), "{weak}");
        }
        assert_eq!(weakness("      "), Some("must not be only whitespace"));
        assert_eq!(
            weakness("\t \u{3000}\n  "),
            Some("must not be only whitespace")
        );
        assert_eq!(
            weakness("zzzzzzzzzz"),
            Some("must not be one character repeated")
        );
        assert_eq!(
            weakness("密密密密密密"),
            Some("must not be one character repeated")
        );
        for fine in [
            "correct horse battery",
            "sixin-Test-pw-7",
            "我的密码很长很长",
        ] {
            assert_eq!(weakness(fine), None, "{fine}");
        }
    }
}
