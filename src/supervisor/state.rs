//! Agent instance states and the events the supervisor publishes.

use serde::Serialize;

/// Where an agent instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    /// Not running.
    Stopped,
    /// Spawned, not yet initialized.
    Starting,
    /// Ready for a prompt.
    Idle,
    /// Working on a prompt.
    Busy,
    /// Faulted or gave up restarting.
    Error,
    /// Being stopped.
    Stopping,
}

impl AgentState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Starting => "starting",
            Self::Idle => "idle",
            Self::Busy => "busy",
            Self::Error => "error",
            Self::Stopping => "stopping",
        }
    }
}

/// Something that happened to an agent instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SupervisorEvent {
    /// A state transition.
    State {
        /// The instance.
        agent: String,
        /// The new state.
        state: AgentState,
        /// Its process, when running.
        pid: Option<u32>,
    },
    /// The agent faulted (malformed output, closed pipe, timeout, crash).
    Fault {
        /// The instance.
        agent: String,
        /// One line naming the agent and what it sent.
        message: String,
    },
    /// The process exited.
    Exited {
        /// The instance.
        agent: String,
        /// Exit code, if it exited normally.
        code: Option<i32>,
        /// Signal, if a signal ended it.
        signal: Option<i32>,
    },
    /// A restart is scheduled.
    Restarting {
        /// The instance.
        agent: String,
        /// Restarts within the current window, this one included.
        attempt: u32,
        /// Backoff before it, in milliseconds.
        after_ms: u64,
    },
    /// The start limit was hit: the agent stays in `error` (an alert).
    GaveUp {
        /// The instance.
        agent: String,
        /// Restarts within the window.
        restarts: u32,
    },
    /// A line the agent wrote to stderr.
    Log {
        /// The instance.
        agent: String,
        /// The line.
        line: String,
    },
}
