//! The restart decision: policy, exponential backoff and the start limit, as a pure
//! function of exit history and a clock reading, so it is tested without waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::agents::{RestartMode, RestartPolicy};

/// What to do after an exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start again after this delay; `attempt` counts restarts in the window.
    Restart {
        /// The backoff.
        after: Duration,
        /// Restarts within the window, this one included.
        attempt: u32,
    },
    /// The policy says no restart.
    Stay,
    /// The start limit was hit.
    GiveUp {
        /// Restarts within the window.
        restarts: u32,
    },
}

/// Restart history of one agent instance.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    policy: RestartPolicy,
    restarts: VecDeque<Instant>,
}

impl RestartTracker {
    /// A tracker with no history.
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            restarts: VecDeque::new(),
        }
    }

    /// Decides after an exit at `now`; `failed` is a crash or non-zero exit.
    pub fn on_exit(&mut self, failed: bool, now: Instant) -> Decision {
        let wanted = match self.policy.mode {
            RestartMode::Never => false,
            RestartMode::OnFailure => failed,
            RestartMode::Always => true,
        };
        if !wanted {
            return Decision::Stay;
        }
        let window = Duration::from_secs(self.policy.window_secs);
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.restarts.pop_front();
        }
        let done = u32::try_from(self.restarts.len()).unwrap_or(u32::MAX);
        if done >= self.policy.max_restarts {
            return Decision::GiveUp { restarts: done };
        }
        self.restarts.push_back(now);
        let factor = 1u64.checked_shl(done).unwrap_or(u64::MAX);
        let delay = self
            .policy
            .backoff_initial_ms
            .saturating_mul(factor)
            .min(self.policy.backoff_max_ms);
        Decision::Restart {
            after: Duration::from_millis(delay),
            attempt: done + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: RestartMode) -> RestartPolicy {
        RestartPolicy {
            mode,
            backoff_initial_ms: 100,
            backoff_max_ms: 1_000,
            max_restarts: 5,
            window_secs: 60,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let mut tracker = RestartTracker::new(policy(RestartMode::OnFailure));
        let t0 = Instant::now();
        let delays: Vec<Decision> = (0..6)
            .map(|i| tracker.on_exit(true, t0 + Duration::from_secs(i)))
            .collect();
        let ms = |d: &Decision| match d {
            Decision::Restart { after, .. } => after.as_millis(),
            _ => 0,
        };
        assert_eq!(
            delays[..5].iter().map(ms).collect::<Vec<_>>(),
            [100, 200, 400, 800, 1000]
        );
        assert_eq!(delays[5], Decision::GiveUp { restarts: 5 });
    }

    #[test]
    fn the_window_forgets_old_restarts() {
        let mut tracker = RestartTracker::new(policy(RestartMode::OnFailure));
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(matches!(
                tracker.on_exit(true, t0 + Duration::from_secs(i)),
                Decision::Restart { .. }
            ));
        }
        let later = t0 + Duration::from_secs(120);
        assert_eq!(
            tracker.on_exit(true, later),
            Decision::Restart {
                after: Duration::from_millis(100),
                attempt: 1
            },
            "a minute later the count and the backoff start over"
        );
    }

    #[test]
    fn modes() {
        let now = Instant::now();
        assert_eq!(
            RestartTracker::new(policy(RestartMode::Never)).on_exit(true, now),
            Decision::Stay
        );
        assert_eq!(
            RestartTracker::new(policy(RestartMode::OnFailure)).on_exit(false, now),
            Decision::Stay
        );
        assert!(matches!(
            RestartTracker::new(policy(RestartMode::Always)).on_exit(false, now),
            Decision::Restart { .. }
        ));
    }
}
