//! Discuz request parameters: read from the query string and from a form body (the body wins
//! where both name a parameter, as PHP's `$_REQUEST` does; within one source the last value
//! wins), their seed defaults and their syntax. Ranges that every dialect shares (the page
//! limit) are the core's to check.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use sixin_core::ids::ConversationId;
use sixin_core::store::HistoryWindow;

use super::error::DiscuzError;
use super::response::Reply;
use crate::state::AppState;

/// The plugin id this dialect answers for (`id=xinxiu_network:pm`).
pub(crate) const PLUGIN_ID: &str = "xinxiu_network:pm";

/// The seed's default page size ("默认10条").
const DEFAULT_LIMIT: u32 = 10;

/// Every parameter of one request, by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parameters from a query string and then a form body (later values win).
    pub(crate) fn parse(query: Option<&str>, body: &[u8]) -> Params {
        let query = form_urlencoded::parse(query.unwrap_or("").as_bytes());
        let body = form_urlencoded::parse(body);
        Params(
            query
                .chain(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value, trimmed; an empty value counts as absent ("可为空").
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// How the answer is rendered: JSON unless `output=xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// The format a query string asks for (`output=xml`), for answers given before the body is
    /// read.
    pub(crate) fn of_query(query: Option<&str>) -> Format {
        Format::of(&Params::parse(query, b""))
    }

    fn of(params: &Params) -> Format {
        match params.get("output") {
            Some(v) if v.eq_ignore_ascii_case("xml") => Format::Xml,
            _ => Format::Json,
        }
    }
}

/// A parsed Discuz request: its parameters, its output format and when it arrived (`sqltime`).
#[derive(Debug)]
pub(crate) struct DiscuzRequest {
    pub(crate) params: Params,
    pub(crate) format: Format,
    pub(crate) started: Instant,
}

impl DiscuzRequest {
    /// The reply to this request, in its format.
    pub(crate) fn reply(&self, outcome: Result<super::response::Node, DiscuzError>) -> Reply {
        Reply::new(outcome, self.format, self.started)
    }
}

impl FromRequest<AppState> for DiscuzRequest {
    type Rejection = Reply;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let started = Instant::now();
        let query = req.uri().query().map(str::to_owned);
        let form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let format = Format::of_query(query.as_deref());
        let fail = |e: DiscuzError| Reply::new(Err(e), format, started);
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                fail(DiscuzError::too_large())
            } else {
                fail(DiscuzError::bad_param(r.body_text()))
            }
        })?;
        if !body.is_empty() && !form {
            return Err(fail(DiscuzError::bad_param(
                "a request body must be application/x-www-form-urlencoded",
            )));
        }
        let params = Params::parse(query.as_deref(), &body);
        Ok(DiscuzRequest {
            format: Format::of(&params),
            params,
            started,
        })
    }
}

/// `action=pm_get`, as the core needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PmGet {
    pub(crate) plid: ConversationId,
    pub(crate) window: HistoryWindow,
    pub(crate) limit: u32,
    /// `sort=DESC`: the page is shown newest first.
    pub(crate) newest_first: bool,
}

/// `plids` (one positive conversation id), `start` (offset, default 0), `limit` (default 10;
/// the core checks its range) and `sort` (`DESC`, the default, or `ASC`, any case).
pub(crate) fn pm_get(params: &Params) -> Result<PmGet, DiscuzError> {
    let plid = match params.get("plids").map(str::parse::<i64>) {
        Some(Ok(id)) if id > 0 => ConversationId(id),
        Some(_) => return Err(DiscuzError::bad_param("plids must be a positive integer")),
        None => return Err(DiscuzError::bad_param("plids is required")),
    };
    let start = number(params, "start", 0)?;
    let limit = number(params, "limit", DEFAULT_LIMIT)?;
    let newest_first = match params.get("sort") {
        None => true,
        Some(s) if s.eq_ignore_ascii_case("desc") => true,
        Some(s) if s.eq_ignore_ascii_case("asc") => false,
        Some(_) => return Err(DiscuzError::bad_param("sort must be ASC or DESC")),
    };
    Ok(PmGet {
        plid,
        window: HistoryWindow::Offset {
            skip: start,
            newest_first,
        },
        limit,
        newest_first,
    })
}

/// A non-negative integer parameter, or `default` when absent.
fn number(params: &Params, name: &'static str, default: u32) -> Result<u32, DiscuzError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| DiscuzError::bad_param(format!("{name} must be a non-negative integer"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(Some(q), b"")
    }

    #[test]
    fn the_seed_example_request_parses_with_its_defaults() {
        let p = params("id=xinxiu_network%3Apm&token=abc&action=pm_get&plids=20&start=0&limit=5");
        assert_eq!(p.get("id"), Some(PLUGIN_ID));
        let cmd = pm_get(&p).unwrap();
        assert_eq!(cmd.plid, ConversationId(20));
        assert_eq!(cmd.limit, 5);
        assert!(cmd.newest_first);
        assert_eq!(
            cmd.window,
            HistoryWindow::Offset {
                skip: 0,
                newest_first: true
            }
        );
        let defaults = pm_get(&params("plids=7&start=&limit=")).unwrap();
        assert_eq!((defaults.limit, defaults.newest_first), (10, true));
        let asc = pm_get(&params("plids=7&start=3&sort=asc")).unwrap();
        assert_eq!(
            asc.window,
            HistoryWindow::Offset {
                skip: 3,
                newest_first: false
            }
        );
    }

    #[test]
    fn malformed_parameters_are_code_400() {
        for q in [
            "",
            "plids=0",
            "plids=-3",
            "plids=20,21",
            "plids=x",
            "plids=1&start=-1",
            "plids=1&limit=ten",
            "plids=1&sort=up",
        ] {
            let e = pm_get(&params(q)).unwrap_err();
            assert_eq!(e.code, 400, "{q}");
        }
    }

    #[test]
    fn the_form_body_wins_over_the_query_string() {
        let p = Params::parse(Some("plids=1&output=xml"), b"plids=2");
        assert_eq!(p.get("plids"), Some("2"));
        assert_eq!(Format::of(&p), Format::Xml);
        assert_eq!(Format::of(&params("output=json")), Format::Json);
    }
}
