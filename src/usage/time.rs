//! Time arguments of usage queries: `--timeframe` (in the user's calendar), and the
//! one UTC format of event lines. Dates and `--since` / `--until` are parsed by
//! [`Calendar::parse_time`](crate::calendar::Calendar::parse_time).

use crate::calendar::{Calendar, Unit};

pub use crate::calendar::TimeError;

/// The start of a timeframe ending now: the last hour, or today, this week or this
/// month in `calendar`.
pub fn timeframe_start(timeframe: Timeframe, now_ms: i64, calendar: &Calendar) -> i64 {
    match timeframe {
        Timeframe::Hour => now_ms - 3_600_000,
        Timeframe::Day => calendar.bounds(Unit::Day, now_ms).0,
        Timeframe::Week => calendar.bounds(Unit::Week, now_ms).0,
        Timeframe::Month => calendar.bounds(Unit::Month, now_ms).0,
    }
}

/// A query timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Timeframe {
    /// The last hour.
    Hour,
    /// Today (from midnight in your time zone).
    Day,
    /// This week (from its first day, `week_start`).
    Week,
    /// This month.
    Month,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeframes_start_at_the_calendars_boundaries() {
        let shanghai = Calendar::new("Asia/Shanghai", "monday").expect("zone");
        let now = 1_796_119_200_000; // 2026-12-01T10:00:00Z, 18:00 in Beijing
        assert_eq!(
            timeframe_start(Timeframe::Hour, now, &shanghai),
            now - 3_600_000
        );
        assert_eq!(
            timeframe_start(Timeframe::Day, now, &shanghai),
            1_796_054_400_000
        ); // 11-30T16:00Z
    }
}
