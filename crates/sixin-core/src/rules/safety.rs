//! Rules of the safety controls that the store applies in its transactions: how many reports a
//! member may file, and how long an app's word list may be.

use super::Refusal;
use crate::ids::Timestamp;

/// Reports one member may file in any 24 hours (repeating an open report does not count).
pub const REPORTS_PER_DAY: u32 = 20;

/// The window [`REPORTS_PER_DAY`] counts in, in milliseconds.
pub const REPORT_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Words one app's list may hold.
pub const MAX_WORDS_PER_APP: u64 = 100_000;

/// Whether a member who filed `recent` reports since `now - 24 h`, the oldest of them at
/// `oldest`, may file another: refused with the seconds until the oldest leaves the window.
pub fn may_report(recent: u32, oldest: Option<Timestamp>, now: Timestamp) -> Result<(), Refusal> {
    if recent < REPORTS_PER_DAY {
        return Ok(());
    }
    let frees_at = oldest.map_or(now.0, |t| t.0 + REPORT_WINDOW_MS);
    let wait_ms = u64::try_from(frees_at - now.0).unwrap_or(0);
    Err(Refusal::TooManyReports {
        retry_after_secs: wait_ms.div_ceil(1000).max(1),
    })
}

/// Whether an app's word list may hold `count` words.
pub fn word_list_fits(count: u64) -> Result<(), Refusal> {
    if count <= MAX_WORDS_PER_APP {
        Ok(())
    } else {
        Err(Refusal::WordListFull {
            max: MAX_WORDS_PER_APP,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_capped_per_day_with_the_wait_until_the_oldest_leaves() {
        let now = Timestamp(10 * REPORT_WINDOW_MS);
        assert_eq!(may_report(0, None, now), Ok(()));
        assert_eq!(may_report(REPORTS_PER_DAY - 1, Some(now), now), Ok(()));
        let oldest = Timestamp(now.0 - REPORT_WINDOW_MS + 1500);
        assert_eq!(
            may_report(REPORTS_PER_DAY, Some(oldest), now),
            Err(Refusal::TooManyReports {
                retry_after_secs: 2
            })
        );
    }

    #[test]
    fn word_lists_are_bounded() {
        assert_eq!(word_list_fits(MAX_WORDS_PER_APP), Ok(()));
        assert!(word_list_fits(MAX_WORDS_PER_APP + 1).is_err());
    }
}
