//! Cross-origin access for browsers (CORS) on the native API under `/v1`, event stream
//! included. Off unless `http.cors_allowed_origins` names origins: with none, no CORS header is
//! ever sent and browsers keep pages of other origins out. Dialect paths never get CORS headers.
//!
//! Tokens travel in `Authorization`, not cookies, so credentials are not allowed and `*` (any
//! origin) is accepted as the single entry.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer as _, ServiceExt as _};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers a browser page may send (beyond the CORS-safelisted ones).
const ALLOWED_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    HeaderName::from_static("last-event-id"),
    HeaderName::from_static("x-request-id"),
];

/// The response headers a browser page may read (beyond the CORS-safelisted ones).
const EXPOSED_HEADERS: [HeaderName; 2] =
    [header::RETRY_AFTER, HeaderName::from_static("x-request-id")];

/// How long a browser may cache a preflight answer.
const MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer for `origins`, or `None` when there are none (then no CORS header is ever
/// sent). Origins are checked by the configuration loader ([`check_origin`]); any that does not
/// make a header value is skipped.
pub(crate) fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(MAX_AGE),
    )
}

/// The outermost middleware: requests under `/v1` pass through `cors`, so the refusals made
/// further in (a timeout, a too-long target, a panic) carry CORS headers too and a browser
/// page can read them; other paths pass untouched.
pub(crate) async fn v1_only(State(cors): State<CorsLayer>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/v1" && !path.starts_with("/v1/") {
        return next.run(req).await;
    }
    match cors.layer(next).oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Whether `origin` is a value `http.cors_allowed_origins` accepts: `*`, or
/// `scheme://host[:port]` as browsers send it in `Origin` (no path, no trailing slash).
pub fn check_origin(origin: &str) -> Result<(), String> {
    if origin == "*" {
        return Ok(());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("{origin:?} must start with https:// or http://"))?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b);
    if rest.is_empty() || !rest.bytes().all(plain) {
        return Err(format!(
            "{origin:?} must be scheme://host[:port] exactly as browsers send Origin (no path, no trailing slash)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_port_or_star() {
        for ok in [
            "*",
            "https://app.example.com",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert_eq!(check_origin(ok), Ok(()), "{ok}");
        }
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://a.com/x",
            "https://",
            "ftp://a",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
