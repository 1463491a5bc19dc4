//! The web inbox at `/inbox/`: a client of the native API and `/v1/events` for an app's
//! members, served as static files embedded at compile time (plain ES modules and CSS, no build
//! step). It decides nothing: every rule stays behind `/v1`. Every response carries a strict
//! Content-Security-Policy (no inline script or style; the page may be framed only by
//! `http.inbox_frame_ancestors`) and the other usual security headers. Files go gzipped to
//! clients that accept it (compressed once, on first use), with `Vary: Accept-Encoding`.

use std::io::Write;
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// One embedded file: its name under `/inbox/` and its bytes.
struct Asset {
    name: &'static str,
    body: &'static str,
}

impl Asset {
    /// The content type, by the file's extension.
    fn content_type(&self) -> &'static str {
        match self.name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        }
    }
}

/// `asset!("app.js")`: the file `crates/sixin-http/inbox/app.js`, embedded.
macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("../../inbox/", $name)),
        }
    };
}

/// Every file of the inbox. `index.html` is also served at `/inbox/`.
const ASSETS: &[Asset] = &[
    asset!("index.html"),
    asset!("app.js"),
    asset!("api.js"),
    asset!("dom.js"),
    asset!("i18n.js"),
    asset!("render.js"),
    asset!("groups.js"),
    asset!("composer.js"),
    asset!("style.css"),
    asset!("icon.svg"),
];

/// The headers every inbox response carries, built once from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct InboxHeaders {
    csp: HeaderValue,
}

impl InboxHeaders {
    /// `frame_ancestors`: CSP sources allowed to frame the inbox (`'self'`,
    /// `https://app.example.com`, `'none'`); empty means `'none'`.
    pub(crate) fn new(frame_ancestors: &[String]) -> InboxHeaders {
        let ancestors = if frame_ancestors.is_empty() {
            "'none'".to_owned()
        } else {
            frame_ancestors.join(" ")
        };
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors {ancestors}"
        );
        InboxHeaders {
            csp: HeaderValue::from_str(&csp).unwrap_or_else(|_| {
                HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
            }),
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(|| async { Redirect::permanent("/inbox/") }))
        .route("/inbox/", get(index))
        .route("/inbox/{file}", get(file))
}

async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    serve(&s.inbox, "index.html", accepts_gzip(&headers))
}

async fn file(State(s): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&s.inbox, &name, accepts_gzip(&headers))
}

/// Each asset gzipped (in [`ASSETS`] order), made on first use.
fn gzipped() -> &'static [Vec<u8>] {
    static GZIPPED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    GZIPPED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                // Writing to a Vec cannot fail.
                let _ = gz.write_all(a.body.as_bytes());
                gz.finish().unwrap_or_default()
            })
            .collect()
    })
}

/// Whether `Accept-Encoding` accepts gzip: `gzip` (or `x-gzip`) with a q-value above 0, or
/// else `*` with one.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

fn serve(h: &InboxHeaders, name: &str, gzip: bool) -> Response {
    let found = ASSETS.iter().position(|a| a.name == name);
    let mut response = match found {
        Some(i) => {
            let asset = &ASSETS[i];
            let mut response = (
                [
                    (header::CONTENT_TYPE, asset.content_type()),
                    (header::CACHE_CONTROL, "no-cache"),
                    (header::VARY, "accept-encoding"),
                ],
                asset.body,
            )
                .into_response();
            match gzipped().get(i) {
                Some(gz) if gzip && !gz.is_empty() && gz.len() < asset.body.len() => {
                    *response.body_mut() = axum::body::Body::from(gz.as_slice());
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                _ => {}
            }
            response
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, h.csp.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_names_is_embedded() {
        // Every module is preloaded by name, so the first load is one round of requests.
        let index = ASSETS[0].body;
        for asset in &ASSETS[1..] {
            assert!(index.contains(asset.name), "{} not linked", asset.name);
        }
        for imported in ASSETS
            .iter()
            .flat_map(|a| a.body.split("from \"./").skip(1))
        {
            let name = imported.split('"').next().unwrap_or_default();
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} not embedded");
        }
    }

    #[test]
    fn each_asset_has_the_content_type_of_its_extension() {
        // Browsers refuse ES modules served with another type.
        let types: Vec<(&str, &str)> = ASSETS.iter().map(|a| (a.name, a.content_type())).collect();
        assert!(types.contains(&("app.js", "text/javascript; charset=utf-8")));
        assert!(types.contains(&("index.html", "text/html; charset=utf-8")));
        assert!(types.contains(&("style.css", "text/css; charset=utf-8")));
        assert!(types.contains(&("icon.svg", "image/svg+xml")));
        assert!(types.iter().all(|(_, t)| *t != "application/octet-stream"));
    }

    #[test]
    fn gzip_is_chosen_by_accept_encoding() {
        let accepts = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        assert!(!accepts_gzip(&HeaderMap::new()));
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("*;q=0"));
        assert!(!accepts("identity"));
    }

    #[test]
    fn frame_ancestors_come_from_the_configuration() {
        let h = InboxHeaders::new(&["'self'".into(), "https://app.example".into()]);
        let csp = h.csp.to_str().unwrap();
        assert!(csp.ends_with("frame-ancestors 'self' https://app.example"));
        assert!(!csp.contains("unsafe-inline"));
        let none = InboxHeaders::new(&[]);
        assert!(none
            .csp
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors 'none'"));
    }
}
