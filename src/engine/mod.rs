//! The engine: the one API every front-end (CLI, daemon, desktop app) calls.
//!
//! It owns the paths, settings, the preset repository and the store, and records
//! every change it makes as an event. It holds no front-end logic: no printing, no
//! argument parsing, no exit codes.

mod agents;
mod budgets;
mod choice;
mod demo;
mod doctor;
mod env;
mod exchange;
mod import;
mod launch;
mod metrics;
mod plan;
mod runtime;
mod tasks;
mod usage;

use std::time::Duration;

use serde_json::json;

use crate::Error;
use crate::paths::{Paths, ensure_private_dir};
use crate::presets::{Bundle, ExportOptions, Listing, Preset, PresetName, PresetRepo};
use crate::settings::Settings;
use crate::store::{Event, EventKind, Store};

pub use agents::{AgentInfo, CheckReport, CheckUsage};
pub use budgets::{AlertError, BudgetRequest};
pub use choice::{PresetChoice, PresetSource};
pub use demo::DemoError;
pub use doctor::{DirectoryCheck, DoctorAgent, DoctorReport, Override};
pub use env::{EnvView, Verify};
pub use exchange::{AddOutcome, Change, FieldChange, ImportAction, ImportOptions, ImportOutcome};
pub use import::{ImportReport, default_log_dir};
pub use launch::Installed;
pub use metrics::{AgentMetrics, MethodMetrics, Percentiles};
pub use plan::{TaskError, TaskRequest};
pub use runtime::{AgentRuntime, AgentStatusView, LiveEvent};
pub use tasks::{CleanReport, TaskDetails, Transcript};

/// The engine handle.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) paths: Paths,
    settings: Settings,
    presets: PresetRepo,
    /// RPC metrics of this process's agents, shared by clones, flushed to the store.
    pub(crate) recorder: std::sync::Arc<crate::usage::MetricsRecorder>,
}

/// What removing a preset did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RemovedPreset {
    /// The preset.
    pub preset: String,
    /// Agents that were switched to it and no longer are.
    pub switched_agents: Vec<String>,
    /// The global current preset they fall back to (unless a directory names one).
    pub fallback: Option<String>,
}

/// Which presets to export.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Every preset.
    All,
    /// One preset.
    One(PresetName),
}

impl Engine {
    /// An engine for the directories and settings of the process environment.
    pub fn from_env() -> Result<Self, Error> {
        let paths = Paths::from_env()?;
        let settings = Settings::load(&paths.config_file())?;
        Ok(Self::new(paths, settings))
    }

    /// An engine over explicit paths and settings.
    pub fn new(paths: Paths, settings: Settings) -> Self {
        let presets = PresetRepo::new(&paths.config_dir);
        Self {
            paths,
            settings,
            presets,
            recorder: std::sync::Arc::default(),
        }
    }

    /// Where the engine keeps its files.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The effective settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every preset and every preset file that could not be read.
    pub fn list_presets(&self) -> Result<Listing, Error> {
        Ok(self.presets.list()?)
    }

    /// One preset.
    pub fn preset(&self, name: &PresetName) -> Result<Preset, Error> {
        Ok(self.presets.get(name)?)
    }

    /// Removes a preset, and the files aiswitch derived from it (which hold its key).
    /// The current preset, or one that agents were switched to, only with `force`:
    /// those agents then run with the preset that resolves without a switch.
    pub fn remove_preset(&self, name: &PresetName, force: bool) -> Result<RemovedPreset, Error> {
        let switched = self.agents_switched_to(name);
        if !switched.is_empty() && !force {
            return Err(crate::presets::PresetError::InUse {
                name: name.to_string(),
                agents: switched.join(", "),
            }
            .into());
        }
        self.presets.remove(name, force)?;
        for agent in &switched {
            self.clear_switch(agent)?;
        }
        let inject = self.paths.data_dir.join("inject");
        for agent_dir in std::fs::read_dir(&inject).into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir_all(agent_dir.path().join(name.as_str()));
        }
        self.record(&[(
            EventKind::PresetRemoved,
            Some(name.as_str()),
            json!({ "switched_agents": switched }),
        )])?;
        Ok(RemovedPreset {
            preset: name.to_string(),
            switched_agents: switched,
            fallback: self.current_preset()?.map(|p| p.to_string()),
        })
    }

    /// Marks a preset current.
    pub fn use_preset(&self, name: &PresetName) -> Result<(), Error> {
        self.presets.set_current(name)?;
        self.record(&[(EventKind::PresetUsed, Some(name.as_str()), json!({}))])
    }

    /// Names `preset` in `dir`'s `.aiswitch.toml` (for `agent`, else for all);
    /// returns the file. The preset and agent must exist.
    pub fn use_preset_here(
        &self,
        dir: &std::path::Path,
        preset: &PresetName,
        agent: Option<&str>,
    ) -> Result<std::path::PathBuf, Error> {
        let kind = self.preset(preset)?.kind;
        if let Some(agent) = agent {
            let manifest = self.agent_registry().get(agent)?;
            if !manifest.accepts(kind) {
                return Err(crate::agents::AgentError::wrong_kind(
                    &manifest,
                    preset.as_str(),
                    kind,
                )
                .into());
            }
        }
        let file = crate::presets::directory::set(dir, preset, agent)?;
        self.record(&[(
            EventKind::PresetUsed,
            Some(preset.as_str()),
            json!({ "file": file, "agent": agent }),
        )])?;
        Ok(file)
    }

    /// The preset marked current, if any.
    pub fn current_preset(&self) -> Result<Option<PresetName>, Error> {
        Ok(self.presets.current()?)
    }

    /// Builds an export bundle.
    pub fn export_presets(
        &self,
        selection: &Selection,
        options: ExportOptions,
    ) -> Result<Bundle, Error> {
        let presets = match selection {
            Selection::One(name) => vec![self.presets.get(name)?],
            Selection::All => {
                let listing = self.presets.list()?;
                if let Some(problem) = listing.problems.into_iter().next() {
                    return Err(problem.error.into());
                }
                listing.presets
            }
        };
        Ok(Bundle::export(presets, options))
    }

    /// The most recent recorded changes, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<Event>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.recent_events(limit)?)
    }

    pub(crate) fn open_store(&self) -> Result<Store, Error> {
        ensure_private_dir(&self.paths.data_dir)?;
        let timeout = Duration::from_millis(self.settings.busy_timeout_ms);
        Ok(Store::open(&self.paths.database(), timeout)?)
    }

    pub(crate) fn record(
        &self,
        events: &[(EventKind, Option<&str>, serde_json::Value)],
    ) -> Result<(), Error> {
        Ok(self.open_store()?.record(events)?)
    }
}

/// The non-secret facts about a preset worth recording: which fields and variable
/// names it sets, never their values.
fn describe(preset: &Preset) -> serde_json::Value {
    let mut fields = vec!["kind"];
    if preset.base_url.is_some() {
        fields.push("base_url");
    }
    if preset.api_key.is_some() {
        fields.push("api_key");
    }
    if preset.model.is_some() {
        fields.push("model");
    }
    let env: Vec<&str> = preset.env.keys().map(|k| k.as_str()).collect();
    json!({ "kind": preset.kind.as_str(), "fields": fields, "env": env })
}
