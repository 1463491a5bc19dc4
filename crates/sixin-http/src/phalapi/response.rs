//! Core results → PhalApi `data`, and the envelope `{"ret","data","msg"}` with the optional
//! `debug` block (`stack` timings, `sqls`, `version`) when the server enables it and the request
//! asks with `__debug__=1`.

use std::time::Instant;

use axum::response::Response;
use serde::Serialize;
use sixin_core::model::Sent;
use sixin_core::Error;

use super::error::PhalApiError;
use crate::common::envelope::{self, OK};

/// The serialised `data` object of a successful call.
#[derive(Debug)]
pub(super) struct Data(String);

impl Data {
    fn of<T: Serialize>(value: &T) -> Result<Data, PhalApiError> {
        serde_json::to_string(value)
            .map(Data)
            .map_err(|e| Error::Internal(Box::new(e)).into())
    }
}

#[derive(Serialize)]
struct SentData {
    id: String,
}

/// `Send` → `{"id": "3"}`: the message id as a string, as in the seed's example.
pub(super) fn sent(sent: &Sent) -> Result<Data, PhalApiError> {
    Data::of(&SentData {
        id: sent.message.id.0.to_string(),
    })
}

#[derive(Serialize)]
struct TokenData<'a> {
    access_token: &'a str,
    expires_in: i64,
}

/// `ApplyToken` → `{access_token, expires_in}`.
pub(super) fn token(access_token: &str, expires_in: i64) -> Result<Data, PhalApiError> {
    Data::of(&TokenData {
        access_token,
        expires_in,
    })
}

/// Timings for the `debug` block, taken only when it will be shown.
#[derive(Debug)]
pub(super) struct Trace {
    start: Instant,
    marks: Vec<(&'static str, f64)>,
}

impl Trace {
    pub(super) fn start() -> Trace {
        Trace {
            start: Instant::now(),
            marks: vec![("PHALAPI_INIT", 0.0)],
        }
    }

    pub(super) fn mark(&mut self, name: &'static str) {
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        self.marks.push((name, (ms * 10.0).round() / 10.0));
    }
}

#[derive(Serialize)]
struct DebugBlock {
    stack: Vec<String>,
    sqls: Vec<String>,
    version: &'static str,
}

/// The response: `{ret, data, msg}`, errors with `data` `{}`, plus `debug` when traced.
pub(super) fn envelope(result: Result<Data, PhalApiError>, trace: Option<Trace>) -> Response {
    let (ret, data, msg) = match result {
        Ok(Data(json)) => (OK, json, String::new()),
        Err(PhalApiError(f)) => (f.ret, "{}".to_owned(), f.msg),
    };
    let mut tail = Vec::new();
    if let Some(mut trace) = trace {
        trace.mark("PHALAPI_FINISH");
        let stack = trace
            .marks
            .iter()
            .enumerate()
            .map(|(i, (name, ms))| format!("[#{} - {ms}ms - {name}]sixin-http/phalapi", i + 1))
            .collect();
        let block = DebugBlock {
            stack,
            sqls: Vec::new(),
            version: env!("CARGO_PKG_VERSION"),
        };
        if let Ok(text) = serde_json::to_string(&block) {
            tail.push(("debug", text));
        }
    }
    envelope::respond(envelope::body(ret, &data, &msg, &tail))
}
