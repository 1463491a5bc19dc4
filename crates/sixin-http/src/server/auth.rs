//! Server API authentication: `Authorization: Bearer <JWT>`. The adapter only pulls the token
//! out of the header; [`sixin_core::Core::authenticate_server`] decides everything else.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use sixin_core::AppCaller;

use crate::native::error::ApiError;
use crate::state::AppState;

/// The app backend behind the request's server token; `401 bad_server_token` (with the reason)
/// otherwise.
#[derive(Debug)]
pub(crate) struct Backend(pub AppCaller);

impl FromRequestParts<AppState> for Backend {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let caller = s.core.authenticate_server(bearer(&parts.headers)).await?;
        tracing::Span::current().record("app.id", caller.app_id().0);
        Ok(Backend(caller))
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_token_comes_from_a_bearer_authorization_header_only() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
        assert_eq!(bearer(&h), Some("a.b.c"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic a.b.c"));
        assert_eq!(bearer(&h), None);
    }
}
