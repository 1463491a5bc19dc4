//! Test support (feature `testing`): a clock tests can move, and cheap password hashing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::ids::Timestamp;
use crate::limits::{Limits, Quota};

/// A clock that only moves when told to, or ([`ManualClock::live`]) one that follows the
/// system clock and can be moved ahead of it.
#[derive(Debug)]
pub struct ManualClock {
    /// The time shown (stopped), or how far ahead of the system clock (live), in ms.
    ms: AtomicI64,
    live: bool,
}

impl ManualClock {
    /// A clock showing the given instant.
    pub fn at(t: Timestamp) -> Self {
        ManualClock {
            ms: AtomicI64::new(t.0),
            live: false,
        }
    }

    /// A clock that runs with the system clock (for tests where time must pass by itself,
    /// such as webhook retries); [`ManualClock::advance`] moves it ahead.
    pub fn live() -> Self {
        ManualClock {
            ms: AtomicI64::new(0),
            live: true,
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let base = if self.live {
            crate::clock::SystemClock.now().0
        } else {
            0
        };
        Timestamp(base.saturating_add(self.ms.load(Ordering::SeqCst)))
    }
}

/// Default settings with argon2 cheap enough that tests can register many members quickly,
/// and rate limits generous enough that no test meets them unless it is about them (tests run
/// on a clock that barely moves, so default buckets would never refill, and every request over
/// real HTTP comes from 127.0.0.1): a test about a limit sets it with [`tight_limits`] or its
/// own values.
pub fn fast_config() -> CoreConfig {
    let generous = Quota {
        per: 1_000_000,
        secs: 1,
        burst: 1_000_000,
    };
    CoreConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        limits: Limits {
            sends: generous,
            new_direct_per_day: 1_000_000,
            registrations_per_ip: generous,
            logins_per_ip: generous,
            ..Limits::default()
        },
        ..CoreConfig::default()
    }
}

/// [`fast_config`] with these sends and daily new-direct-conversation limits.
pub fn tight_limits(sends: Quota, new_direct_per_day: u32) -> CoreConfig {
    let mut cfg = fast_config();
    cfg.limits.sends = sends;
    cfg.limits.new_direct_per_day = new_direct_per_day;
    cfg
}
