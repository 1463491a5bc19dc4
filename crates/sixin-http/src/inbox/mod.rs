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

/// One embedded file: its name under `/inbox/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// Every file of the inbox. `index.html` is also served at `/inbox/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../inbox/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../inbox/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../inbox/api.js"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../inbox/dom.js"),
    },
    Asset {
        name: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../inbox/i18n.js"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../inbox/style.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../inbox/icon.svg"),
    },
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
                (header::CONTENT_TYPE, asset.content_type),
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
