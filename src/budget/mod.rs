//! Budgets: a limit in USD or tokens on a scope (everything, one agent, one preset)
//! per period (a calendar day, week or month in the user's time zone, DST included),
//! thresholds that alert once
//! per period, and an optional hard stop that refuses runs before they start.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::calendar::{Calendar, Unit};

/// What a budget covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Scope {
    /// Every run.
    Global,
    /// One agent's runs.
    Agent(String),
    /// One preset's runs.
    Preset(String),
}

impl TryFrom<String> for Scope {
    type Error = BudgetError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Agent(a) => write!(f, "agent:{a}"),
            Self::Preset(p) => write!(f, "preset:{p}"),
        }
    }
}

impl FromStr for Scope {
    type Err = BudgetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "global" => Ok(Self::Global),
            Some(("agent", a)) if !a.is_empty() => Ok(Self::Agent(a.to_owned())),
            Some(("preset", p)) if !p.is_empty() => Ok(Self::Preset(p.to_owned())),
            _ => Err(BudgetError::Scope(s.to_owned())),
        }
    }
}

impl Scope {
    /// True when a run of `agent` with `preset` counts against this scope.
    pub fn covers(&self, agent: &str, preset: Option<&str>) -> bool {
        match self {
            Self::Global => true,
            Self::Agent(a) => a == agent,
            Self::Preset(p) => preset == Some(p.as_str()),
        }
    }
}

/// The budget period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// A calendar day in your time zone (the `timezone` setting).
    Day,
    /// A calendar week from the `week_start` setting's day (Monday), in your time zone.
    Week,
    /// A calendar month in your time zone.
    Month,
}

impl Period {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// Start and end (ms since the epoch) of the period containing `now_ms`, in
    /// `calendar` (a day is the user's calendar day, DST included).
    pub fn bounds(self, now_ms: i64, calendar: &Calendar) -> (i64, i64) {
        let unit = match self {
            Self::Day => Unit::Day,
            Self::Week => Unit::Week,
            Self::Month => Unit::Month,
        };
        calendar.bounds(unit, now_ms)
    }
}

impl FromStr for Period {
    type Err = BudgetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => Err(BudgetError::Period(other.to_owned())),
        }
    }
}

/// The limit of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// US dollars.
    Usd(f64),
    /// Tokens (input + output + cache).
    Tokens(u64),
}

/// A budget.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Budget {
    /// Its id.
    pub id: i64,
    /// What it covers.
    pub scope: Scope,
    /// Its period.
    pub period: Period,
    /// Its limit.
    pub limit: Limit,
    /// Percent thresholds that alert, increasing.
    pub thresholds: Vec<u32>,
    /// Refuse new runs at the limit.
    pub hard_stop: bool,
    /// A USD hard stop also refuses runs it cannot price (a model with no price).
    #[serde(default)]
    pub refuse_unpriced: bool,
}

/// A budget that cannot be set, or a run a budget refuses.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// The scope is not global, agent:NAME or preset:NAME.
    #[error("unknown budget scope {0:?}: use global, agent:NAME or preset:NAME")]
    Scope(String),
    /// The period is unknown.
    #[error("unknown budget period {0:?}: use day, week or month")]
    Period(String),
    /// The limit is zero, negative, infinite or not a number.
    #[error("the budget limit must be a number above zero, such as 20 or 12.50")]
    Limit,
    /// Thresholds out of range or not increasing.
    #[error("invalid thresholds {0:?}: give increasing percents from 1 to 1000, e.g. 80,100")]
    Thresholds(String),
    /// The scope names an agent or preset that does not exist.
    #[error("budget scope {scope}: {what} {name} does not exist: see `aiswitch {list}`")]
    UnknownTarget {
        /// The scope as given.
        scope: String,
        /// `agent` or `preset`.
        what: &'static str,
        /// The missing name.
        name: String,
        /// The listing command.
        list: &'static str,
    },
    /// `--refuse-unpriced` without a USD hard stop.
    #[error("--refuse-unpriced needs --limit-usd and --hard-stop")]
    RefuseUnpricedNeedsUsd,
    /// A USD hard stop cannot price the run and was told to refuse such runs.
    #[error(
        "budget {id} ({scope}, {period}) cannot price runs of {what}: there is no price for it, so the run is refused; give the preset a price (`aiswitch add PRESET --force ... --price input=USD --price output=USD`) or drop --refuse-unpriced"
    )]
    Unpriced {
        /// The budget.
        id: i64,
        /// Its scope.
        scope: String,
        /// Its period.
        period: &'static str,
        /// The model (or agent) that has no price.
        what: String,
    },
    /// No budget has this id.
    #[error("budget {0} does not exist: see `aiswitch budget list`")]
    NotFound(i64),
    /// A hard stop refuses the run.
    #[error(
        "budget {id} ({scope}, {period}) would be exceeded: {spent} spent and reserved of {limit}; raise it with `aiswitch budget set` or wait for the next period"
    )]
    Exceeded {
        /// The budget.
        id: i64,
        /// Its scope.
        scope: String,
        /// Its period.
        period: &'static str,
        /// What is spent and reserved, formatted.
        spent: String,
        /// The limit, formatted.
        limit: String,
    },
}

/// Parses `80,100` into increasing percents.
pub fn parse_thresholds(text: &str) -> Result<Vec<u32>, BudgetError> {
    let bad = || BudgetError::Thresholds(text.to_owned());
    let values: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if values.is_empty()
        || values.iter().any(|v| !(1..=1000).contains(v))
        || values.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(bad());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_bounds() {
        // 2026-11-25 (a Wednesday) 01:30 UTC.
        let now = 1_795_570_200_000;
        let utc = Calendar::default();
        let (d0, d1) = Period::Day.bounds(now, &utc);
        assert_eq!((d0, d1 - d0), (1_795_564_800_000, 86_400_000));
        let (w0, _) = Period::Week.bounds(now, &utc);
        assert_eq!(w0, 1_795_564_800_000 - 2 * 86_400_000, "Monday 2026-11-23");
        let (m0, m1) = Period::Month.bounds(now, &utc);
        assert_eq!((m0, m1), (1_793_491_200_000, 1_796_083_200_000), "November");
        // A daily budget in Beijing resets at its midnight (16:00 UTC), not UTC's.
        let beijing = Calendar::new("Asia/Shanghai", "monday").expect("zone");
        assert_eq!(Period::Day.bounds(now, &beijing).0, 1_795_536_000_000);
        // Berlin: the day the clocks go back (2026-10-25) has 25 hours, and October's
        // budget runs from midnight summer time to midnight winter time.
        let berlin = Calendar::new("Europe/Berlin", "monday").expect("zone");
        let autumn = 1_792_922_400_000; // 2026-10-25T10:00:00Z
        let (b0, b1) = Period::Day.bounds(autumn, &berlin);
        assert_eq!((b0, b1 - b0), (1_792_879_200_000, 25 * 3_600_000));
        let (o0, o1) = Period::Month.bounds(autumn, &berlin);
        assert_eq!((o0, o1), (1_790_805_600_000, 1_793_487_600_000));
    }

    #[test]
    fn scopes_and_thresholds() {
        assert_eq!(
            "agent:claude".parse::<Scope>().ok(),
            Some(Scope::Agent("claude".into()))
        );
        assert!("team:x".parse::<Scope>().is_err());
        assert!(Scope::Preset("p".into()).covers("any", Some("p")));
        assert_eq!(parse_thresholds("50, 80,100").ok(), Some(vec![50, 80, 100]));
        for bad in ["", "0", "80,80", "100,80", "x", "2000"] {
            assert!(parse_thresholds(bad).is_err(), "{bad:?}");
        }
    }
}
