//! [`Params`]: every request parameter of a PhalApi-family request, as PHP's `$_REQUEST` sees
//! them: the query string, then an `application/x-www-form-urlencoded` body on top (a body value
//! replaces a query value of the same name). Values are percent-decoded; the signature is
//! computed over these decoded values, as the client SDKs sign them before encoding.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sixin_core::Error;

/// Request parameters by name (the last occurrence of a name wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(BTreeMap<String, String>);

/// Why the parameters could not be read; dialects render it as `ret 400`.
#[derive(Debug)]
pub(crate) struct ParamsRejection(pub String);

/// Dialects take `Result<Params, ParamsRejection>` and render their own envelope; this is only
/// the fallback should a handler take `Params` directly.
impl IntoResponse for ParamsRejection {
    fn into_response(self) -> Response {
        super::envelope::respond(super::envelope::body(
            super::envelope::BAD_REQUEST,
            "{}",
            &self.0,
            &[],
        ))
    }
}

impl Params {
    /// Parameters from a query string and, if given, a form-encoded body.
    pub(crate) fn parse(query: &str, form: Option<&[u8]>) -> Params {
        let mut map = BTreeMap::new();
        let pairs = form_urlencoded::parse(query.as_bytes())
            .chain(form.into_iter().flat_map(form_urlencoded::parse));
        for (k, v) in pairs {
            map.insert(k.into_owned(), v.into_owned());
        }
        Params(map)
    }

    /// Every parameter, ordered by name (byte order, as PHP's `ksort` orders these names).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A parameter's value; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter: `Invalid` naming it when absent or empty.
    pub(crate) fn required(&self, name: &'static str) -> Result<&str, Error> {
        self.get(name)
            .ok_or_else(|| Error::invalid(name, "is required"))
    }

    /// An optional integer parameter with a default, checked against `min..=max`.
    pub(crate) fn int(
        &self,
        name: &'static str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Result<i64, Error> {
        let value = match self.get(name) {
            None => default,
            Some(raw) => raw
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::invalid(name, "must be an integer"))?,
        };
        if (min..=max).contains(&value) {
            Ok(value)
        } else if max == i64::MAX {
            Err(Error::invalid(name, format!("must be at least {min}")))
        } else {
            Err(Error::invalid(name, format!("must be {min}..{max}")))
        }
    }

    /// The service named by `s`, else by `service`.
    pub(crate) fn service(&self) -> Option<&str> {
        self.get("s").or_else(|| self.get("service"))
    }

    /// Whether a flag parameter is exactly `1`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("1")
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ParamsRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ParamsRejection("request body too large".to_owned())
            } else {
                ParamsRejection(format!("unreadable request body: {}", r.body_text()))
            }
        })?;
        Ok(Params::parse(&query, form.then_some(&body[..])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_values_replace_query_values_and_are_decoded() {
        let p = Params::parse("a=1&b=x%20y&c=", Some(b"a=2&d=hello+word"));
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.get("d"), Some("hello word"));
        let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn integers_have_defaults_and_bounds() {
        let p = Params::parse("perpage=0&page=x&n=7", None);
        assert_eq!(p.int("missing", 20, 1, 100).unwrap(), 20);
        assert_eq!(p.int("n", 20, 1, 100).unwrap(), 7);
        assert!(p.int("perpage", 20, 1, 100).is_err());
        assert!(p.int("page", 1, 1, 100).is_err());
    }

    #[test]
    fn service_comes_from_s_then_service() {
        assert_eq!(
            Params::parse("service=A.B.C", None).service(),
            Some("A.B.C")
        );
        assert_eq!(
            Params::parse("s=X.Y&service=A.B", None).service(),
            Some("X.Y")
        );
        assert_eq!(Params::parse("", None).service(), None);
    }
}
