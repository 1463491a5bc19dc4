//! YesApi's request signature and response tag, as its client SDKs compute them:
//!
//! - `sign` = upper-case hex MD5 of the values of every request parameter except `sign`,
//!   ordered by parameter name, concatenated, followed by the app secret.
//! - `_auth` = lower-case hex MD5 of the `data` JSON text exactly as it appears in the response
//!   body, followed by `_t` (decimal) and the app secret.
//!
//! During a rotation's grace period either secret makes a valid `sign`, and `_auth` is made
//! with the secret the request's `sign` was made with (the current one for unsigned requests).

use md5::{Digest, Md5};
use sixin_core::ids::AppSecret;
use sixin_core::model::App;
use sixin_core::service::Signing;
use sixin_core::{Core, Result};

use super::params::Params;

/// The text that is hashed into `sign`: the values (not names) of every parameter but `sign`,
/// ordered by name, then the secret.
pub(crate) fn canonical<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().filter(|(k, _)| *k != "sign").collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut text: String = pairs.into_iter().map(|(_, v)| v).collect();
    text.push_str(secret);
    text
}

/// The `sign` a client must send with these parameters.
pub(crate) fn sign<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
) -> String {
    hex::encode_upper(Md5::digest(canonical(params, secret).as_bytes()))
}

/// The request's `sign` parameter, normalised to upper case (hex digits in either case are
/// accepted).
fn given(params: &Params) -> Option<String> {
    params.get("sign").map(str::to_ascii_uppercase)
}

/// Asks the core whether the request's `sign` satisfies the app's signing policy `when`; the
/// core compares it with [`sign`] of the other parameters under each secret the app accepts
/// now, in constant time. The secret to tag the response with (`_auth`) when it does.
pub(crate) fn check<'a>(
    core: &Core,
    app: &'a App,
    when: Signing,
    params: &Params,
) -> Result<&'a AppSecret> {
    let given = given(params);
    core.check_signature(app, when, given.as_deref(), |secret| {
        sign(params.iter(), secret)
    })
}

/// The `_auth` tag of a response whose `data` serialises to `data_json` at time `t`.
pub(crate) fn auth_tag(data_json: &str, t: i64, secret: &str) -> String {
    hex::encode(Md5::digest(format!("{data_json}{t}{secret}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_string_is_values_by_name_then_secret_without_sign() {
        let params = [
            ("s", "App.Market_ChatMessage.Send"),
            ("app_key", "AK"),
            ("sign", "IGNORED"),
            ("other_uuid", "U2"),
            ("chat_message_data", "{\"content\":\"hi\"}"),
        ];
        assert_eq!(
            canonical(params, "SECRET"),
            "AK{\"content\":\"hi\"}U2App.Market_ChatMessage.SendSECRET"
        );
    }

    #[test]
    fn sign_is_upper_md5_and_auth_is_lower_md5() {
        // md5("abc") = 900150983cd24fb0d6963f7d28e17f72
        assert_eq!(
            sign([("x", "a"), ("y", "b")], "c"),
            "900150983CD24FB0D6963F7D28E17F72"
        );
        assert_eq!(auth_tag("a", 1, "bc"), hex::encode(Md5::digest(b"a1bc")));
        assert_eq!(
            auth_tag("{}", 1657513450, "S"),
            hex::encode(Md5::digest(b"{}1657513450S"))
        );
    }

    #[test]
    fn the_given_sign_matches_in_either_case_and_only_for_its_parameters() {
        let good = sign([("app_key", "K"), ("s", "A.B")], "SEC");
        let p = Params::parse(&format!("app_key=K&s=A.B&sign={good}"), None);
        assert_eq!(given(&p), Some(sign(p.iter(), "SEC")));
        let lower = Params::parse(
            &format!("app_key=K&s=A.B&sign={}", good.to_lowercase()),
            None,
        );
        assert_eq!(given(&lower), Some(sign(lower.iter(), "SEC")));
        assert_ne!(given(&p), Some(sign(p.iter(), "OTHER")));
        assert_eq!(given(&Params::parse("app_key=K&s=A.B", None)), None);
        let tampered = Params::parse(&format!("app_key=K&s=A.C&sign={good}"), None);
        assert_ne!(given(&tampered), Some(sign(tampered.iter(), "SEC")));
    }
}
