//! [`HookClient`]: the HTTP side of the apps' before-send hooks. It makes the call the core
//! prepared (URL, signed body, timeout) under the same target policy as webhook deliveries
//! (no redirects, no proxies, private addresses refused unless allowed) and hands back the
//! status and the start of the body; the core decides what the answer means.

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use sixin_core::webhook::before_send::MAX_TIMEOUT_MS;
use sixin_core::webhook::before_send::{HookAnswer, HookCaller, HookRequest, MAX_ANSWER_BYTES};
use sixin_core::Core;

use crate::http;

/// Calls before-send hooks for one node. Build it once and give it to the core
/// ([`Core::set_hook_caller`]).
pub struct HookClient {
    client: reqwest::Client,
    core: Core,
}

impl HookClient {
    pub fn new(core: &Core) -> HookClient {
        let most = std::time::Duration::from_millis(u64::from(MAX_TIMEOUT_MS));
        HookClient {
            client: http::client(core, most),
            core: core.clone(),
        }
    }
}

#[async_trait]
impl HookCaller for HookClient {
    async fn call(&self, req: HookRequest) -> HookAnswer {
        if let Some(why) = http::refused(&self.core, &req.url) {
            return HookAnswer::NoAnswer(why);
        }
        let mut builder = self
            .client
            .post(&req.url)
            .timeout(req.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("sixin/", env!("CARGO_PKG_VERSION")))
            .body(req.body);
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        let mut res = match builder.send().await {
            Ok(res) => res,
            Err(e) => return HookAnswer::NoAnswer(http::describe(&e)),
        };
        let status = res.status().as_u16();
        let mut body = Vec::new();
        loop {
            match res.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_ANSWER_BYTES {
                        body.truncate(MAX_ANSWER_BYTES);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return HookAnswer::NoAnswer(http::describe(&e)),
            }
        }
        HookAnswer::Answered { status, body }
    }
}
