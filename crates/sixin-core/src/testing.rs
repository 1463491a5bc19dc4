//! Test support (feature `testing`): a clock tests can move, and cheap password hashing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::ids::Timestamp;

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

/// Default settings with argon2 cheap enough that tests can register many members quickly.
pub fn fast_config() -> CoreConfig {
    CoreConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..CoreConfig::default()
    }
}
