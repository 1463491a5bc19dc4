//! The failed-login lockout: how long an account refuses logins after wrong passwords in a row,
//! and what one more attempt does. The core decides with it before checking a password; the
//! store decides with it again inside the transaction that counts the attempt.

use crate::ids::Timestamp;

/// The failed-login lockout of an account (an app's `failed_logins_*` limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Wrong passwords in a row that cost nothing.
    pub free: u32,
    /// The wait after `free` of them, doubling with each further one …
    pub delay_secs: u32,
    /// … up to this.
    pub max_delay_secs: u32,
}

/// How long an account refuses logins after `failures` wrong passwords in a row: nothing
/// before `free` of them, then `delay_secs * 2^(failures - free)`, at most `max_delay_secs`.
pub fn lockout_secs(failures: u32, l: Lockout) -> u64 {
    if failures < l.free.max(1) {
        return 0;
    }
    let doubling = 1u64
        .checked_shl(failures - l.free.max(1))
        .unwrap_or(u64::MAX);
    u64::from(l.delay_secs)
        .saturating_mul(doubling)
        .min(u64::from(l.max_delay_secs))
}

/// What a password attempt does to an account's lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The account refuses logins until `until` (after `failures` wrong passwords in a row):
    /// the password is not checked and nothing changes.
    Locked { until: Timestamp, failures: u32 },
    /// The attempt may check the password. It is counted as a failure before the password is
    /// checked — the account now has `failures` in a row and refuses logins until
    /// `locked_until` — so concurrent guesses cannot all pass before the first failure is
    /// recorded; a right password resets both.
    Counted {
        failures: u32,
        locked_until: Option<Timestamp>,
    },
}

/// Decides a password attempt at `now` on an account with `failures` wrong passwords in a row
/// that refuses logins until `locked_until` (see [`LoginAttempt`] and [`lockout_secs`]).
pub fn login_attempt(
    failures: u32,
    locked_until: Option<Timestamp>,
    now: Timestamp,
    l: Lockout,
) -> LoginAttempt {
    if let Some(until) = locked_until.filter(|&until| now < until) {
        return LoginAttempt::Locked { until, failures };
    }
    // Capped, so the count never overflows however long the guessing goes on (the wait has
    // long reached its maximum by then).
    let failures = failures.saturating_add(1).min(1_000_000);
    let wait = lockout_secs(failures, l);
    let locked_until = (wait > 0).then(|| {
        let ms = i64::try_from(wait.saturating_mul(1000)).unwrap_or(i64::MAX);
        Timestamp(now.0.saturating_add(ms))
    });
    LoginAttempt::Counted {
        failures,
        locked_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_doubles_after_the_free_failures_up_to_the_cap() {
        let l = Lockout {
            free: 5,
            delay_secs: 1,
            max_delay_secs: 900,
        };
        let waits: Vec<u64> = (0..9).map(|n| lockout_secs(n, l)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(lockout_secs(15, l), 900);
        assert_eq!(lockout_secs(u32::MAX, l), 900);
        let now = Timestamp(10_000);
        // The fifth attempt is counted before the password is checked: it locks for 1 s.
        assert_eq!(
            login_attempt(4, None, now, l),
            LoginAttempt::Counted {
                failures: 5,
                locked_until: Some(Timestamp(11_000))
            }
        );
        assert_eq!(
            login_attempt(0, None, now, l),
            LoginAttempt::Counted {
                failures: 1,
                locked_until: None
            }
        );
        // While locked nothing is counted; at `until` the next attempt goes through.
        let locked = login_attempt(5, Some(Timestamp(11_000)), now, l);
        assert_eq!(
            locked,
            LoginAttempt::Locked {
                until: Timestamp(11_000),
                failures: 5
            }
        );
        assert_eq!(
            login_attempt(5, Some(Timestamp(11_000)), Timestamp(11_000), l),
            LoginAttempt::Counted {
                failures: 6,
                locked_until: Some(Timestamp(13_000))
            }
        );
    }
}
