//! The bodies the native API reads and writes, with their OpenAPI schemas:
//! [`request`] (bodies and query parameters → core commands) and [`response`] (core values →
//! bodies) and [`stream`] (the event stream's frames).

pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;

pub(crate) use request::*;
pub(crate) use response::*;
pub(crate) use stream::*;
