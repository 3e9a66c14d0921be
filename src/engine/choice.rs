//! Which preset applies, and why: the one named on the command line, else the
//! nearest `.aiswitch.toml` (the agent's entry, then its default), else the agent's
//! switched environment (`env switch`), else the global current preset (`use`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Engine;
use crate::Error;
use crate::presets::PresetName;
use crate::presets::directory;

/// Where the preset in force comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum PresetSource {
    /// Named on the command line.
    Flag,
    /// A `.aiswitch.toml` in this directory or above.
    Directory {
        /// The file.
        file: PathBuf,
    },
    /// The agent's active environment, set by `env switch`.
    Switched,
    /// The global current preset, set by `use`.
    Global,
}

impl PresetSource {
    /// How `current` says it.
    pub fn describe(&self) -> String {
        match self {
            Self::Flag => "named on the command line".into(),
            Self::Directory { file } => format!("from {}", file.display()),
            Self::Switched => "the agent's switched environment (`aiswitch env show`)".into(),
            Self::Global => "the global current preset (`aiswitch use`)".into(),
        }
    }
}

/// The preset that applies, if any, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresetChoice {
    /// The preset.
    pub preset: PresetName,
    /// Why this one.
    #[serde(flatten)]
    pub source: PresetSource,
}

impl Engine {
    /// The preset `apply` sets on a command: as [`Engine::choose_preset`], but never
    /// an agent's switched environment (that belongs to the agent's own launches):
    /// the flag, the directory's, else the global current preset.
    pub fn choose_command_preset(
        &self,
        agent: Option<&str>,
        flag: Option<&PresetName>,
        dir: &Path,
    ) -> Result<Option<PresetChoice>, Error> {
        let choice = self
            .choose_preset(agent, flag, dir)?
            .filter(|c| c.source != PresetSource::Switched);
        if choice.is_some() || flag.is_some() {
            return Ok(choice);
        }
        Ok(self.current_preset()?.map(|preset| PresetChoice {
            preset,
            source: PresetSource::Global,
        }))
    }

    /// The preset for `agent` (or for any command, without one) in `dir`: `flag`,
    /// else the nearest `.aiswitch.toml`, else the agent's switched environment, else
    /// the global current preset. A malformed `.aiswitch.toml` is an error naming it.
    pub fn choose_preset(
        &self,
        agent: Option<&str>,
        flag: Option<&PresetName>,
        dir: &Path,
    ) -> Result<Option<PresetChoice>, Error> {
        if let Some(preset) = flag {
            return Ok(Some(PresetChoice {
                preset: preset.clone(),
                source: PresetSource::Flag,
            }));
        }
        if let Some((preset, file)) = directory::resolve(dir, agent)? {
            return Ok(Some(PresetChoice {
                preset,
                source: PresetSource::Directory { file },
            }));
        }
        if let Some(agent) = agent
            && let Some(active) = self.env_store(agent).active()?
        {
            return Ok(Some(PresetChoice {
                preset: PresetName::parse(&active.preset)?,
                source: PresetSource::Switched,
            }));
        }
        Ok(self.current_preset()?.map(|preset| PresetChoice {
            preset,
            source: PresetSource::Global,
        }))
    }
}
