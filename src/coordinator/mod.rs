//! The coordinator: one task, several agents, in parallel or in sequence (optionally
//! as a chain), under a coordination mode, with one aggregated result.
//!
//! - `isolated`: each agent works in its own git worktree (or temporary copy); the
//!   result holds each agent's diff; the user's workdir is untouched.
//! - `loose`: shared workdir, agents independent; one failure does not stop the rest.
//! - `strict`: shared workdir, writes serialized per file; the first failure or
//!   timeout cancels the others and fails the task.
//!
//! Not here: persistence of tasks and the live terminal display (front-ends).

mod cancel;
mod progress;
mod run;
mod snapshot;
mod workspace;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::agents::event::TokenCounts;
use crate::supervisor::LaunchSpec;

pub use cancel::{CancelWatch, Canceller, cancellation};
pub use progress::join_output;
pub use run::run_task;
pub use workspace::{Workspace, WorkspaceError, is_dirty, is_git_repo};

/// How agents are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// All at once.
    Parallel,
    /// One after another.
    Sequential,
}

/// How agents share the workdir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Coordination {
    /// Shared workdir, serialized writes, all or nothing.
    Strict,
    /// Shared workdir, independent agents.
    Loose,
    /// A copy per agent, diffs in the result.
    Isolated,
}

/// One agent of a task.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// What to launch (manifest, preset injection).
    pub launch: LaunchSpec,
    /// The preset's name, for the result.
    pub preset: Option<String>,
}

/// A task to run.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// The task's id (also in branch names).
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// The agents.
    pub agents: Vec<Assignment>,
    /// Parallel or sequential.
    pub order: Order,
    /// Each agent gets the previous one's output (sequential only).
    pub chain: bool,
    /// The coordination mode.
    pub coordination: Coordination,
    /// Per agent, start to end of its turn.
    pub timeout: Duration,
    /// The working directory.
    pub workdir: PathBuf,
    /// Where isolated workspaces go.
    pub worktrees: PathBuf,
    /// Things decided while planning (which agents `any:N` picked, and why).
    pub notes: Vec<String>,
}

/// How one agent's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// It answered.
    Succeeded,
    /// It failed or faulted.
    Failed,
    /// It did not answer in time.
    TimedOut,
    /// A strict task cancelled it after another agent failed.
    Cancelled,
    /// A strict sequential task stopped before its turn.
    Skipped,
}

/// One agent's part of a task.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RunResult {
    /// The agent (instance name: `claude`, `claude-2` for a second copy).
    pub agent: String,
    /// The agent's id (its manifest's), whatever the instance is called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The CLI's own session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The preset it used.
    pub preset: Option<String>,
    /// How it ended.
    pub status: RunStatus,
    /// The agent's stop reason.
    pub stop_reason: Option<String>,
    /// Its final output.
    pub output: String,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Wall time of its turn, in milliseconds.
    pub duration_ms: u64,
    /// Tokens it used: what the provider gateway metered when the run went
    /// through it, else what the agent reported.
    pub tokens: TokenCounts,
    /// What the agent itself reported, kept for comparison when the gateway's
    /// figures replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_tokens: Option<TokenCounts>,
    /// Cost in USD: reported by the agent, or priced from the table.
    pub cost_usd: Option<f64>,
    /// Where the cost came from: `agent`, `table` or `unpriced`.
    #[serde(default)]
    pub cost_source: Option<String>,
    /// The model, as the agent reported it or as the preset set it.
    #[serde(default)]
    pub model: Option<String>,
    /// Isolated: the unified diff of its changes.
    pub diff: Option<String>,
    /// Isolated: the files it changed.
    pub changed_files: Vec<String>,
    /// Isolated: where it worked (worktree or copy).
    pub workspace: Option<PathBuf>,
    /// Isolated in a git repository: its branch.
    pub branch: Option<String>,
    /// Everything the agent reported, in order (stored, not printed).
    #[serde(skip)]
    pub transcript: Vec<crate::agents::event::RunEvent>,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Succeeded under its mode.
    Succeeded,
    /// Failed under its mode.
    Failed,
    /// The user cancelled it (Ctrl-C, `tasks cancel`, the daemon stopping).
    Cancelled,
}

/// The aggregated result of a task.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TaskResult {
    /// The task's id.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// Parallel or sequential.
    pub order: Order,
    /// Chained.
    pub chain: bool,
    /// The coordination mode.
    pub coordination: Coordination,
    /// The outcome.
    pub status: TaskStatus,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// Tokens over all runs.
    pub tokens: TokenCounts,
    /// Cost over the runs that reported one, in USD.
    pub cost_usd: Option<f64>,
    /// Each agent's part.
    pub runs: Vec<RunResult>,
    /// Things the user should know (uncommitted changes copied, ...).
    pub notes: Vec<String>,
    /// Strict mode: the files put back as they were when the task failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<String>,
    /// The working directory.
    pub workdir: PathBuf,
}

/// Live progress of a task.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TaskEvent {
    /// The task started.
    TaskStarted {
        /// Its agents, in order.
        agents: Vec<String>,
    },
    /// An agent started its turn.
    #[serde(rename = "run_started")]
    Started {
        /// The agent.
        agent: String,
    },
    /// A piece of an agent's output.
    #[serde(rename = "run_output")]
    Output {
        /// The agent.
        agent: String,
        /// The text.
        text: String,
    },
    /// A piece of an agent's reasoning (thought) in its turn.
    #[serde(rename = "run_thought")]
    Thought {
        /// The agent.
        agent: String,
        /// The text.
        text: String,
    },
    /// An agent called a tool (its title: "Edit src/lib.rs", "Run cargo test").
    #[serde(rename = "run_tool_call")]
    ToolCall {
        /// The agent.
        agent: String,
        /// The tool or the call's title.
        name: String,
    },
    /// Tokens an agent reported so far in its turn.
    #[serde(rename = "run_usage")]
    Usage {
        /// The agent.
        agent: String,
        /// The counts.
        tokens: TokenCounts,
    },
    /// An agent finished its turn.
    #[serde(rename = "run_finished")]
    Finished {
        /// The agent.
        agent: String,
        /// How.
        status: RunStatus,
    },
    /// The task ended.
    TaskFinished {
        /// How.
        status: TaskStatus,
    },
}

impl RunStatus {
    /// The stored and serialised name (`timed_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }
}

impl TaskStatus {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl TaskResult {
    /// Why the task did not succeed, in one line; `None` when it succeeded.
    pub fn failure_reason(&self) -> Option<String> {
        if self.status == TaskStatus::Succeeded {
            return None;
        }
        let whole_task = self
            .notes
            .iter()
            .rev()
            .find(|n| n.starts_with("the task could not start") || n.starts_with("cancelled"));
        if let Some(note) = whole_task {
            return Some(note.clone());
        }
        let run = self
            .runs
            .iter()
            .find(|r| r.status != RunStatus::Succeeded)?;
        let status = run.status.as_str();
        Some(match &run.error {
            Some(error) => format!("{} {status}: {error}", run.agent),
            None => format!("{} {status}", run.agent),
        })
    }
}

/// The prompt of a chained agent: the task plus the previous agent's final output.
pub fn chain_prompt(task: &str, previous_agent: &str, previous_output: &str) -> String {
    format!(
        "{task}\n\n--- Output of the previous agent ({previous_agent}) ---\n{previous_output}\n--- End of previous output ---"
    )
}

/// A new task id: time-based, short, unique on this machine.
pub fn new_task_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("t{:x}", (nanos / 1_000) % (1u128 << 40))
}

#[cfg(test)]
mod status_names {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for s in [
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::TimedOut,
            RunStatus::Cancelled,
            RunStatus::Skipped,
        ] {
            assert_eq!(serde_json::to_value(s).expect("serialise"), s.as_str());
        }
        for s in [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::Cancelled,
        ] {
            assert_eq!(serde_json::to_value(s).expect("serialise"), s.as_str());
        }
    }
}
