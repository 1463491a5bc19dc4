//! The bodies the native API reads and writes, with their OpenAPI schemas:
//! [`request`] (bodies and query parameters → core commands) and [`response`] (core values →
//! bodies).

pub(crate) mod request;
pub(crate) mod response;

pub(crate) use request::*;
pub(crate) use response::*;
