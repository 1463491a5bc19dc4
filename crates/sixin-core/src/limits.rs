//! [`Limits`]: the rate limits and flood controls of issue 12, as the operator configures them
//! (`[limits]` in the config file) and as each app overrides them (the app's `limits` JSON,
//! set through the CLI). Only the values live here; the core enforces them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::Throttle;
use crate::ids::{AppId, MemberId, Timestamp};
use crate::model::App;

mod check;
pub use check::{LimitsError, MAX_LOGIN_DELAY_SECS};

/// A token bucket: `burst` tokens at most, refilled at `per` tokens every `secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Tokens refilled every `secs` seconds (the sustained rate is `per / secs`).
    pub per: u32,
    /// The refill period in seconds.
    pub secs: u32,
    /// The bucket's size: how many may be spent at once after a quiet spell.
    pub burst: u32,
}

/// Every limit, with the defaults an app has unless the operator changes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Messages a member sends (a multi-send spends one per recipient): 10 per second, bursts
    /// of 200 (one full multi-send). The app's backend is not held to it.
    pub sends: Quota,
    /// New direct conversations a member may open in any 24 hours (UCenter's daily cap),
    /// counted exactly in the database. The app's backend is not held to it.
    pub new_direct_per_day: u32,
    /// Registrations from one client IP: 20 per hour.
    pub registrations_per_ip: Quota,
    /// Password logins from one client IP: 30 per minute.
    pub logins_per_ip: Quota,
    /// Wrong passwords in a row an account takes before each further attempt must wait.
    pub failed_logins_free: u32,
    /// The first wait in seconds after `failed_logins_free` failures; it doubles with each
    /// further failure …
    pub failed_login_delay_secs: u32,
    /// … up to this many seconds.
    pub failed_login_max_delay_secs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sends: Quota {
                per: 10,
                secs: 1,
                burst: 200,
            },
            new_direct_per_day: 100,
            registrations_per_ip: Quota {
                per: 20,
                secs: 3600,
                burst: 20,
            },
            logins_per_ip: Quota {
                per: 30,
                secs: 60,
                burst: 30,
            },
            failed_logins_free: 5,
            failed_login_delay_secs: 1,
            failed_login_max_delay_secs: 900,
        }
    }
}

impl Limits {
    /// These limits with the app's overrides applied key by key. An override that does not fit
    /// (unknown key, wrong type) is ignored as a whole and logged: the app keeps the defaults
    /// rather than losing its limits. Overrides are validated when they are set.
    pub fn for_app(&self, app: &App) -> Limits {
        match &app.limits {
            None => *self,
            Some(over) => self.with(over).unwrap_or_else(|e| {
                tracing::warn!(app.id = %app.id, error = %e, "ignoring the app's limits");
                *self
            }),
        }
    }

    /// These limits with `over` (a JSON object of some of the keys; a quota's parts may be
    /// given one by one) applied; an error when a
    /// key is unknown, a value has the wrong type, or the result fails [`Limits::validate`].
    pub fn with(&self, over: &Value) -> Result<Limits, serde_json::Error> {
        let mut merged = serde_json::to_value(self)?;
        if let (Value::Object(base), Value::Object(over)) = (&mut merged, over) {
            for (k, v) in over {
                match (base.get_mut(k), v) {
                    // A quota's parts one by one: `{"logins_per_ip": {"per": 60}}`.
                    (Some(Value::Object(quota)), Value::Object(parts)) => {
                        quota.extend(parts.iter().map(|(p, v)| (p.clone(), v.clone())));
                    }
                    _ => {
                        base.insert(k.clone(), v.clone());
                    }
                }
            }
        } else {
            return Err(serde::de::Error::custom("limits must be a JSON object"));
        }
        let limits: Limits = serde_json::from_value(merged)?;
        limits.validate().map_err(|e| {
            let key = e.key.trim_start_matches("limits.");
            serde::de::Error::custom(format!("{key} {}", e.reason))
        })?;
        Ok(limits)
    }
}

/// What a bucket counts, and for whom. Buckets live in one node's memory (see
/// [`Buckets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketKey {
    /// Messages sent by a member.
    Sends(MemberId),
    /// Registrations from a client IP, per app.
    Registrations(AppId, IpAddr),
    /// Password logins from a client IP, per app.
    Logins(AppId, IpAddr),
}

impl BucketKey {
    /// The policy name the `RateLimit-Policy` header shows.
    pub fn policy(&self) -> &'static str {
        match self {
            BucketKey::Sends(_) => "sends",
            BucketKey::Registrations(..) => "registrations",
            BucketKey::Logins(..) => "logins",
        }
    }
}

/// One bucket: its tokens when last touched, and when it will be full again (from then on it
/// is the same as no bucket, so it can be forgotten).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
    full_at: Timestamp,
}

impl Quota {
    /// Tokens refilled per millisecond.
    fn rate_per_ms(&self) -> f64 {
        f64::from(self.per) / (f64::from(self.secs.max(1)) * 1000.0)
    }

    /// A bucket's tokens at `now`, refilled since `b.at` and capped at `burst`.
    fn refill(&self, b: Bucket, now: Timestamp) -> f64 {
        let elapsed = (now.0 - b.at.0).max(0) as f64;
        (b.tokens + elapsed * self.rate_per_ms()).min(f64::from(self.burst))
    }

    /// A bucket holding `tokens` at `now`.
    fn bucket(&self, tokens: f64, now: Timestamp) -> Bucket {
        let rate = self.rate_per_ms();
        let missing = (f64::from(self.burst) - tokens).max(0.0);
        let ms = if rate > 0.0 {
            (missing / rate).ceil()
        } else {
            1e15
        };
        Bucket {
            tokens,
            at: now,
            full_at: Timestamp(now.0.saturating_add(ms as i64)),
        }
    }

    /// The refusal for wanting `want` tokens while `have` are there.
    fn throttle(&self, policy: &'static str, have: f64, want: u32) -> Throttle {
        let missing = (f64::from(want.min(self.burst.max(1))) - have).max(0.0);
        // `missing * period / per`, in that order: dividing by the rate first would round
        // 1 / (2 per 3600 s) up to 1801 s.
        let period_ms = f64::from(self.secs.max(1)) * 1000.0;
        let wait_ms = if self.per > 0 {
            missing * period_ms / f64::from(self.per)
        } else {
            f64::MAX
        };
        Throttle {
            policy,
            quota: u64::from(self.per),
            window_secs: u64::from(self.secs),
            retry_after_secs: ((wait_ms / 1000.0).ceil() as u64).max(1),
        }
    }
}

/// Token buckets in this node's memory, keyed by [`BucketKey`]. Each node limits on its own:
/// with several nodes behind a balancer a client that reaches all of them gets up to that many
/// times the quota (see the README). Buckets that have refilled completely are forgotten when
/// the map grows, so memory follows the active keys only.
#[derive(Debug, Default)]
pub struct Buckets {
    map: Mutex<HashMap<BucketKey, Bucket>>,
}

/// When the map holds this many buckets, full ones are dropped on the next take.
const PRUNE_AT: usize = 100_000;

impl Buckets {
    /// Takes `n` tokens from `key`'s bucket under `quota`, all or nothing: `Err` with when to
    /// retry if fewer are there (nothing is taken then).
    pub fn take(
        &self,
        key: BucketKey,
        quota: Quota,
        n: u32,
        now: Timestamp,
    ) -> Result<(), Throttle> {
        match self.take_up_to(key, quota, n, now) {
            (taken, None) if taken == n => Ok(()),
            (taken, refusal) => {
                self.give_back(key, quota, taken, now);
                Err(refusal.unwrap_or_else(|| quota.throttle(key.policy(), 0.0, n)))
            }
        }
    }

    /// Takes as many of `n` tokens as are there (whole tokens): how many were taken, and the
    /// refusal for the rest (`None` when all were taken). A multi-send sends to that many
    /// recipients and reports the rest as rate limited.
    pub fn take_up_to(
        &self,
        key: BucketKey,
        quota: Quota,
        n: u32,
        now: Timestamp,
    ) -> (u32, Option<Throttle>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_AT {
            map.retain(|_, b| b.full_at > now);
        }
        let full = Bucket {
            tokens: f64::from(quota.burst),
            at: now,
            full_at: now,
        };
        let bucket = map.entry(key).or_insert(full);
        let have = quota.refill(*bucket, now);
        let taken = (have.floor() as u32).min(n);
        *bucket = quota.bucket(have - f64::from(taken), now);
        let refusal =
            (taken < n).then(|| quota.throttle(key.policy(), have - f64::from(taken), n - taken));
        (taken, refusal)
    }

    /// Returns `n` tokens to a bucket (an all-or-nothing take that failed part way).
    fn give_back(&self, key: BucketKey, quota: Quota, n: u32, now: Timestamp) {
        if n == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = map.get_mut(&key) {
            let tokens = (quota.refill(*b, now) + f64::from(n)).min(f64::from(quota.burst));
            *b = quota.bucket(tokens, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quota = Quota {
        per: 2,
        secs: 1,
        burst: 4,
    };

    #[test]
    fn a_bucket_spends_its_burst_then_refills_at_its_rate() {
        let b = Buckets::default();
        let k = BucketKey::Sends(MemberId(1));
        for _ in 0..4 {
            assert_eq!(b.take(k, Q, 1, Timestamp(0)), Ok(()));
        }
        let refused = b.take(k, Q, 1, Timestamp(0)).unwrap_err();
        assert_eq!(
            (refused.policy, refused.quota, refused.window_secs),
            ("sends", 2, 1)
        );
        assert_eq!(refused.retry_after_secs, 1);
        // Half a second refills one token (2 per second), not two.
        assert_eq!(b.take(k, Q, 1, Timestamp(500)), Ok(()));
        assert!(b.take(k, Q, 1, Timestamp(500)).is_err());
        // Another member has their own bucket.
        assert_eq!(
            b.take(BucketKey::Sends(MemberId(2)), Q, 4, Timestamp(500)),
            Ok(())
        );
    }

    #[test]
    fn take_is_all_or_nothing_and_take_up_to_takes_what_is_there() {
        let b = Buckets::default();
        let k = BucketKey::Sends(MemberId(1));
        assert_eq!(b.take_up_to(k, Q, 3, Timestamp(0)).0, 3);
        assert!(b.take(k, Q, 2, Timestamp(0)).is_err());
        // The failed take left the one token there.
        let (taken, rest) = b.take_up_to(k, Q, 3, Timestamp(0));
        assert_eq!(taken, 1);
        assert_eq!(rest.unwrap().retry_after_secs, 1);
        // One token at 2 per hour is exactly 1800 s away, not a rounding error more.
        let hourly = Quota {
            per: 2,
            secs: 3600,
            burst: 2,
        };
        let k = BucketKey::Sends(MemberId(2));
        assert_eq!(b.take(k, hourly, 2, Timestamp(0)), Ok(()));
        let refused = b.take(k, hourly, 1, Timestamp(0)).unwrap_err();
        assert_eq!(refused.retry_after_secs, 1800);
    }

    #[test]
    fn an_override_replaces_only_the_keys_it_names() {
        let over = serde_json::json!({"new_direct_per_day": 3, "sends": {"per": 1, "secs": 1, "burst": 2}});
        let l = Limits::default().with(&over).unwrap();
        assert_eq!(l.new_direct_per_day, 3);
        assert_eq!(l.sends.burst, 2);
        assert_eq!(l.logins_per_ip, Limits::default().logins_per_ip);
        let part = Limits::default().with(&serde_json::json!({"logins_per_ip": {"per": 60}}));
        let logins = part.unwrap().logins_per_ip;
        assert_eq!((logins.per, logins.secs, logins.burst), (60, 60, 30));
        let unknown = serde_json::json!({"logins_per_ip": {"pre": 60}});
        assert!(Limits::default().with(&unknown).is_err());
        assert!(Limits::default()
            .with(&serde_json::json!({"nope": 1}))
            .is_err());
        assert!(Limits::default().with(&serde_json::json!([1])).is_err());
        let zero = Limits::default()
            .with(&serde_json::json!({"logins_per_ip": {"per": 1, "secs": 0, "burst": 1}}));
        assert!(zero
            .unwrap_err()
            .to_string()
            .contains("logins_per_ip.secs must be at least 1"));
    }
}
