//! Test support (feature `testing`): a clock tests can move, and cheap password hashing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::ids::Timestamp;

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing the given instant.
    pub fn at(t: Timestamp) -> Self {
        ManualClock(AtomicI64::new(t.0))
    }

    /// Moves the clock forward.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// Default settings with argon2 cheap enough that tests can register many members quickly,
/// and per-IP registration and login limits generous enough that tests over real HTTP (every
/// request from 127.0.0.1) never meet them; tests of those limits set their own.
pub fn fast_config() -> CoreConfig {
    let generous = crate::limits::Quota {
        per: 1_000_000,
        secs: 1,
        burst: 1_000_000,
    };
    CoreConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        limits: crate::limits::Limits {
            registrations_per_ip: generous,
            logins_per_ip: generous,
            ..crate::limits::Limits::default()
        },
        ..CoreConfig::default()
    }
}
