//! When a delivery that failed is tried again: exponential backoff with full jitter, for a
//! bounded time. Every event is tried at least once, however long it waited behind others.

use std::time::Duration;

use crate::ids::Timestamp;

/// The retry schedule of failed deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The first backoff step; each later step doubles it.
    pub first: Duration,
    /// The longest step.
    pub max_delay: Duration,
    /// How long after it was queued a delivery is still tried; after that, its next failure
    /// marks it `failed` and the endpoint's queue moves on.
    pub retry_for: Duration,
}

impl Default for RetrySchedule {
    /// 5 s, 10 s, 20 s, … at most 1 hour apart, for 72 hours.
    fn default() -> Self {
        RetrySchedule {
            first: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            retry_for: Duration::from_secs(72 * 3600),
        }
    }
}

impl RetrySchedule {
    /// The backoff step after `attempts` failed tries (1 or more): `first × 2^(attempts-1)`,
    /// at most `max_delay`.
    pub fn step(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(32);
        self.first
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max_delay)
    }

    /// After the `attempts`-th try of a delivery queued at `queued_at` failed at `now`: when
    /// to try next, or `None` when its time has run out (it is then `failed`). The wait is the
    /// step scaled by `jitter` (uniform in 0..1, "full jitter", so endpoints that failed
    /// together do not retry together), at least a tenth of `first`, and never past the end
    /// of the retry time (one last try is made there).
    pub fn after_failure(
        &self,
        attempts: u32,
        queued_at: Timestamp,
        now: Timestamp,
        jitter: f64,
    ) -> Option<Timestamp> {
        let deadline = queued_at.plus(self.retry_for);
        if now >= deadline {
            return None;
        }
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let wait = self.step(attempts).mul_f64(jitter).max(self.first / 10);
        Some(now.plus(wait).min(deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn steps_double_up_to_the_cap() {
        let r = RetrySchedule::default();
        let steps: Vec<u64> = (1..=12).map(|n| r.step(n).as_secs()).collect();
        assert_eq!(
            steps,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(r.step(u32::MAX), 3600 * S);
    }

    #[test]
    fn retries_are_jittered_within_the_step_and_end_at_the_deadline() {
        let r = RetrySchedule {
            first: 10 * S,
            max_delay: 100 * S,
            retry_for: 1000 * S,
        };
        let q = Timestamp(0);
        let now = Timestamp(50_000);
        assert_eq!(r.after_failure(3, q, now, 1.0), Some(Timestamp(90_000)));
        assert_eq!(r.after_failure(3, q, now, 0.5), Some(Timestamp(70_000)));
        // Never sooner than a tenth of the first step.
        assert_eq!(r.after_failure(3, q, now, 0.0), Some(Timestamp(51_000)));
        // Never past the deadline; at or after it, given up.
        let late = Timestamp(990_000);
        assert_eq!(r.after_failure(9, q, late, 1.0), Some(Timestamp(1_000_000)));
        assert_eq!(r.after_failure(9, q, Timestamp(1_000_000), 1.0), None);
    }
}
