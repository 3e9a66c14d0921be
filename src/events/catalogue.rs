//! One example of every event, in the order of [`Event`]: what the control API's
//! document lists (a test fails when a variant is missing from it).

use super::Event;
use crate::agents::event::TokenCounts;
use crate::alerts::AlertKind;
use crate::budget::{Budget, Limit, Period, Scope};
use crate::coordinator::{RunStatus, TaskStatus};
use crate::store::AlertRow;
use crate::supervisor::AgentState;

/// Every event kind with an example and what it means: a table, one row per kind.
#[rustfmt::skip]
pub fn examples() -> Vec<(Event, &'static str)> {
    let (agent, task, preset) = ("claude".to_owned(), "t1a2b3".to_owned(), "work".to_owned());
    let tokens = TokenCounts { input: 1200, output: 300, ..TokenCounts::default() };
    let alert = AlertRow {
        id: 7,
        at_ms: 1_764_561_600_000,
        kind: AlertKind::BudgetThreshold,
        subject: "budget 1".into(),
        message: "budget 1 (agent:claude, day) reached 80% of $5".into(),
        acked: false,
    };
    let fields = vec!["base_url".to_owned(), "api_key".to_owned()];
    let budget = Budget { id: 1, scope: Scope::Agent(agent.clone()), period: Period::Day, limit: Limit::Usd(5.0), thresholds: vec![80, 100], hard_stop: true, refuse_unpriced: false };
    vec![
        (Event::PresetAdded { preset: preset.clone(), fields: fields.clone() }, "a preset was created"),
        (Event::PresetChanged { preset: preset.clone(), fields }, "a preset was replaced (`add --force`, `import --force`)"),
        (Event::PresetRemoved { preset: preset.clone(), switched_agents: vec![agent.clone()] }, "a preset was removed"),
        (Event::PresetCurrent { preset: preset.clone(), file: Some("/home/me/app/.aiswitch.toml".into()), agent: None }, "a preset was made current (no `file`: globally)"),
        (Event::AgentRegistered { agent: agent.clone() }, "an agent manifest was registered"),
        (Event::AgentLaunched { agent: agent.clone(), preset: Some(preset.clone()) }, "`run` / `apply -- CMD` launched an agent CLI"),
        (Event::AgentState { agent: agent.clone(), state: AgentState::Idle, pid: Some(4242) }, "live: a supervised agent changed state"),
        (Event::AgentFault { agent: agent.clone(), message: "sent malformed JSON".into() }, "live: a supervised agent faulted"),
        (Event::AgentExited { agent: agent.clone(), code: Some(1), signal: None }, "live: its process exited"),
        (Event::AgentRestarting { agent: agent.clone(), attempt: 1, after_ms: 500 }, "live: a restart is scheduled"),
        (Event::AgentGaveUp { agent: agent.clone(), restarts: 5 }, "live: the start limit was hit"),
        (Event::AgentLog { agent: agent.clone(), line: "warming up".into() }, "live: a line it wrote to stderr"),
        (Event::AgentEnvRestarted { agent: agent.clone(), from: Some("old".into()), to: Some(preset.clone()) }, "live: restarted at the end of its turn onto a switch"),
        (Event::AgentEnvSwitchedLive { agent: agent.clone(), from: Some("old".into()), to: preset.clone() }, "live: moved onto a switch by the gateway, no restart, conversation kept"),
        (Event::QuotaWindowReset { preset: "claude-max".into(), window: "5h".into(), used_percent: 2.0 }, "a provider's quota window reset (read by the gateway from its headers)"),
        (Event::TaskStarted { task: task.clone(), agents: vec![agent.clone()], title: "add tests".into() }, "a task started"),
        (Event::RunStarted { task: task.clone(), agent: agent.clone() }, "live: an agent of the task started its turn"),
        (Event::RunOutput { task: task.clone(), agent: agent.clone(), text: "Done.".into() }, "live: a piece of its output"),
        (Event::RunThought { task: task.clone(), agent: agent.clone(), text: "The parser needs a test for empty input.".into() }, "live: a piece of its reasoning"),
        (Event::RunToolCall { task: task.clone(), agent: agent.clone(), name: "Edit src/parser.rs".into() }, "live: it called a tool"),
        (Event::RunUsage { task: task.clone(), agent: agent.clone(), tokens }, "live: tokens so far in its turn"),
        (Event::RunFinished { task: task.clone(), agent: agent.clone(), status: RunStatus::Succeeded }, "live: it finished its turn"),
        (Event::TaskFinished { task, status: TaskStatus::Failed, reason: Some("claude failed: exited".into()), tokens, cost_usd: Some(0.0081) }, "a task ended: succeeded, failed or cancelled, with the reason"),
        (Event::UsageRecorded { agents: vec![agent.clone()], rows: 1, tokens, cost_usd: Some(0.0081) }, "usage entered the ledger (a run, a task, a log import)"),
        (Event::BudgetSet { budget }, "a budget was set"),
        (Event::BudgetRemoved { budget: 1 }, "a budget was removed"),
        (Event::BudgetThresholdCrossed { alert: alert.clone() }, "spending crossed a budget threshold (an `alert_raised` follows)"),
        (Event::AlertRaised { alert }, "an alert was raised"),
        (Event::AlertsAcknowledged { alert: Some(7), count: 1 }, "alerts were acknowledged (`alert`: null for all)"),
        (Event::EnvSwitched { agent: agent.clone(), preset: preset.clone(), snapshot: Some("auto-1".into()), verified: false }, "an agent's provider was switched"),
        (Event::EnvRolledBack { agent: agent.clone(), preset: preset.clone(), snapshot: "auto-1".into() }, "an agent was rolled back to a snapshot"),
        (Event::EnvSnapshotTaken { agent, snapshot: "auto-1".into() }, "a snapshot of an agent's environment was taken"),
        (Event::ImportProgress { preset, action: "new".into(), done: 1, total: 3 }, "an import wrote a preset"),
        (Event::UsageImportProgress { what: "claude logs".into(), files_done: 120, files_total: 480, bytes_read: 262_144_000 }, "a long usage import is under way (at most one a second)"),
        (Event::ImportFinished { what: "presets".into(), written: 3, skipped: 0 }, "an import finished (`what`: presets, claude logs, codex logs)"),
        (Event::Subscribed { after: 41 }, "live: the first event of a subscription; stored events after `after` follow"),
        (Event::DaemonStarted { pid: 4200, version: crate::VERSION.into() }, "the daemon started"),
        (Event::DaemonStopping { pid: 4200 }, "the daemon is stopping"),
        (Event::AgentProbed { agent: "goose".into(), version: Some("1.9.0".into()), took_ms: 1840 }, "an agent program's version was found in the background"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive: a new variant does not compile until it is listed here, and the
    /// test fails until it has an example.
    fn ordinal(event: &Event) -> usize {
        match event {
            Event::PresetAdded { .. } => 0,
            Event::PresetChanged { .. } => 1,
            Event::PresetRemoved { .. } => 2,
            Event::PresetCurrent { .. } => 3,
            Event::AgentRegistered { .. } => 4,
            Event::AgentLaunched { .. } => 5,
            Event::AgentState { .. } => 6,
            Event::AgentFault { .. } => 7,
            Event::AgentExited { .. } => 8,
            Event::AgentRestarting { .. } => 9,
            Event::AgentGaveUp { .. } => 10,
            Event::AgentLog { .. } => 11,
            Event::AgentEnvRestarted { .. } => 12,
            Event::TaskStarted { .. } => 13,
            Event::RunStarted { .. } => 14,
            Event::RunOutput { .. } => 15,
            Event::RunUsage { .. } => 16,
            Event::RunFinished { .. } => 17,
            Event::TaskFinished { .. } => 18,
            Event::UsageRecorded { .. } => 19,
            Event::BudgetSet { .. } => 20,
            Event::BudgetRemoved { .. } => 21,
            Event::BudgetThresholdCrossed { .. } => 22,
            Event::AlertRaised { .. } => 23,
            Event::AlertsAcknowledged { .. } => 24,
            Event::EnvSwitched { .. } => 25,
            Event::EnvRolledBack { .. } => 26,
            Event::EnvSnapshotTaken { .. } => 27,
            Event::ImportProgress { .. } => 28,
            Event::ImportFinished { .. } => 29,
            Event::Subscribed { .. } => 30,
            Event::DaemonStarted { .. } => 31,
            Event::DaemonStopping { .. } => 32,
            Event::AgentProbed { .. } => 33,
            Event::RunThought { .. } => 34,
            Event::RunToolCall { .. } => 35,
            Event::AgentEnvSwitchedLive { .. } => 36,
            Event::QuotaWindowReset { .. } => 37,
            Event::UsageImportProgress { .. } => 38,
        }
    }

    #[test]
    fn every_event_has_one_example_that_round_trips() {
        let examples = examples();
        let mut ordinals: Vec<usize> = examples.iter().map(|(e, _)| ordinal(e)).collect();
        ordinals.sort_unstable();
        assert_eq!(ordinals, (0..=38).collect::<Vec<_>>());
        for (event, _) in examples {
            let text = serde_json::to_string(&event).expect("serialise");
            let back: Event = serde_json::from_str(&text).expect("deserialise");
            assert_eq!(back, event, "{text}");
            assert!(!event.summary().is_empty());
        }
    }
}
