//! Figures from samples: the one percentile function ([`percentile`], nearest rank), latency
//! summaries ([`Latency`]) and a load phase's figures ([`PhaseStats`]).
//!
//! Latencies are kept as signed microseconds: on the event stream a frame can reach its
//! receiver before the sender has read its HTTP answer, and that difference is negative.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Nearest-rank percentile `q` (0..=1) of sorted samples; `None` when there are none.
pub fn percentile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// The phases of an A/B run, `true` for B: a warm-up without (A, not counted), then `rounds`
/// pairs run A B B A A B …, so a drift over the run weighs on both sides alike.
pub fn ab_order(rounds: usize) -> impl Iterator<Item = bool> {
    let pairs = (0..rounds).flat_map(|r| {
        if r % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        }
    });
    std::iter::once(false).chain(pairs)
}

/// B's requests per second over A's, summed over the phases after the warm-up (the first),
/// given as (is B, req/s) in the order run.
pub fn ab_ratio(phases: impl Iterator<Item = (bool, f64)>) -> f64 {
    let (mut a, mut b) = (0.0, 0.0);
    for (is_b, rps) in phases.skip(1) {
        if is_b {
            b += rps;
        } else {
            a += rps;
        }
    }
    ratio(b, a)
}

/// Percentiles of latencies (which may be negative), in milliseconds.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Latency {
    pub samples: usize,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Summarises microsecond samples, in any order.
    pub fn from_us(mut us: Vec<i64>) -> Latency {
        us.sort_unstable();
        let ms = |v: Option<i64>| v.map_or(0.0, |v| v as f64 / 1000.0);
        Latency {
            samples: us.len(),
            min_ms: ms(us.first().copied()),
            p50_ms: ms(percentile(&us, 0.50)),
            p99_ms: ms(percentile(&us, 0.99)),
            max_ms: ms(us.last().copied()),
        }
    }
}

/// One load phase: many workers issuing requests for a while.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseStats {
    /// Requests completed (successes and errors).
    pub requests: u64,
    pub errors: u64,
    pub elapsed_secs: f64,
    /// Completed requests per second.
    pub rps: f64,
    /// Latency of the successful requests.
    #[serde(flatten)]
    pub latency: Latency,
}

impl PhaseStats {
    /// The figures of a phase whose successful requests took `ok_us` each.
    pub fn new(ok_us: Vec<i64>, errors: u64, elapsed: Duration) -> PhaseStats {
        let requests = ok_us.len() as u64 + errors;
        let elapsed_secs = elapsed.as_secs_f64();
        PhaseStats {
            requests,
            errors,
            elapsed_secs,
            rps: ratio(requests as f64, elapsed_secs),
            latency: Latency::from_us(ok_us),
        }
    }
}

/// `a / b`, or 0 when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// `later − earlier` in microseconds, negative when `later` came first.
pub fn signed_us(later: Instant, earlier: Instant) -> i64 {
    match later.checked_duration_since(earlier) {
        Some(d) => micros(d),
        None => -micros(earlier.duration_since(later)),
    }
}

/// A duration in whole microseconds (saturating).
pub fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ab_runs_alternate_after_a_warm_up_that_does_not_count() {
        let order: Vec<bool> = ab_order(2).collect();
        assert_eq!(order, [false, false, true, true, false]);
        // The warm-up's 1000 req/s is left out: B 2 + 4 over A 1 + 1.
        let rps = [1000.0, 1.0, 2.0, 4.0, 1.0];
        assert_eq!(ab_ratio(order.into_iter().zip(rps)), 3.0);
    }

    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile::<i64>(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.99), Some(7));
    }

    #[test]
    fn signed_latencies_keep_their_sign() {
        let a = Instant::now();
        let b = a + Duration::from_micros(1500);
        assert_eq!(signed_us(b, a), 1500);
        assert_eq!(signed_us(a, b), -1500);
        let l = Latency::from_us(vec![5000, -2000, 1000, 3000]);
        assert_eq!(l.samples, 4);
        assert_eq!(l.min_ms, -2.0);
        assert_eq!(l.p50_ms, 1.0);
        assert_eq!(l.p99_ms, 5.0);
        assert_eq!(Latency::from_us(vec![]).p50_ms, 0.0);
    }

    #[test]
    fn a_phase_counts_errors_as_requests() {
        let s = PhaseStats::new(vec![1000, 2000, 3000], 1, Duration::from_secs(2));
        assert_eq!(s.requests, 4);
        assert_eq!(s.rps, 2.0);
        assert_eq!(s.latency.max_ms, 3.0);
    }
}
