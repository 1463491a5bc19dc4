//! [`PausedTime`]: tokio's clock, stopped, moved only by the test — for timers in the code under
//! test (heartbeats, idle timeouts) that must fire without the test waiting for them.
//!
//! Tokio's paused clock normally *auto-advances* to the next timer whenever the runtime has
//! nothing to do, which with real sockets and a real database means "whenever the test waits for
//! I/O": timeouts would fire at random. A running `spawn_blocking` task inhibits auto-advance
//! (documented under `tokio::time::pause`), so [`PausedTime`] keeps one running — a task that
//! only waits for the guard to be dropped — and time moves only by
//! [`PausedTime::advance_past`].
//!
//! Every wait stays bounded: if the test is still running after [`PausedTime::REAL_LIMIT`] of
//! real time, the blocking task ends, auto-advance resumes, and the test's own timeouts (the
//! stream clients' frame waits) fire and end it; dropping the guard then fails it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Tokio's clock, paused without auto-advance until this is dropped. Needs a `current_thread`
/// runtime (`both_backends!`'s `#[paused]` cases). Dropping it fails the test if the real-time
/// limit ran out meanwhile (the test then only finished thanks to the timeouts).
pub struct PausedTime {
    _stop: mpsc::Sender<()>,
    expired: Arc<AtomicBool>,
}

impl PausedTime {
    /// How long a test may run, in real time, with the clock held.
    pub const REAL_LIMIT: Duration = Duration::from_secs(30);

    /// Pauses tokio's clock. Panics outside a `current_thread` runtime.
    pub fn start() -> PausedTime {
        let (stop, stopped) = mpsc::channel::<()>();
        let expired = Arc::new(AtomicBool::new(false));
        let flag = expired.clone();
        // Spawned before pausing, so auto-advance is never on while the clock is paused.
        drop(tokio::task::spawn_blocking(move || {
            if stopped.recv_timeout(PausedTime::REAL_LIMIT) == Err(mpsc::RecvTimeoutError::Timeout)
            {
                flag.store(true, Ordering::SeqCst);
            }
        }));
        tokio::time::pause();
        PausedTime {
            _stop: stop,
            expired,
        }
    }

    /// Moves the clock just past `by` from now, so that every timer due within `by` fires: by
    /// `by` plus 1 ms, since tokio rounds timer deadlines up to the next whole millisecond.
    pub async fn advance_past(&self, by: Duration) {
        tokio::time::advance(by + Duration::from_millis(1)).await;
    }
}

impl Drop for PausedTime {
    fn drop(&mut self) {
        if self.expired.load(Ordering::SeqCst) && !std::thread::panicking() {
            panic!(
                "the test ran over {:?} of real time on a paused clock: a timer it waited for \
                 never fired",
                PausedTime::REAL_LIMIT
            );
        }
    }
}
