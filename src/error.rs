//! The library's top-level error: one variant per module error, with the exit code
//! and control-API error code each maps to.

use crate::agents::{AgentError, ManifestError};
use crate::paths::PathsError;
use crate::presets::PresetError;
use crate::settings::SettingsError;
use crate::store::StoreError;
use crate::supervisor::SupervisorError;

/// Any error the engine returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Directories could not be resolved or created.
    #[error(transparent)]
    Paths(#[from] PathsError),
    /// Settings are invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The demo could not be prepared.
    #[error(transparent)]
    Demo(#[from] crate::engine::DemoError),
    /// A preset operation failed.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An agent or manifest operation failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// Running an agent failed.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// A task request cannot run.
    #[error(transparent)]
    Task(#[from] crate::engine::TaskError),
    /// A budget is invalid, or refuses a run.
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
    /// An alert does not exist.
    #[error(transparent)]
    Alert(#[from] crate::engine::AlertError),
    /// Switching an agent's environment failed.
    #[error(transparent)]
    Env(#[from] crate::env::EnvError),
    /// An agent's changes could not be kept.
    #[error(transparent)]
    Keep(#[from] crate::engine::KeepError),
    /// A usage export could not be written.
    #[error(transparent)]
    Export(#[from] crate::engine::ExportError),
    /// The provider gateway cannot start or lease.
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
}

impl From<ManifestError> for Error {
    fn from(e: ManifestError) -> Self {
        Self::Agent(e.into())
    }
}

/// Process exit code for a usage error (bad input).
pub const EXIT_USAGE: u8 = 2;
/// Process exit code for a failed command.
pub const EXIT_FAILURE: u8 = 1;

impl Error {
    /// 2 when the user's input was wrong, 1 when the command failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Preset(e) if e.is_usage() => EXIT_USAGE,
            Self::Task(
                crate::engine::TaskError::NotFound { .. }
                | crate::engine::TaskError::Running { .. },
            ) => EXIT_FAILURE,
            Self::Agent(AgentError::WrongKind { .. }) | Self::Task(_) => EXIT_USAGE,
            Self::Budget(
                crate::budget::BudgetError::Exceeded { .. }
                | crate::budget::BudgetError::Unpriced { .. }
                | crate::budget::BudgetError::NotFound(_),
            ) => EXIT_FAILURE,
            Self::Budget(_) => EXIT_USAGE,
            Self::Env(
                crate::env::EnvError::InvalidName(_) | crate::env::EnvError::SnapshotExists { .. },
            ) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// The control API error code (DESIGN §4.2).
    pub fn code(&self) -> i32 {
        match self {
            Self::Preset(PresetError::NotFound { .. }) => -40201,
            Self::Preset(e) if e.is_usage() => -32602,
            Self::Paths(_) | Self::Settings(_) | Self::Demo(_) => -40403,
            Self::Preset(_) | Self::Store(_) => -40404,
            Self::Agent(AgentError::NotFound { .. } | AgentError::NotRunning { .. }) => -40001,
            Self::Agent(AgentError::AlreadyRunning { .. }) => -40005,
            Self::Agent(AgentError::WrongKind { .. }) => -32602,
            Self::Agent(_) => -40403,
            Self::Supervisor(SupervisorError::Busy { .. }) => -40005,
            Self::Supervisor(_) => -32000,
            Self::Task(_) => -32602,
            Self::Budget(
                crate::budget::BudgetError::Exceeded { .. }
                | crate::budget::BudgetError::Unpriced { .. },
            ) => -40501,
            Self::Budget(_) => -32602,
            Self::Alert(_) => -40601,
            Self::Env(e) => e.code(),
            Self::Keep(crate::engine::KeepError::NoRun { .. }) => -40101,
            Self::Keep(_) => -40102,
            Self::Export(_) => -40404,
            Self::Gateway(_) => -40403,
        }
    }

    /// A short stable name for scripts reading `--json` errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Paths(_) => "paths",
            Self::Demo(_) => "demo",
            Self::Settings(_) => "settings",
            Self::Store(_) => "storage",
            Self::Agent(AgentError::NotFound { .. }) => "agent_not_found",
            Self::Agent(AgentError::WrongKind { .. }) => "wrong_preset_kind",
            Self::Agent(AgentError::AlreadyExists { .. }) => "agent_exists",
            Self::Agent(AgentError::AlreadyRunning { .. }) => "agent_running",
            Self::Agent(AgentError::NotRunning { .. }) => "agent_not_running",
            Self::Agent(_) => "invalid_manifest",
            Self::Supervisor(SupervisorError::NotInstalled { .. }) => "agent_not_installed",
            Self::Supervisor(_) => "agent_failed",
            Self::Task(crate::engine::TaskError::NotFound { .. }) => "task_not_found",
            Self::Task(crate::engine::TaskError::Running { .. }) => "task_running",
            Self::Task(_) => "invalid_task",
            Self::Budget(crate::budget::BudgetError::Exceeded { .. }) => "budget_exceeded",
            Self::Budget(crate::budget::BudgetError::Unpriced { .. }) => "budget_cannot_price",
            Self::Budget(crate::budget::BudgetError::NotFound(_)) => "budget_not_found",
            Self::Budget(_) => "invalid_budget",
            Self::Alert(_) => "alert_not_found",
            Self::Env(crate::env::EnvError::SwitchFailed { .. }) => "switch_failed",
            Self::Env(crate::env::EnvError::SnapshotNotFound { .. }) => "snapshot_not_found",
            Self::Env(crate::env::EnvError::SnapshotCorrupt { .. }) => "snapshot_corrupt",
            Self::Env(_) => "env",
            Self::Keep(crate::engine::KeepError::Conflict { .. }) => "keep_conflict",
            Self::Keep(_) => "keep_failed",
            Self::Export(_) => "export_failed",
            Self::Gateway(_) => "gateway",
            Self::Preset(e) => match e {
                PresetError::NotFound { .. } => "preset_not_found",
                PresetError::AlreadyExists { .. } => "preset_exists",
                PresetError::IsCurrent { .. } => "preset_is_current",
                PresetError::Corrupt { .. } => "preset_corrupt",
                PresetError::BadImport { .. } => "bad_import",
                PresetError::Read { .. } => "unreadable",
                PresetError::Write { .. } => "unwritable",
                _ => "invalid_input",
            },
        }
    }
}
