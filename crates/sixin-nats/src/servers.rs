//! Checking what an operator wrote before anything connects: NATS server URLs
//! (`nats://HOST[:PORT]`, `tls://HOST[:PORT]`, several comma-separated), and subject prefixes.
//! A URL may carry a user and password or a token, so [`redact`] hides them for logs and errors.

use url::Url;

use crate::NatsError;

/// Checks a server URL, or a comma-separated list of them, as [`NatsBus::connect`] takes it.
///
/// [`NatsBus::connect`]: crate::NatsBus::connect
pub fn check_url(url: &str) -> Result<(), NatsError> {
    parse(url).map(drop)
}

/// The servers named by `url`, each checked.
pub(crate) fn parse(url: &str) -> Result<Vec<String>, NatsError> {
    let invalid = |reason: String| NatsError::InvalidUrl {
        url: redact(url),
        reason,
    };
    if url.trim().is_empty() {
        return Err(invalid("it is empty".into()));
    }
    url.split(',')
        .map(str::trim)
        .map(|server| {
            let parsed = Url::parse(server).map_err(|e| {
                invalid(format!(
                    "{} is not a URL ({e}); write nats://HOST:PORT",
                    redact(server)
                ))
            })?;
            if !matches!(parsed.scheme(), "nats" | "tls") {
                return Err(invalid(format!(
                    "the scheme must be nats:// or tls://, not {}://",
                    parsed.scheme()
                )));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid(format!("{} names no host", redact(server))));
            }
            Ok(server.to_owned())
        })
        .collect()
}

/// `url` with any password, or a token in the user part, replaced by `***`.
pub fn redact(url: &str) -> String {
    url.split(',')
        .map(|server| {
            let server = server.trim();
            match Url::parse(server) {
                Ok(mut u) if u.password().is_some() => {
                    let _ = u.set_password(Some("***"));
                    u.to_string()
                }
                // nats://TOKEN@HOST: the user part is the secret.
                Ok(mut u) if !u.username().is_empty() => {
                    let _ = u.set_username("***");
                    u.to_string()
                }
                Ok(_) => server.to_owned(),
                Err(_) if server.contains('@') => "***".to_owned(),
                Err(_) => server.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks a subject prefix: one or more dot-separated tokens, without wildcards or whitespace.
pub fn check_subject_prefix(prefix: &str) -> Result<(), NatsError> {
    let invalid = |reason| NatsError::InvalidPrefix {
        prefix: prefix.to_owned(),
        reason,
    };
    if prefix.is_empty() {
        return Err(invalid("it is empty"));
    }
    if prefix.split('.').any(str::is_empty) {
        return Err(invalid(
            "tokens are separated by single dots, with none at the start or end",
        ));
    }
    if prefix.contains(['*', '>']) {
        return Err(invalid("it must not contain the wildcards * or >"));
    }
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it must not contain whitespace"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_and_tls_urls_are_accepted_alone_or_listed() {
        assert_eq!(parse("nats://127.0.0.1:4222").unwrap().len(), 1);
        assert_eq!(
            parse("nats://a:4222, tls://b:4222,nats://u:p@c").unwrap(),
            ["nats://a:4222", "tls://b:4222", "nats://u:p@c"]
        );
    }

    #[test]
    fn other_urls_are_rejected_with_the_reason() {
        for (url, reason) in [
            ("", "empty"),
            ("127.0.0.1:4222", "not a URL"),
            ("localhost", "not a URL"),
            ("http://127.0.0.1:4222", "not http://"),
            ("nats://a:4222,ws://b", "not ws://"),
            ("nats://", "no host"),
        ] {
            let err = check_url(url).unwrap_err().to_string();
            assert!(err.contains(reason), "{url}: {err}");
        }
    }

    #[test]
    fn secrets_never_show() {
        assert_eq!(redact("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(redact("nats://u:hunter2@h:1"), "nats://u:***@h:1");
        assert_eq!(redact("tls://s3cret@h"), "tls://***@h");
        assert_eq!(
            redact("nats://a:1,nats://u:pw@b:2"),
            "nats://a:1,nats://u:***@b:2"
        );
        let err = check_url("nats://u:hunter2@h:1,http://x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn prefixes_are_plain_subject_tokens() {
        for good in ["sixin", "prod.sixin", "t_0a1b", "a-b"] {
            check_subject_prefix(good).unwrap();
        }
        for bad in ["", ".sixin", "sixin.", "a..b", "a.*", "a>", "a b", "a\tb"] {
            assert!(check_subject_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
