//! Pieces the PhalApi-family dialects (YesApi and APIUSB/PhalApi) share. Nothing here decides a
//! messaging rule; these are request syntax and envelope mechanics only.
//!
//! - `params`: the request's parameters, query string and form body merged (PHP's `$_REQUEST`).
//! - `sign`: YesApi's MD5 request signature (canonical string) and the `_auth` response tag.
//! - `envelope`: the `ret` code table, core errors → `ret`, and the `{ret, data, msg}` body text.
//! - `time`: `YYYY-MM-DD HH:MM:SS` in a configured time zone.
//! - `message`: the shared `chat_message_type` / `chat_message_data` parameters.

pub(crate) mod envelope;
pub(crate) mod message;
pub(crate) mod params;
pub(crate) mod sign;
pub(crate) mod time;
