//! Alerts: what kinds there are, and the de-duplication key of each, which carries
//! its rate limit (one per threshold per period, one crash alert per agent per
//! minute, ...). Every alert is raised through `Engine::raise_alert`, so the
//! notifications of the desktop app can hang off one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A budget crossed one of its thresholds.
    BudgetThreshold,
    /// A USD budget saw runs it cannot price.
    BudgetUnpriced,
    /// A budget's hard stop refused a run.
    BudgetHardStop,
    /// A task failed.
    TaskFailed,
    /// A task's agent ran out of time.
    TaskTimedOut,
    /// An environment switch failed and was rolled back.
    EnvSwitchFailed,
    /// Half or more of an agent's recent prompt turns failed.
    ErrorRate,
    /// An agent faulted or exited with an error.
    AgentCrashed,
    /// An agent was restarted too often and is left stopped.
    RestartLimit,
    /// A provider's quota window crossed 75, 90 or 100 % (read by the gateway).
    QuotaThreshold,
    /// A window ran out and the gateway moved an agent to its preset's fallback.
    QuotaFallback,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [Self; 11] = [
        Self::BudgetThreshold,
        Self::BudgetUnpriced,
        Self::BudgetHardStop,
        Self::TaskFailed,
        Self::TaskTimedOut,
        Self::EnvSwitchFailed,
        Self::ErrorRate,
        Self::AgentCrashed,
        Self::RestartLimit,
        Self::QuotaThreshold,
        Self::QuotaFallback,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BudgetThreshold => "budget_threshold",
            Self::BudgetUnpriced => "budget_unpriced",
            Self::BudgetHardStop => "budget_hard_stop",
            Self::TaskFailed => "task_failed",
            Self::TaskTimedOut => "task_timed_out",
            Self::EnvSwitchFailed => "env_switch_failed",
            Self::ErrorRate => "error_rate",
            Self::AgentCrashed => "agent_crashed",
            Self::RestartLimit => "restart_limit",
            Self::QuotaThreshold => "quota_threshold",
            Self::QuotaFallback => "quota_fallback",
        }
    }

    /// The de-duplication key of an alert of this kind about `subject` at `now_ms`
    /// (`period`: for budget alerts, the budget's period start and threshold): only
    /// one alert per key is ever recorded, so the key is the rate limit. Budget
    /// alerts: one per threshold per period; a hard stop: one per budget per day; task
    /// alerts: one per task; a failed
    /// switch or a crash: one per agent per minute; an error rate: one per agent per
    /// ten minutes; a restart limit: one per agent per hour; a quota window: one per
    /// threshold per window until it resets (`period`: its reset and threshold); a
    /// fall-back: one per agent and preset per window.
    pub fn dedup_key(self, subject: &str, period: &str, now_ms: i64) -> String {
        const MINUTE: i64 = 60_000;
        match self {
            Self::BudgetThreshold => format!("budget:{subject}:{period}"),
            Self::BudgetUnpriced => format!("budget_unpriced:{subject}:{period}"),
            Self::BudgetHardStop => format!("hard-stop:{subject}:{}", now_ms / (24 * 60 * MINUTE)),
            Self::TaskFailed | Self::TaskTimedOut => format!("task:{subject}"),
            Self::EnvSwitchFailed => format!("env:{subject}:{}", now_ms / MINUTE),
            Self::ErrorRate => format!("error-rate:{subject}:{}", now_ms / (10 * MINUTE)),
            Self::AgentCrashed => format!("crash:{subject}:{}", now_ms / MINUTE),
            Self::RestartLimit => format!("restart-limit:{subject}:{}", now_ms / (60 * MINUTE)),
            Self::QuotaThreshold => format!("quota:{subject}:{period}"),
            Self::QuotaFallback => format!("fallback:{subject}:{period}"),
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown alert kind {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_keys_carry_the_rate_limit() {
        for kind in AlertKind::ALL {
            assert_eq!(kind.as_str().parse::<AlertKind>(), Ok(kind));
        }
        let a = AlertKind::AgentCrashed.dedup_key("claude", "", 60_000);
        let b = AlertKind::AgentCrashed.dedup_key("claude", "", 119_999);
        let c = AlertKind::AgentCrashed.dedup_key("claude", "", 120_000);
        assert_eq!(a, b, "one per minute");
        assert_ne!(b, c);
    }
}
