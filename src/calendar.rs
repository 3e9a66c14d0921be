//! The user's calendar: their time zone (the `timezone` setting, the system's by
//! default, or `--timezone`) and the first day of their week (`week_start`, Monday by
//! default). Budgets' days, weeks and months, summaries by day and dates on the
//! command line are in it; DST is the time crate's business (jiff), not ours.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;

/// A calendar unit a period is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A calendar day (23 or 25 hours across a DST change).
    Day,
    /// A calendar week from `week_start`.
    Week,
    /// A calendar month.
    Month,
}

/// A time zone or weekday that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Not a time zone name.
    #[error(
        "unknown time zone {0:?}: use an IANA name such as Asia/Shanghai or America/Los_Angeles, UTC, or system"
    )]
    Zone(String),
    /// Not a weekday.
    #[error("unknown week start {0:?}: use a weekday such as monday or sunday")]
    WeekStart(String),
}

/// A bad time argument.
#[derive(Debug, thiserror::Error)]
pub enum TimeError {
    /// Not a date or a duration.
    #[error(
        "invalid time {0:?}: use a date (2026-11-01), a date and time (2026-11-01T14:00, in your time zone unless it ends with Z or an offset such as +08:00), or a duration ago (30m, 12h, 7d)"
    )]
    Invalid(String),
    /// `--since` is after `--until`.
    #[error("--since is after --until: swap them")]
    Reversed,
}

/// A time zone and the first day of the week.
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    week_start: Weekday,
}

impl Default for Calendar {
    /// UTC, weeks from Monday.
    fn default() -> Self {
        Self {
            zone: TimeZone::UTC,
            week_start: Weekday::Monday,
        }
    }
}

impl Calendar {
    /// The calendar of `zone` (`system`, `UTC` or an IANA name) with weeks from
    /// `week_start` (a weekday's English name).
    pub fn new(zone: &str, week_start: &str) -> Result<Self, CalendarError> {
        let zone = match zone {
            "system" | "" => TimeZone::system(),
            "UTC" | "utc" => TimeZone::UTC,
            name => TimeZone::get(name).map_err(|_| CalendarError::Zone(name.to_owned()))?,
        };
        let week_start = match week_start.to_ascii_lowercase().as_str() {
            "monday" => Weekday::Monday,
            "tuesday" => Weekday::Tuesday,
            "wednesday" => Weekday::Wednesday,
            "thursday" => Weekday::Thursday,
            "friday" => Weekday::Friday,
            "saturday" => Weekday::Saturday,
            "sunday" => Weekday::Sunday,
            _ => return Err(CalendarError::WeekStart(week_start.to_owned())),
        };
        Ok(Self { zone, week_start })
    }

    /// The same calendar in another time zone.
    pub fn in_zone(&self, zone: &str) -> Result<Self, CalendarError> {
        let mut other = Self::new(zone, "monday")?;
        other.week_start = self.week_start;
        Ok(other)
    }

    /// The zone's IANA name (or its offset when it has none).
    pub fn zone_name(&self) -> String {
        self.zone.iana_name().map_or_else(
            || self.zone.to_offset(Timestamp::now()).to_string(),
            str::to_owned,
        )
    }

    /// The calendar date at `at_ms`.
    pub fn date_of(&self, at_ms: i64) -> Date {
        let at = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        self.zone.to_datetime(at).date()
    }

    /// `YYYY-MM-DD`, the day `at_ms` falls on.
    pub fn day_key(&self, at_ms: i64) -> String {
        self.date_of(at_ms).to_string()
    }

    /// `HH:MM`, the wall-clock time at `at_ms`.
    pub fn clock(&self, at_ms: i64) -> String {
        let at = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let time = self.zone.to_datetime(at).time();
        format!("{:02}:{:02}", time.hour(), time.minute())
    }

    /// `YYYY-MM-DD HH:MM:SS+08:00`: the wall-clock time at `at_ms` with the zone's
    /// offset, so a line read elsewhere still names one instant.
    pub fn stamp(&self, at_ms: i64) -> String {
        let at = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let offset = self.zone.to_offset(at).seconds();
        let sign = if offset < 0 { '-' } else { '+' };
        let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
        format!(
            "{}{sign}{hours:02}:{minutes:02}",
            self.zone.to_datetime(at).strftime("%Y-%m-%d %H:%M:%S")
        )
    }

    /// The first day (`YYYY-MM-DD`) of the week `at_ms` falls in.
    pub fn week_key(&self, at_ms: i64) -> String {
        self.date_of(self.bounds(Unit::Week, at_ms).0).to_string()
    }

    /// `YYYY-MM`, the month `at_ms` falls in.
    pub fn month_key(&self, at_ms: i64) -> String {
        let date = self.date_of(at_ms);
        format!("{:04}-{:02}", date.year(), date.month())
    }

    /// Start and end (ms since the epoch) of the `unit` containing `at_ms`.
    pub fn bounds(&self, unit: Unit, at_ms: i64) -> (i64, i64) {
        let date = self.date_of(at_ms);
        let (first, next) = match unit {
            Unit::Day => (date, date.tomorrow().unwrap_or(date)),
            Unit::Week => {
                let back = self.week_start.until(date.weekday());
                let mut first = date;
                for _ in 0..back {
                    first = first.yesterday().unwrap_or(first);
                }
                let mut next = first;
                for _ in 0..7 {
                    next = next.tomorrow().unwrap_or(next);
                }
                (first, next)
            }
            Unit::Month => {
                let first = date.first_of_month();
                (first, date.last_of_month().tomorrow().unwrap_or(first))
            }
        };
        (self.start_of(first), self.start_of(next))
    }

    /// The first instant of `date` here (midnight, or the first hour after a gap).
    fn start_of(&self, date: Date) -> i64 {
        date.to_zoned_datetime(self.zone.clone())
            .and_then(|z| z.start_of_day())
            .map_or(0, |z| z.timestamp().as_millisecond())
    }

    /// A point in time: `YYYY-MM-DD` (its start here), `YYYY-MM-DDTHH:MM[:SS]` (here
    /// unless it ends with `Z` or an offset), or a duration ago (`30m`, `12h`, `7d`,
    /// `2w`).
    pub fn parse_time(&self, text: &str, now_ms: i64) -> Result<i64, TimeError> {
        let bad = || TimeError::Invalid(text.to_owned());
        let t = text.trim();
        if let Some(unit) = t
            .chars()
            .last()
            .filter(|c| matches!(c, 'm' | 'h' | 'd' | 'w'))
        {
            let n: i64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
            let ms = match unit {
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                _ => 7 * 86_400_000,
            };
            return Ok(now_ms - n * ms);
        }
        if let Ok(at) = t.parse::<Timestamp>() {
            return Ok(at.as_millisecond());
        }
        if !t.contains(['T', 't', ' ']) {
            return t
                .parse::<Date>()
                .map(|d| self.start_of(d))
                .map_err(|_| bad());
        }
        let local: DateTime = t.parse().map_err(|_| bad())?;
        local
            .to_zoned_datetime(self.zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>()
            .expect("timestamp")
            .as_millisecond()
    }

    #[test]
    fn a_stamp_is_the_zones_wall_clock_with_its_offset() {
        let at = ms("2026-11-25T01:30:00Z");
        let shanghai = Calendar::new("Asia/Shanghai", "monday").expect("zone");
        assert_eq!(shanghai.stamp(at), "2026-11-25 09:30:00+08:00");
        let la = Calendar::new("America/Los_Angeles", "monday").expect("zone");
        assert_eq!(la.stamp(at), "2026-11-24 17:30:00-08:00");
        let utc = Calendar::new("UTC", "monday").expect("zone");
        assert_eq!(utc.stamp(at), "2026-11-25 01:30:00+00:00");
    }

    #[test]
    fn a_day_across_a_dst_change_has_its_real_length() {
        let la = Calendar::new("America/Los_Angeles", "monday").expect("zone");
        // 2026-03-08: clocks go forward at 02:00, the day has 23 hours.
        let (start, end) = la.bounds(Unit::Day, ms("2026-03-08T20:00:00Z"));
        assert_eq!(
            (start, end),
            (ms("2026-03-08T08:00:00Z"), ms("2026-03-09T07:00:00Z"))
        );
        // 2026-11-01: back at 02:00, 25 hours.
        let (start, end) = la.bounds(Unit::Day, ms("2026-11-01T20:00:00Z"));
        assert_eq!(end - start, 25 * 3_600_000);
        // A month spanning the change starts at local midnight on both sides.
        let (first, next) = la.bounds(Unit::Month, ms("2026-03-20T12:00:00Z"));
        assert_eq!(
            (first, next),
            (ms("2026-03-01T08:00:00Z"), ms("2026-04-01T07:00:00Z"))
        );
    }

    #[test]
    fn days_weeks_and_dates_are_the_users() {
        let shanghai = Calendar::new("Asia/Shanghai", "monday").expect("zone");
        // 17:00 UTC on 1 November is 01:00 on 2 November in Beijing.
        assert_eq!(shanghai.day_key(ms("2026-11-01T17:00:00Z")), "2026-11-02");
        assert_eq!(
            Calendar::default().day_key(ms("2026-11-01T17:00:00Z")),
            "2026-11-01"
        );
        assert_eq!(
            shanghai.parse_time("2026-11-01", 0).expect("date"),
            ms("2026-10-31T16:00:00Z")
        );
        assert_eq!(
            shanghai.parse_time("2026-11-01T08:30", 0).expect("local"),
            ms("2026-11-01T00:30:00Z")
        );
        assert_eq!(
            shanghai.parse_time("2026-11-01T08:30Z", 0).expect("utc"),
            ms("2026-11-01T08:30:00Z")
        );
        assert_eq!(
            shanghai.parse_time("2h", 10_000_000).expect("ago"),
            10_000_000 - 7_200_000
        );
        for bad in ["yesterday", "2026-13-01", "2026-11-01T25:00", "5y"] {
            assert!(shanghai.parse_time(bad, 0).is_err(), "{bad}");
        }
        // Tuesday 2026-12-01: the week from Monday 30 November, or from Sunday the 29th.
        let at = ms("2026-12-01T12:00:00Z");
        let utc = Calendar::default();
        assert_eq!(utc.bounds(Unit::Week, at).0, ms("2026-11-30T00:00:00Z"));
        let sunday = Calendar::new("UTC", "Sunday").expect("calendar");
        assert_eq!(
            sunday.bounds(Unit::Week, at),
            (ms("2026-11-29T00:00:00Z"), ms("2026-12-06T00:00:00Z"))
        );
        assert_eq!(utc.week_key(at), "2026-11-30");
        assert_eq!(sunday.week_key(at), "2026-11-29");
        assert_eq!(shanghai.month_key(ms("2026-11-30T17:00:00Z")), "2026-12");
        assert!(Calendar::new("Mars/Olympus", "monday").is_err());
        assert!(Calendar::new("UTC", "someday").is_err());
    }
}
