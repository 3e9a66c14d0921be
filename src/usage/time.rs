//! Time arguments of usage queries: `--timeframe`, `--since`, `--until`.

/// A bad time argument.
#[derive(Debug, thiserror::Error)]
pub enum TimeError {
    /// Not a date or a duration.
    #[error(
        "invalid time {0:?}: use a date (2026-11-01), a date and time (2026-11-01T14:00), or a duration ago (30m, 12h, 7d)"
    )]
    Invalid(String),
    /// `--since` is after `--until`.
    #[error("--since is after --until: swap them")]
    Reversed,
}

/// The start of a timeframe ending now: hour, day, week or month (30 days).
pub fn timeframe_start(timeframe: Timeframe, now_ms: i64) -> i64 {
    let hours = match timeframe {
        Timeframe::Hour => 1,
        Timeframe::Day => 24,
        Timeframe::Week => 24 * 7,
        Timeframe::Month => 24 * 30,
    };
    now_ms - hours * 3_600_000
}

/// A query timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Timeframe {
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

/// Parses a point in time (UTC): `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]`, or a
/// duration ago (`30m`, `12h`, `7d`).
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64, TimeError> {
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
    let (date, time) = t.split_once('T').unwrap_or((t, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) = (d.next(), d.next(), d.next(), d.next())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let mut hms = time.split(':').map(|p| p.parse::<i64>());
    let h = hms.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
    let min = hms.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
    let sec = hms.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
    if h > 23 || min > 59 || sec > 59 {
        return Err(bad());
    }
    Ok((days_from_civil(y, m, day) * 86_400 + h * 3_600 + min * 60 + sec) * 1_000)
}

/// `at_ms` as `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub fn format_utc(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1_000);
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (y, m) = civil_from_days(days);
    let d = days - days_from_civil(y, m, 1) + 1;
    let (h, min, s) = (in_day / 3_600, in_day % 3_600 / 60, in_day % 60);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}Z")
}

/// The (year, month) of a day number since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_as_parsed() {
        assert_eq!(format_utc(1_795_570_200_000), "2026-11-25 01:30:00Z");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00Z");
    }

    #[test]
    fn dates_and_durations() {
        assert_eq!(parse_time("1970-01-02", 0).expect("date"), 86_400_000);
        assert_eq!(
            parse_time("2026-11-25T01:30", 0).expect("date time"),
            1_795_570_200_000
        );
        assert_eq!(
            parse_time("2h", 10_000_000).expect("ago"),
            10_000_000 - 7_200_000
        );
        for bad in ["yesterday", "2026-13-01", "2026-11-01T25:00", "h"] {
            assert!(parse_time(bad, 0).is_err(), "{bad}");
        }
    }
}
