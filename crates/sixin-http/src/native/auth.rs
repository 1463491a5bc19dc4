//! Native authentication: `Authorization: Bearer <token>`. The adapter only pulls the token out
//! of the header; [`sixin_core::Core::authenticate`] decides whether it is a live session.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use sixin_core::{Caller, Error};

use super::error::ApiError;
use crate::state::AppState;

/// The authenticated member behind the request's Bearer token. Missing, malformed, unknown,
/// expired or revoked tokens are `401 unauthenticated`; banned members `403 banned`.
#[derive(Debug)]
pub(crate) struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)?;
        let caller = s.core.authenticate(token).await?;
        let span = tracing::Span::current();
        span.record("app.id", caller.app_id().0);
        span.record("member.id", caller.member_id().0);
        Ok(Authed(caller))
    }
}

/// The raw Bearer token, for logout (which revokes it rather than authenticating with it).
#[derive(Debug)]
pub(crate) struct BearerToken(pub String);

impl FromRequestParts<AppState> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(BearerToken(bearer(&parts.headers)?.to_owned()))
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::Unauthenticated)?;
    let (scheme, token) = value.split_once(' ').ok_or(Error::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::Unauthenticated);
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn bearer_tokens_are_taken_from_the_authorization_header_only() {
        assert_eq!(bearer(&headers("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(&headers("bearer  abc ")).unwrap(), "abc");
        assert!(bearer(&headers("Basic abc")).is_err());
        assert!(bearer(&headers("Bearer")).is_err());
        assert!(bearer(&HeaderMap::new()).is_err());
    }
}
