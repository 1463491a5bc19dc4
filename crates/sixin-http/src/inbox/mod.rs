//! The web inbox at `/inbox/`: a client of the native API and `/v1/events` for an app's
//! members, served as static files embedded at compile time (plain ES modules and CSS, no build
//! step). It decides nothing: every rule stays behind `/v1`. Every response carries a strict
//! Content-Security-Policy (no inline script or style; the page may be framed only by
//! `http.inbox_frame_ancestors`) and the other usual security headers.

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
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
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
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

async fn index(State(s): State<AppState>) -> Response {
    serve(&s.inbox, "index.html")
}

async fn file(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    serve(&s.inbox, &name)
}

fn serve(h: &InboxHeaders, name: &str) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name);
    let mut response = match found {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type()),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            asset.body,
        )
            .into_response(),
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
        let index = ASSETS[0].body;
        for asset in &ASSETS[1..] {
            if asset.name.ends_with(".js") && asset.name != "app.js" {
                continue; // imported by app.js
            }
            assert!(index.contains(asset.name), "{} not linked", asset.name);
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
