//! The one event type: everything a user can see change, whoever changed it.
//!
//! Changes to stored state (presets, agents registered, tasks, usage, budgets, alerts,
//! env switches, imports, the daemon's life) are written to the store's `events` table
//! in the transaction order of the process that made them, each with an id, and reach
//! every subscriber of the engine host (see [`relay`]). What only exists while a process
//! runs (an agent's state and log lines, a task's per-agent progress and output) is
//! pushed live by the host and carries no id.
//!
//! On the wire an event is one JSON object, internally tagged:
//! `{"id": 42, "at_ms": 1764561600000, "event": "preset_added", "preset": "work", ...}`.

pub mod catalogue;
mod gather;
pub mod relay;
mod resume;
mod text;
pub mod wake;

pub use gather::{GATHER_FOR, Gathered};
pub use resume::Resume;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::agents::event::TokenCounts;
use crate::budget::Budget;
use crate::coordinator::{RunStatus, TaskEvent, TaskStatus};
use crate::store::{AlertRow, UsageAdded};
use crate::supervisor::{AgentState, SupervisorEvent};

/// Something a user can see change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A preset was created.
    PresetAdded {
        /// The preset.
        preset: String,
        /// The fields and variable names it sets (never their values).
        fields: Vec<String>,
    },
    /// A preset was replaced (`add --force`) or changed by an import.
    PresetChanged {
        /// The preset.
        preset: String,
        /// The fields and variable names it now sets.
        fields: Vec<String>,
    },
    /// A preset was removed.
    PresetRemoved {
        /// The preset.
        preset: String,
        /// Agents that were switched to it and no longer are.
        switched_agents: Vec<String>,
    },
    /// A preset was made current: globally, or in a directory's `.aiswitch.toml`.
    PresetCurrent {
        /// The preset.
        preset: String,
        /// The `.aiswitch.toml` that names it; `None` for the global current preset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<PathBuf>,
        /// The agent the directory entry is for; `None` for all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// An agent manifest was registered.
    AgentRegistered {
        /// The agent.
        agent: String,
    },
    /// The engine host found an agent program's version in the background (a listing
    /// showed it as probing).
    AgentProbed {
        /// The agent.
        agent: String,
        /// The version found, if one was.
        version: Option<String>,
        /// How long starting the program took, in milliseconds.
        took_ms: u64,
    },
    /// An agent CLI was launched interactively (`run`, `apply -- CMD`).
    AgentLaunched {
        /// The agent.
        agent: String,
        /// The preset it runs with.
        preset: Option<String>,
    },
    /// A supervised agent changed state (live).
    AgentState {
        /// The instance.
        agent: String,
        /// The new state.
        state: AgentState,
        /// Its process, when running.
        pid: Option<u32>,
    },
    /// A supervised agent faulted (live).
    AgentFault {
        /// The instance.
        agent: String,
        /// One line naming the agent and what it sent.
        message: String,
    },
    /// A supervised agent's process exited (live).
    AgentExited {
        /// The instance.
        agent: String,
        /// Exit code, if it exited normally.
        code: Option<i32>,
        /// Signal, if a signal ended it.
        signal: Option<i32>,
    },
    /// A restart of a supervised agent is scheduled (live).
    AgentRestarting {
        /// The instance.
        agent: String,
        /// Restarts within the current window, this one included.
        attempt: u32,
        /// Backoff before it, in milliseconds.
        after_ms: u64,
    },
    /// A supervised agent hit its start limit and stays in `error` (live).
    AgentGaveUp {
        /// The instance.
        agent: String,
        /// Restarts within the window.
        restarts: u32,
    },
    /// A line a supervised agent wrote to stderr (live).
    AgentLog {
        /// The instance.
        agent: String,
        /// The line.
        line: String,
    },
    /// A session agent restarted at the end of its turn to pick up a switch (live).
    AgentEnvRestarted {
        /// The agent.
        agent: String,
        /// The preset it ran with.
        from: Option<String>,
        /// The preset it runs with now.
        to: Option<String>,
    },
    /// A running session agent was moved onto a switch without a restart: the
    /// provider gateway re-pointed its launches, its next request goes to the new
    /// preset and its conversation is kept (live).
    AgentEnvSwitchedLive {
        /// The agent.
        agent: String,
        /// The preset it ran with.
        from: Option<String>,
        /// The preset its requests go to now.
        to: String,
    },
    /// A provider's quota window reset: the gateway saw a new window after the one
    /// it knew had ended.
    QuotaWindowReset {
        /// The preset (the provider account).
        preset: String,
        /// The window (`5h`, `7d`, `primary`, ...).
        window: String,
        /// How much of the new window is used.
        used_percent: f64,
    },
    /// A task started.
    TaskStarted {
        /// The task.
        task: String,
        /// Its agents, in order.
        agents: Vec<String>,
        /// The prompt's first line, shortened.
        title: String,
    },
    /// An agent of a task started its turn (live).
    RunStarted {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
    },
    /// A piece of an agent's output in a task (live).
    RunOutput {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
        /// The text.
        text: String,
    },
    /// A piece of an agent's reasoning in a task (live).
    RunThought {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
        /// The text.
        text: String,
    },
    /// An agent of a task called a tool (live).
    RunToolCall {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
        /// The tool or the call's title.
        name: String,
    },
    /// Tokens an agent reported so far in its turn (live).
    RunUsage {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
        /// The counts.
        tokens: TokenCounts,
    },
    /// An agent of a task finished its turn (live).
    RunFinished {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
        /// How.
        status: RunStatus,
    },
    /// A task ended (every path: succeeded, failed, not started, cancelled).
    TaskFinished {
        /// The task.
        task: String,
        /// How.
        status: TaskStatus,
        /// Why it failed, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Tokens over all runs.
        tokens: TokenCounts,
        /// Cost over the priced runs, USD.
        cost_usd: Option<f64>,
    },
    /// Usage was written to the ledger (a run, a task, an import).
    UsageRecorded {
        /// Agents the rows are for.
        agents: Vec<String>,
        /// Ledger rows written.
        rows: usize,
        /// Tokens over the rows.
        tokens: TokenCounts,
        /// Cost over the priced rows, USD.
        cost_usd: Option<f64>,
    },
    /// A budget was set.
    BudgetSet {
        /// The budget.
        budget: Budget,
    },
    /// A budget was removed.
    BudgetRemoved {
        /// Its id.
        budget: i64,
    },
    /// Spending crossed one of a budget's thresholds (the alert says which).
    BudgetThresholdCrossed {
        /// The alert raised for it.
        alert: AlertRow,
    },
    /// An alert was raised.
    AlertRaised {
        /// The alert.
        alert: AlertRow,
    },
    /// Alerts were acknowledged.
    AlertsAcknowledged {
        /// One alert's id, or `None` for all.
        alert: Option<i64>,
        /// How many.
        count: usize,
    },
    /// An agent's provider was switched.
    EnvSwitched {
        /// The agent.
        agent: String,
        /// The preset it runs with now.
        preset: String,
        /// The snapshot taken of what it ran with before.
        snapshot: Option<String>,
        /// Whether the switch was verified with a test prompt.
        verified: bool,
    },
    /// An agent's environment was rolled back to a snapshot.
    EnvRolledBack {
        /// The agent.
        agent: String,
        /// The preset of the snapshot.
        preset: String,
        /// The snapshot.
        snapshot: String,
    },
    /// A snapshot of an agent's environment was taken.
    EnvSnapshotTaken {
        /// The agent.
        agent: String,
        /// The snapshot.
        snapshot: String,
    },
    /// A preset was written by a running import.
    ImportProgress {
        /// The preset.
        preset: String,
        /// What happened to it: `new`, `changed`.
        action: String,
        /// Presets written so far.
        done: usize,
        /// Presets the import writes.
        total: usize,
    },
    /// A long usage import is under way (at most one a second).
    UsageImportProgress {
        /// What is read: `claude logs`, ...
        what: String,
        /// Files read so far.
        files_done: usize,
        /// Files to read.
        files_total: usize,
        /// Bytes read so far.
        bytes_read: u64,
    },
    /// An import finished.
    ImportFinished {
        /// What was imported: `presets` or a usage log source.
        what: String,
        /// Presets or ledger rows written.
        written: usize,
        /// Left as they were (unchanged, already imported, withheld).
        skipped: usize,
    },
    /// The first event of a subscription: the stored events after `after` follow.
    /// Resume a subscription with the id of the last stored event received, or this.
    Subscribed {
        /// The stored event id the stream starts after.
        after: i64,
    },
    /// The engine host (the daemon) started.
    DaemonStarted {
        /// Its process.
        pid: u32,
        /// The aiswitch version.
        version: String,
    },
    /// The engine host is stopping.
    DaemonStopping {
        /// Its process.
        pid: u32,
    },
}

/// An event as subscribers get it: the stored id (none for live events) and the time.
/// No event has fields called `id` or `at_ms`: those are the record's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Its row in the `events` table; `None` for live-only events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

impl EventRecord {
    /// A live event, now.
    pub fn live(event: Event) -> Self {
        Self {
            id: None,
            at_ms: crate::store::now_ms(),
            event,
        }
    }
}

impl Event {
    /// The tag, as stored in the `kind` column and sent as `event`.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => match map.remove("event") {
                Some(serde_json::Value::String(kind)) => kind,
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    /// The preset the event concerns, if any (the `preset` column).
    pub fn preset(&self) -> Option<&str> {
        match self {
            Self::PresetAdded { preset, .. }
            | Self::PresetChanged { preset, .. }
            | Self::PresetRemoved { preset, .. }
            | Self::PresetCurrent { preset, .. }
            | Self::EnvSwitched { preset, .. }
            | Self::EnvRolledBack { preset, .. }
            | Self::ImportProgress { preset, .. } => Some(preset),
            Self::AgentLaunched { preset, .. } => preset.as_deref(),
            _ => None,
        }
    }

    /// One line for a person (`events --follow` without `--json`).
    pub fn summary(&self) -> String {
        text::summary(self)
    }

    /// Whether the event is written to the store (and so has an id and can be
    /// resumed from); the others are live only.
    pub fn is_stored(&self) -> bool {
        !matches!(
            self,
            Self::AgentState { .. }
                | Self::AgentFault { .. }
                | Self::AgentExited { .. }
                | Self::AgentRestarting { .. }
                | Self::AgentGaveUp { .. }
                | Self::AgentLog { .. }
                | Self::AgentEnvRestarted { .. }
                | Self::AgentEnvSwitchedLive { .. }
                | Self::RunStarted { .. }
                | Self::RunOutput { .. }
                | Self::RunThought { .. }
                | Self::RunToolCall { .. }
                | Self::RunUsage { .. }
                | Self::RunFinished { .. }
                | Self::Subscribed { .. }
        )
    }

    /// The live event of a task's progress. `task_started` and `task_finished` are
    /// stored by the task lifecycle instead, so they map to `None` here.
    pub fn of_task(task: &str, event: TaskEvent) -> Option<Self> {
        let task = task.to_owned();
        Some(match event {
            TaskEvent::TaskStarted { .. } | TaskEvent::TaskFinished { .. } => return None,
            TaskEvent::Started { agent } => Self::RunStarted { task, agent },
            TaskEvent::Output { agent, text } => Self::RunOutput { task, agent, text },
            TaskEvent::Thought { agent, text } => Self::RunThought { task, agent, text },
            TaskEvent::ToolCall { agent, name } => Self::RunToolCall { task, agent, name },
            TaskEvent::Usage { agent, tokens } => Self::RunUsage {
                task,
                agent,
                tokens,
            },
            TaskEvent::Finished { agent, status } => Self::RunFinished {
                task,
                agent,
                status,
            },
        })
    }
}

impl Event {
    /// The progress of task `id` this event reports, as the coordinator reports it
    /// (the inverse of [`Event::of_task`], plus start and finish).
    pub fn task_progress(&self, id: &str) -> Option<TaskEvent> {
        let progress = match self {
            Self::TaskStarted { task, agents, .. } if task == id => TaskEvent::TaskStarted {
                agents: agents.clone(),
            },
            Self::RunStarted { task, agent } if task == id => TaskEvent::Started {
                agent: agent.clone(),
            },
            Self::RunOutput { task, agent, text } if task == id => TaskEvent::Output {
                agent: agent.clone(),
                text: text.clone(),
            },
            Self::RunThought { task, agent, text } if task == id => TaskEvent::Thought {
                agent: agent.clone(),
                text: text.clone(),
            },
            Self::RunToolCall { task, agent, name } if task == id => TaskEvent::ToolCall {
                agent: agent.clone(),
                name: name.clone(),
            },
            Self::RunUsage {
                task,
                agent,
                tokens,
            } if task == id => TaskEvent::Usage {
                agent: agent.clone(),
                tokens: *tokens,
            },
            Self::RunFinished {
                task,
                agent,
                status,
            } if task == id => TaskEvent::Finished {
                agent: agent.clone(),
                status: *status,
            },
            Self::TaskFinished { task, status, .. } if task == id => {
                TaskEvent::TaskFinished { status: *status }
            }
            _ => return None,
        };
        Some(progress)
    }
}

impl From<UsageAdded> for Event {
    fn from(added: UsageAdded) -> Self {
        Self::UsageRecorded {
            agents: added.agents.into_iter().collect(),
            rows: added.rows,
            tokens: added.tokens,
            cost_usd: added.cost_usd,
        }
    }
}

impl From<SupervisorEvent> for Event {
    fn from(event: SupervisorEvent) -> Self {
        match event {
            SupervisorEvent::State { agent, state, pid } => Self::AgentState { agent, state, pid },
            SupervisorEvent::Fault { agent, message } => Self::AgentFault { agent, message },
            SupervisorEvent::Exited {
                agent,
                code,
                signal,
            } => Self::AgentExited {
                agent,
                code,
                signal,
            },
            SupervisorEvent::Restarting {
                agent,
                attempt,
                after_ms,
            } => Self::AgentRestarting {
                agent,
                attempt,
                after_ms,
            },
            SupervisorEvent::GaveUp { agent, restarts } => Self::AgentGaveUp { agent, restarts },
            SupervisorEvent::Log { agent, line } => Self::AgentLog { agent, line },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_internally_tagged_with_its_id() {
        let record = EventRecord {
            id: Some(7),
            at_ms: 1,
            event: Event::PresetCurrent {
                preset: "work".into(),
                file: None,
                agent: None,
            },
        };
        let text = serde_json::to_string(&record).expect("serialise");
        assert_eq!(
            text,
            r#"{"id":7,"at_ms":1,"event":"preset_current","preset":"work"}"#
        );
        let back: EventRecord = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, record);
        assert_eq!(back.event.kind(), "preset_current");
    }
}
