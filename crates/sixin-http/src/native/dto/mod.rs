//! The bodies the native API reads and writes, with their OpenAPI schemas:
//! [`request`] (bodies and query parameters → core commands) and [`response`] (core values →
//! bodies), [`multi_send`] (per-recipient outcomes), [`blocks`] (the block list and the
//! who-may-message-me setting) and [`stream`] (the event stream's frames).

pub(crate) mod blocks;
pub(crate) mod multi_send;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;

pub(crate) use blocks::*;
pub(crate) use multi_send::*;
pub(crate) use request::*;
pub(crate) use response::*;
pub(crate) use stream::*;
