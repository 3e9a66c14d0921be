//! Which events become desktop notifications, and when they are held back: a pure
//! rule set, unit-tested without a display. `host.rs` feeds it the event stream and
//! shows what it returns with notify-rust.

use std::collections::HashSet;

use aiswitch::alerts::AlertKind;
use aiswitch::coordinator::TaskStatus;
use aiswitch::events::Event;

use crate::i18n::{Lang, Text};

/// One desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The title.
    pub title: String,
    /// One line a user understands.
    pub body: String,
}

/// The rules and their memory: pause, and the alerts already shown.
#[derive(Debug, Default)]
pub struct NoticeRules {
    lang: Lang,
    /// Nothing is shown before this time (ms since the epoch).
    paused_until_ms: Option<i64>,
    /// Alert ids already shown (or held back while paused): each alert once.
    seen: HashSet<i64>,
}

impl NoticeRules {
    /// Rules speaking `lang`.
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            ..Self::default()
        }
    }

    /// Holds notifications back until `until_ms`; `None` resumes them.
    pub fn pause(&mut self, until_ms: Option<i64>) {
        self.paused_until_ms = until_ms;
    }

    /// Until when notifications are held back, if they are at `now_ms`.
    pub fn paused_until(&self, now_ms: i64) -> Option<i64> {
        self.paused_until_ms.filter(|until| *until > now_ms)
    }

    /// The notification `event` gives at `now_ms`, if any. Alerts (already
    /// de-duplicated and rate-limited by the engine's alerts module) notify once each;
    /// a finished task notifies only when the dashboard is not in front.
    pub fn notice(&mut self, event: &Event, now_ms: i64, window_focused: bool) -> Option<Notice> {
        let notice = match event {
            Event::AlertRaised { alert } => {
                if alert.acked || !self.seen.insert(alert.id) {
                    return None;
                }
                Notice {
                    title: self.lang.text(alert_title(alert.kind)).to_owned(),
                    body: alert.message.clone(),
                }
            }
            Event::TaskFinished {
                task,
                status: TaskStatus::Succeeded,
                tokens,
                cost_usd,
                ..
            } if !window_focused => Notice {
                title: self.lang.text(Text::TaskFinished).to_owned(),
                body: match cost_usd {
                    Some(cost) => format!("{task}: {} tokens, ${cost:.4}", tokens.total()),
                    None => format!("{task}: {} tokens", tokens.total()),
                },
            },
            _ => return None,
        };
        self.paused_until(now_ms).is_none().then_some(notice)
    }
}

fn alert_title(kind: AlertKind) -> Text {
    match kind {
        AlertKind::AgentCrashed => Text::AgentCrashed,
        AlertKind::RestartLimit => Text::RestartLimit,
        AlertKind::QuotaThreshold => Text::QuotaThreshold,
        AlertKind::QuotaFallback => Text::QuotaFallback,
        AlertKind::TaskFailed => Text::TaskFailed,
        AlertKind::TaskTimedOut => Text::TaskTimedOut,
        AlertKind::BudgetThreshold => Text::BudgetThreshold,
        AlertKind::BudgetUnpriced => Text::BudgetUnpriced,
        AlertKind::BudgetHardStop => Text::BudgetHardStop,
        AlertKind::EnvSwitchFailed => Text::EnvSwitchFailed,
        AlertKind::ErrorRate => Text::ErrorRate,
    }
}

#[cfg(test)]
mod tests {
    use aiswitch::agents::event::TokenCounts;
    use aiswitch::store::AlertRow;

    use super::*;

    fn alert(id: i64, kind: AlertKind) -> Event {
        Event::AlertRaised {
            alert: AlertRow {
                id,
                at_ms: 0,
                kind,
                subject: "claude".into(),
                message: format!("alert {id}"),
                acked: false,
            },
        }
    }

    fn finished(status: TaskStatus) -> Event {
        Event::TaskFinished {
            task: "t1".into(),
            status,
            reason: None,
            tokens: TokenCounts {
                input: 10,
                output: 8,
                ..TokenCounts::default()
            },
            cost_usd: Some(0.0123),
        }
    }

    #[test]
    fn each_alert_kind_gives_one_titled_notification() {
        let mut rules = NoticeRules::new(Lang::En);
        let crash = rules.notice(&alert(1, AlertKind::AgentCrashed), 0, false);
        assert_eq!(
            crash,
            Some(Notice {
                title: "Agent crashed".into(),
                body: "alert 1".into()
            })
        );
        assert_eq!(
            rules.notice(&alert(1, AlertKind::AgentCrashed), 0, false),
            None,
            "once"
        );
        for (id, kind) in AlertKind::ALL.into_iter().enumerate() {
            let notice = rules.notice(&alert(100 + id as i64, kind), 0, false);
            assert!(notice.is_some_and(|n| !n.title.is_empty()), "{kind:?}");
        }
    }

    #[test]
    fn a_finished_task_notifies_only_when_the_window_is_not_in_front() {
        let mut rules = NoticeRules::new(Lang::En);
        assert_eq!(
            rules.notice(&finished(TaskStatus::Succeeded), 0, true),
            None
        );
        let notice = rules
            .notice(&finished(TaskStatus::Succeeded), 0, false)
            .unwrap();
        assert_eq!(notice.title, "Task finished");
        assert_eq!(notice.body, "t1: 18 tokens, $0.0123");
        // A failed task notifies through its alert, not twice.
        assert_eq!(rules.notice(&finished(TaskStatus::Failed), 0, false), None);
    }

    #[test]
    fn pause_holds_everything_back_and_held_alerts_do_not_come_later() {
        let mut rules = NoticeRules::new(Lang::En);
        rules.pause(Some(1_000));
        assert_eq!(rules.paused_until(500), Some(1_000));
        assert_eq!(
            rules.notice(&alert(1, AlertKind::TaskFailed), 500, false),
            None
        );
        assert_eq!(
            rules.notice(&finished(TaskStatus::Succeeded), 500, false),
            None
        );
        // The pause is over: new ones show, the held one does not pop up.
        assert_eq!(rules.paused_until(1_000), None);
        assert_eq!(
            rules.notice(&alert(1, AlertKind::TaskFailed), 1_500, false),
            None
        );
        assert!(
            rules
                .notice(&alert(2, AlertKind::TaskFailed), 1_500, false)
                .is_some()
        );
        rules.pause(Some(10_000));
        rules.pause(None);
        assert!(
            rules
                .notice(&alert(3, AlertKind::TaskFailed), 2_000, false)
                .is_some()
        );
    }

    #[test]
    fn other_events_never_notify() {
        let mut rules = NoticeRules::new(Lang::En);
        let quiet = [
            Event::PresetAdded {
                preset: "p".into(),
                fields: vec![],
            },
            Event::AgentLog {
                agent: "a".into(),
                line: "x".into(),
            },
            Event::Subscribed { after: 0 },
        ];
        for event in quiet {
            assert_eq!(rules.notice(&event, 0, false), None, "{event:?}");
        }
    }

    #[test]
    fn chinese_titles() {
        let mut rules = NoticeRules::new(Lang::Zh);
        let notice = rules
            .notice(&alert(1, AlertKind::BudgetThreshold), 0, false)
            .unwrap();
        assert_eq!(notice.title, "预算提醒");
    }
}
