//! Agents: manifests (what to run and how a preset reaches it), the registry of
//! built-in and registered manifests, drivers (each CLI's output as run events), and
//! the run-event model.

pub mod discovery;
pub mod drivers;
pub mod event;
#[cfg(test)]
mod golden_tests;
pub mod launch;
mod manifest;
mod registry;
pub mod transcript;
pub mod version;

use std::path::PathBuf;

pub use launch::{InjectedFile, Launch, stale_provider_vars};
pub use manifest::{
    Injection, KindInjection, Lifetime, Manifest, ManifestError, RestartMode, RestartPolicy,
};
pub use registry::{AgentEntry, AgentRegistry, Origin, resolve_command};

/// What can go wrong with agents.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No agent has this id.
    #[error("agent {id} does not exist: see `aiswitch agents list`")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// A manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// `agents start` of an agent that runs.
    #[error("agent {id} is already running: `aiswitch agents restart {id}` restarts it")]
    AlreadyRunning {
        /// The id.
        id: String,
    },
    /// `agents stop` of an agent that does not run.
    #[error("agent {id} is not running: see `aiswitch agents status`")]
    NotRunning {
        /// The id.
        id: String,
    },
    /// `register` over an existing agent without `--force`.
    #[error("agent {id} is already registered: use --force to replace it")]
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// The agent cannot use a preset of this kind.
    #[error(
        "agent {agent} cannot use preset {preset} (kind {kind}): it takes {} (through the gateway, an agent that takes anthropic or openai also takes a preset of the other with a key), so pick a preset of a kind it takes",
        kinds(accepts)
    )]
    WrongKind {
        /// The agent.
        agent: String,
        /// The preset.
        preset: String,
        /// The preset's kind.
        kind: crate::presets::ProviderKind,
        /// The kinds the agent takes.
        accepts: Vec<crate::presets::ProviderKind>,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl AgentError {
    /// The agent of `manifest` cannot use `preset`, of `kind`.
    pub fn wrong_kind(
        manifest: &Manifest,
        preset: &str,
        kind: crate::presets::ProviderKind,
    ) -> Self {
        Self::WrongKind {
            agent: manifest.id.to_string(),
            preset: preset.to_owned(),
            kind,
            accepts: manifest.inject.keys().copied().collect(),
        }
    }
}

fn kinds(accepts: &[crate::presets::ProviderKind]) -> String {
    if accepts.is_empty() {
        return "no preset kinds".into();
    }
    let names: Vec<&str> = accepts.iter().map(|k| k.as_str()).collect();
    format!("{} presets", names.join(" or "))
}
