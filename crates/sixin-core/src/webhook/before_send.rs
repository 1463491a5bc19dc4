//! The before-send hook: an app's URL that sixin asks before committing a member's send. The
//! rules are here; the HTTP call is an adapter's ([`HookCaller`], implemented by
//! `sixin-webhooks` and injected by `sixin serve`).
//!
//! - The request is a POST of JSON ([`request_body`]), signed like a webhook (Standard
//!   Webhooks headers, with the hook's own `whsec_` secret).
//! - The answer ([`decide`]): a 2xx with an empty body or `{"action":"allow"}` allows the send
//!   unchanged; `{"action":"reject","code":…,"message":…}` refuses it
//!   ([`Error::RejectedByApp`](crate::Error::RejectedByApp)); `{"action":"replace","data":{…}}`
//!   sends `data` instead (validated again like any send). Anything else — no answer within
//!   the hook's timeout, a non-2xx status, a body that is none of those — is a failure, which
//!   the hook's [`OnFailure`] turns into allowing the send unchanged or refusing it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

use super::WebhookSecret;

/// The timeout when none is given.
pub const DEFAULT_TIMEOUT_MS: u32 = 1500;
/// The longest timeout an app may set.
pub const MAX_TIMEOUT_MS: u32 = 5000;
/// The shortest timeout an app may set.
pub const MIN_TIMEOUT_MS: u32 = 50;
/// The longest `code` and `message` of a rejection shown to the sender (longer ones are cut).
pub const MAX_REJECT_CODE_CHARS: usize = 64;
pub const MAX_REJECT_MESSAGE_CHARS: usize = 500;
/// The most answer bytes read.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a send does when the hook fails (down, slow, or answering nonsense).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// The send goes ahead unchanged (fail open; the default).
    #[default]
    Allow,
    /// The send is refused with [`Error::HookFailed`] (fail closed).
    Reject,
}

impl OnFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Allow => "allow",
            OnFailure::Reject => "reject",
        }
    }
}

/// An app's before-send hook, as stored with the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeforeSendHook {
    pub url: String,
    /// `whsec_…`: the key of the `webhook-signature` header (see [`super::sign`]).
    pub secret: String,
    pub timeout_ms: u32,
    #[serde(default)]
    pub on_failure: OnFailure,
}

impl BeforeSendHook {
    pub fn signing_secret(&self) -> WebhookSecret {
        WebhookSecret(self.secret.clone())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::from(
            self.timeout_ms.clamp(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS),
        ))
    }
}

/// Checks a timeout: `None` is the default; else [`MIN_TIMEOUT_MS`]..=[`MAX_TIMEOUT_MS`].
pub fn check_timeout(ms: Option<u32>) -> Result<u32> {
    match ms {
        None => Ok(DEFAULT_TIMEOUT_MS),
        Some(ms) if (MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&ms) => Ok(ms),
        Some(_) => Err(Error::invalid(
            "timeout_ms",
            format!("must be {MIN_TIMEOUT_MS}..{MAX_TIMEOUT_MS}"),
        )),
    }
}

/// One POST to a hook.
#[derive(Debug, Clone)]
pub struct HookRequest {
    pub url: String,
    pub body: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: [(&'static str, String); 3],
    /// How long the whole call may take.
    pub timeout: Duration,
}

/// What came of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookAnswer {
    /// An HTTP status and up to [`MAX_ANSWER_BYTES`] of the body.
    Answered { status: u16, body: Vec<u8> },
    /// No answer: refused target, connection failure, or timeout.
    NoAnswer(String),
}

/// Makes the HTTP call (an adapter; it decides nothing).
#[async_trait]
pub trait HookCaller: Send + Sync + 'static {
    async fn call(&self, req: HookRequest) -> HookAnswer;
}

/// What a hook's answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allow,
    Reject {
        code: String,
        message: String,
    },
    Replace(Value),
    /// The hook failed; why (for the log and a fail-closed refusal).
    Failed(String),
}

#[derive(Deserialize)]
struct Answer {
    action: String,
    code: Option<Value>,
    message: Option<String>,
    data: Option<Value>,
}

/// What `answer` means (see the module documentation).
pub fn decide(answer: &HookAnswer) -> Verdict {
    let (status, body) = match answer {
        HookAnswer::NoAnswer(why) => return Verdict::Failed(why.clone()),
        HookAnswer::Answered { status, body } => (*status, body),
    };
    if !(200..300).contains(&status) {
        return Verdict::Failed(format!("the hook answered HTTP {status}"));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Allow;
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return Verdict::Failed("the hook's answer is not a JSON object with an action".into());
    };
    match answer.action.as_str() {
        "allow" => Verdict::Allow,
        "reject" => {
            let code = match answer.code {
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                _ => "rejected".to_owned(),
            };
            let message = answer
                .message
                .unwrap_or_else(|| "the app rejected this message".to_owned());
            Verdict::Reject {
                code: code.chars().take(MAX_REJECT_CODE_CHARS).collect(),
                message: message.chars().take(MAX_REJECT_MESSAGE_CHARS).collect(),
            }
        }
        "replace" => match answer.data {
            Some(data @ Value::Object(_)) => Verdict::Replace(data),
            _ => Verdict::Failed("a replace answer needs a data object".into()),
        },
        other => Verdict::Failed(format!("unknown action {other:?}")),
    }
}

/// What a failure means for the send under `on_failure`: `Ok` to send unchanged, else the
/// refusal.
pub fn on_failure(on_failure: OnFailure, why: &str) -> Result<()> {
    match on_failure {
        OnFailure::Allow => Ok(()),
        OnFailure::Reject => Err(Error::HookFailed {
            reason: why.chars().take(200).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(body: &str) -> HookAnswer {
        HookAnswer::Answered {
            status: 200,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_mean_allow_reject_replace_or_failure() {
        assert_eq!(decide(&ok("")), Verdict::Allow);
        assert_eq!(decide(&ok(r#"{"action":"allow"}"#)), Verdict::Allow);
        assert_eq!(
            decide(&ok(r#"{"action":"reject","code":42,"message":"no"}"#)),
            Verdict::Reject {
                code: "42".into(),
                message: "no".into()
            }
        );
        assert_eq!(
            decide(&ok(r#"{"action":"replace","data":{"content":"x"}}"#)),
            Verdict::Replace(json!({"content":"x"}))
        );
        for bad in [
            r#"{"action":"replace"}"#,
            r#"{"action":"maybe"}"#,
            "nonsense",
        ] {
            assert!(matches!(decide(&ok(bad)), Verdict::Failed(_)), "{bad}");
        }
        let e = HookAnswer::Answered {
            status: 500,
            body: Vec::new(),
        };
        assert!(matches!(decide(&e), Verdict::Failed(_)));
        assert!(matches!(
            decide(&HookAnswer::NoAnswer("timeout".into())),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn timeouts_default_to_1500_ms_and_stay_within_bounds() {
        assert_eq!(check_timeout(None).unwrap(), 1500);
        assert_eq!(check_timeout(Some(5000)).unwrap(), 5000);
        assert!(check_timeout(Some(5001)).is_err());
        assert!(check_timeout(Some(0)).is_err());
        assert!(on_failure(OnFailure::Allow, "down").is_ok());
        assert!(matches!(
            on_failure(OnFailure::Reject, "down"),
            Err(Error::HookFailed { .. })
        ));
    }
}
