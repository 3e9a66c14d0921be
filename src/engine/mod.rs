//! The engine: the one API every front-end (CLI, daemon, desktop app) calls.
//!
//! It owns the paths, settings, the preset repository and the store, and records
//! every change it makes as an event. It holds no front-end logic: no printing, no
//! argument parsing, no exit codes.

mod agents;
mod budgets;
mod choice;
mod demo;
mod discovery;
mod doctor;
mod env;
mod exchange;
mod gateway;
mod import;
mod keep;
mod launch;
mod metrics;
mod plan;
mod runtime;
mod tasks;
mod usage;
mod usage_export;
mod views;

use std::time::Duration;

use crate::Error;
use crate::events::{Event, EventRecord};
use crate::paths::{Paths, ensure_private_dir};
use crate::presets::{Bundle, ExportOptions, Listing, Preset, PresetName, PresetRepo};
use crate::settings::Settings;
use crate::store::Store;

pub use agents::{AgentInfo, CheckReport, CheckUsage, Checked};
pub use budgets::{AlertError, BudgetRequest};
pub use choice::{PresetChoice, PresetSource};
pub use demo::DemoError;
pub use doctor::{DirectoryCheck, DoctorAgent, DoctorReport, Override};
pub use env::{EnvView, Verify};
pub use exchange::{AddOutcome, Change, FieldChange, ImportAction, ImportOptions, ImportOutcome};
pub use gateway::{QuotaView, Route};
pub use import::{ImportProgress, ImportReport, SourceReport, default_log_dir};
pub use keep::{KeepError, Kept};
pub use launch::Installed;
pub use metrics::{AgentMetrics, MethodMetrics, Percentiles};
pub use plan::{TaskError, TaskRequest};
pub use runtime::{AgentRuntime, AgentStatusView};
pub use tasks::{CleanReport, TaskDetails, Transcript};
pub use usage_export::{ExportError, ExportFormat};
pub use views::{AgentProviders, PresetOverview, PresetProblem, UsageReport};

/// The engine handle.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) paths: Paths,
    settings: Settings,
    /// The user's calendar (settings `timezone`, `week_start`), or `--timezone`'s.
    calendar: crate::calendar::Calendar,
    presets: PresetRepo,
    /// RPC metrics of this process's agents, shared by clones, flushed to the store.
    pub(crate) recorder: std::sync::Arc<crate::usage::MetricsRecorder>,
    /// Set in the engine host: its relay, woken after each commit of events. Other
    /// processes wake the host over its control socket instead.
    host: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<crate::events::relay::Relay>>>,
    /// The provider gateway of this process, started on first use.
    gateway: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<crate::gateway::Gateway>>>,
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
            calendar: settings.calendar().unwrap_or_default(),
            settings,
            presets,
            recorder: std::sync::Arc::default(),
            host: std::sync::Arc::default(),
            gateway: std::sync::Arc::default(),
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

    /// The user's calendar: days, weeks and months of budgets and reports.
    pub fn calendar(&self) -> &crate::calendar::Calendar {
        &self.calendar
    }

    /// This engine with its days in another time zone (`--timezone`).
    pub fn in_zone(&self, zone: &str) -> Result<Self, crate::calendar::CalendarError> {
        let mut other = self.clone();
        other.calendar = self.calendar.in_zone(zone)?;
        Ok(other)
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
        self.record(&[Event::PresetRemoved {
            preset: name.to_string(),
            switched_agents: switched.clone(),
        }])?;
        Ok(RemovedPreset {
            preset: name.to_string(),
            switched_agents: switched,
            fallback: self.current_preset()?.map(|p| p.to_string()),
        })
    }

    /// Marks a preset current.
    pub fn use_preset(&self, name: &PresetName) -> Result<(), Error> {
        self.presets.set_current(name)?;
        self.record(&[Event::PresetCurrent {
            preset: name.to_string(),
            file: None,
            agent: None,
        }])
    }

    /// Names `preset` in `dir`'s `.aiswitch.toml` (for `agent`, else for all);
    /// returns the file. The preset and agent must exist.
    pub fn use_preset_here(
        &self,
        dir: &std::path::Path,
        preset: &PresetName,
        agent: Option<&str>,
    ) -> Result<std::path::PathBuf, Error> {
        let found = self.preset(preset)?;
        let kind = found.kind;
        if let Some(agent) = agent {
            let manifest = self.agent_registry().get(agent)?;
            if self.client_kind(&manifest, &found).is_none() {
                return Err(crate::agents::AgentError::wrong_kind(
                    &manifest,
                    preset.as_str(),
                    kind,
                )
                .into());
            }
        }
        let file = crate::presets::directory::set(dir, preset, agent)?;
        self.record(&[Event::PresetCurrent {
            preset: preset.to_string(),
            file: Some(file.clone()),
            agent: agent.map(str::to_owned),
        }])?;
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

    /// The most recent stored events, newest first.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<EventRecord>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.recent_events(limit)?)
    }

    /// Up to `limit` stored events after id `after`, oldest first (commit order).
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<EventRecord>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        Ok(self.open_store()?.events_after(after, limit)?)
    }

    /// The id of the newest stored event, 0 when there is none.
    pub fn last_event_id(&self) -> Result<i64, Error> {
        if !self.paths.database().exists() {
            return Ok(0);
        }
        Ok(self.open_store()?.last_event_id()?)
    }

    /// Makes this engine the host of `relay`: it runs the relay itself after each
    /// commit of events instead of calling the control socket.
    pub(crate) fn host_relay(&self, relay: std::sync::Arc<crate::events::relay::Relay>) {
        let _ = self.host.set(relay);
    }

    pub(crate) fn open_store(&self) -> Result<Store, Error> {
        ensure_private_dir(&self.paths.data_dir)?;
        let timeout = Duration::from_millis(self.settings.busy_timeout_ms);
        Ok(Store::open(&self.paths.database(), timeout)?.with_calendar(self.calendar.clone())?)
    }

    /// Stores `events` in one transaction, then wakes the engine host so its
    /// subscribers get them.
    pub(crate) fn record(&self, events: &[Event]) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        self.open_store()?.record(events)?;
        self.wake_host();
        Ok(())
    }

    /// Tells the engine host (this process's relay, or the daemon's) that events
    /// were committed.
    pub(crate) fn wake_host(&self) {
        match self.host.get() {
            Some(relay) => relay.deliver(),
            None => crate::events::wake::host(&self.paths.control_socket()),
        }
    }
}

/// The non-secret facts about a preset worth recording: which fields and variable
/// names it sets, never their values.
fn describe(preset: &Preset) -> Vec<String> {
    let set = [
        ("base_url", preset.base_url.is_some()),
        ("api_key", preset.api_key.is_some()),
        ("model", preset.model.is_some()),
    ];
    let fields = set.into_iter().filter(|(_, is_set)| *is_set);
    let names = fields.map(|(name, _)| name.to_owned());
    names
        .chain(preset.env.keys().map(|k| format!("env.{k}")))
        .collect()
}
