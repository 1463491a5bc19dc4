//! Times as the PhalApi-family documents show them: `YYYY-MM-DD HH:MM:SS` in the server's
//! configured time zone (IANA names resolved with jiff's bundled time-zone database).

use jiff::tz::TimeZone;
use sixin_core::ids::Timestamp;

/// The time zone used when none is configured: Asia/Shanghai (UTC+8, no daylight saving).
pub(crate) fn default_zone() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8)))
}

/// `ts` as `YYYY-MM-DD HH:MM:SS` in `tz`.
pub(crate) fn datetime(ts: Timestamp, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ts.0) {
        Ok(t) => tz.to_datetime(t).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => "1970-01-01 00:00:00".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_configured_zone() {
        // 2023-11-14 22:13:20.999 UTC.
        let ts = Timestamp(1_700_000_000_999);
        assert_eq!(datetime(ts, &default_zone()), "2023-11-15 06:13:20");
        assert_eq!(datetime(ts, &TimeZone::UTC), "2023-11-14 22:13:20");
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(datetime(ts, &ny), "2023-11-14 17:13:20");
        assert_eq!(
            datetime(Timestamp(0), &default_zone()),
            "1970-01-01 08:00:00"
        );
    }
}
