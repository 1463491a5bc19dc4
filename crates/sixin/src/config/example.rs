//! `sixin config example`: `crates/sixin/sixin.example.toml`, embedded. The file is the one
//! place where every key is explained; the tests below keep it equal to [`Config::default`], so
//! the defaults are stated in code and merely shown in the file.

/// `sixin config example`: every key, commented, with its default value.
pub const EXAMPLE: &str = include_str!("../../sixin.example.toml");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::Config;
    use super::EXAMPLE;

    /// Every `section.key` of a TOML table, nested tables joined with dots.
    fn keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
        let Some(table) = value.as_table() else {
            out.insert(prefix.to_owned());
            return;
        };
        for (name, child) in table {
            let path = match prefix {
                "" => name.clone(),
                _ => format!("{prefix}.{name}"),
            };
            keys(child, &path, out);
        }
    }

    fn keys_of(value: &toml::Value) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        keys(value, "", &mut out);
        out
    }

    /// The example with its commented-out settings (`# key = value`) switched on.
    fn uncommented() -> String {
        EXAMPLE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.split_once(" = ").is_some_and(|(k, _)| is_key(k)) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn is_key(s: &str) -> bool {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    }

    #[test]
    fn the_example_parses_to_exactly_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
        // Same values, and no key set in the file that the defaults leave out.
        let example: toml::Value = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(example, toml::Value::try_from(Config::default()).unwrap());
    }

    #[test]
    fn every_settable_key_appears_in_the_example() {
        // Keys without a default (nats.url) appear commented out; switched on, they must parse.
        let mut all = Config::default();
        all.nats.url = Some("nats://127.0.0.1:4222".into());
        let settable = keys_of(&toml::Value::try_from(&all).unwrap());
        let shown: toml::Value = toml::from_str(&uncommented()).unwrap();
        assert_eq!(keys_of(&shown), settable);
        let parsed: Config = toml::from_str(&uncommented()).unwrap();
        assert_eq!(parsed, all);
    }

    #[test]
    fn every_key_is_explained_by_a_comment() {
        let lines: Vec<&str> = EXAMPLE.lines().collect();
        for pair in lines.windows(2) {
            if pair[1].split_once(" = ").is_some_and(|(k, _)| is_key(k)) {
                assert!(pair[0].starts_with('#'), "no comment above {:?}", pair[1]);
            }
        }
    }
}
