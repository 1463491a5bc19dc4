//! The before-send hook: configuring it (server API, CLI) and asking it before a member's send
//! is committed. What an answer means is decided in [`crate::webhook::before_send`].

use std::sync::Arc;

use rand::RngCore;
use serde_json::{json, Value};

use crate::caller::{AppCaller, Caller};
use crate::error::{Error, Result};
use crate::ids::{ConversationId, MemberUuid};
use crate::model::App;
use crate::store::NewContent;
use crate::webhook::before_send::{self, BeforeSendHook, HookAnswer, HookRequest, Verdict};
use crate::webhook::{sign, target, HookCaller, OnFailure, WebhookSecret};
use crate::Core;

/// A before-send hook as the app's backend sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeforeSendSpec {
    pub url: String,
    /// Default [`before_send::DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: Option<u32>,
    /// Default [`OnFailure::Allow`].
    pub on_failure: Option<OnFailure>,
}

/// Where a screened send goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HookTo<'a> {
    Member(&'a MemberUuid),
    Conversation(ConversationId),
}

impl Core {
    /// Gives this core (and every clone) the adapter that calls before-send hooks. Without one,
    /// a configured hook counts as failed on every send (its `on_failure` applies). Only the
    /// first call counts.
    pub fn set_hook_caller(&self, caller: Arc<dyn HookCaller>) {
        let _ = self.inner.hook_caller.set(caller);
    }

    /// Sets the app's before-send hook with a fresh secret (shown in the returned app only).
    /// The URL is held to the webhook target rules ([`target::check_url`]); the timeout to
    /// [`before_send::check_timeout`].
    pub async fn set_before_send(&self, caller: &AppCaller, spec: BeforeSendSpec) -> Result<App> {
        let url = target::check_url(&spec.url, self.config().webhooks.allow_private_targets)?;
        let hook = BeforeSendHook {
            url,
            secret: WebhookSecret::generate().0,
            timeout_ms: before_send::check_timeout(spec.timeout_ms)?,
            on_failure: spec.on_failure.unwrap_or_default(),
        };
        let value = serde_json::to_value(&hook).map_err(|e| Error::Internal(Box::new(e)))?;
        self.store()
            .set_before_send(caller.app_id(), Some(value))
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Removes the app's before-send hook (none: nothing to do).
    pub async fn clear_before_send(&self, caller: &AppCaller) -> Result<App> {
        self.store()
            .set_before_send(caller.app_id(), None)
            .await?
            .ok_or(Error::UnknownApp)
    }

    /// Asks the caller's app's hook (if it has one) about `content` going `to`: the content to
    /// send (the same, or the hook's replacement validated again like any send), or the
    /// refusal.
    pub(crate) async fn screen_send(
        &self,
        caller: &Caller,
        to: HookTo<'_>,
        content: NewContent,
    ) -> Result<NewContent> {
        let Some(hook) = caller.app().before_send.clone() else {
            return Ok(content);
        };
        let (recipient, conversation) = match to {
            HookTo::Member(uuid) => (Some(uuid.as_str().to_owned()), None),
            HookTo::Conversation(id) => (None, Some(id.0)),
        };
        let body = json!({
            "type": "message.before_send",
            "app": caller.app().key.to_string(),
            "sender": caller.uuid().as_str(),
            "recipient": recipient,
            "conversation": conversation,
            "message": {
                "type": content.kind.as_str(),
                "data": content.data,
                "ext_data": content.ext_data,
            },
        })
        .to_string();
        let answer = self.call_hook(&hook, body).await;
        match before_send::decide(&answer) {
            Verdict::Allow => Ok(content),
            Verdict::Reject { code, message } => Err(Error::RejectedByApp { code, message }),
            Verdict::Replace(data) => {
                let NewContent {
                    kind,
                    ext_data,
                    client_msg_id,
                    ..
                } = content;
                // Validated again, word filter included, as if the member had sent it.
                self.content(caller, kind, data, ext_data, client_msg_id)
                    .await
            }
            Verdict::Failed(why) => {
                tracing::warn!(
                    app.id = %caller.app_id(),
                    on_failure = hook.on_failure.as_str(),
                    "before-send hook failed: {why}"
                );
                before_send::on_failure(hook.on_failure, &why).map(|()| content)
            }
        }
    }

    async fn call_hook(&self, hook: &BeforeSendHook, body: String) -> HookAnswer {
        let Some(client) = self.inner.hook_caller.get() else {
            return HookAnswer::NoAnswer("this node cannot call before-send hooks".into());
        };
        let mut raw = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut raw);
        let id = format!(
            "bs_{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let ts = self.now().unix_seconds();
        let signature = sign::signature(&hook.signing_secret(), &id, ts, &body);
        let timeout = hook.timeout();
        let req = HookRequest {
            url: hook.url.clone(),
            body,
            headers: [
                ("webhook-id", id),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", signature),
            ],
            timeout,
        };
        match tokio::time::timeout(timeout, client.call(req)).await {
            Ok(answer) => answer,
            Err(_) => HookAnswer::NoAnswer(format!("no answer within {} ms", hook.timeout_ms)),
        }
    }
}

/// The hook's JSON as the server API shows it (the secret only when `with_secret`).
pub fn before_send_json(hook: &BeforeSendHook, with_secret: bool) -> Value {
    let mut v = json!({
        "url": hook.url,
        "timeout_ms": hook.timeout_ms,
        "on_failure": hook.on_failure.as_str(),
    });
    if with_secret {
        v["secret"] = Value::String(hook.secret.clone());
    }
    v
}
