//! What a screen shows, one engine call each, in the shape every front-end returns
//! unchanged: the CLI's `--json`, the control API, the desktop app.

use std::path::PathBuf;

use serde::Serialize;

use super::Engine;
use crate::Error;
use crate::presets::{PresetName, PresetView, Secrets};
use crate::store::{GroupBy, UsageFilter, UsageGroup};

/// Every preset as the user sees it, with the preset files that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct PresetOverview {
    /// The global current preset.
    pub current: Option<String>,
    /// The presets, secrets redacted.
    pub presets: Vec<PresetView>,
    /// Preset files that could not be read.
    pub problems: Vec<PresetProblem>,
}

/// A preset file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct PresetProblem {
    /// The file.
    pub file: PathBuf,
    /// What is wrong with it.
    pub error: String,
}

/// A usage summary: its window, its groups and their total.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    /// From (ms since the epoch), when bounded.
    pub since_ms: Option<i64>,
    /// Until (ms since the epoch), when bounded.
    pub until_ms: Option<i64>,
    /// One row per group (one row when ungrouped).
    pub groups: Vec<UsageGroup>,
    /// All the groups together.
    pub total: Option<UsageGroup>,
    /// The time zone of the days (`by: day`).
    pub timezone: String,
    /// With a breakdown: each group's usage by model, in the groups' order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<GroupModels>>,
}

/// One group's usage by model (`--breakdown`).
#[derive(Debug, Clone, Serialize)]
pub struct GroupModels {
    /// The group's key (a day, week or month).
    pub key: String,
    /// Its usage per model.
    pub models: Vec<UsageGroup>,
}

/// One installed agent with the presets it can switch to: a tray's Provider submenu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentProviders {
    /// The agent's id.
    pub agent: String,
    /// Its display name.
    pub name: String,
    /// The preset it is switched to, if any.
    pub active: Option<String>,
    /// The presets of a kind it takes, by name.
    pub presets: Vec<String>,
}

impl Engine {
    /// Every agent whose program is installed (found beside aiswitch or on PATH; no
    /// version probe), with the presets it can take and the one it is switched to.
    pub fn providers(&self) -> Result<Vec<AgentProviders>, Error> {
        let presets = self.list_presets()?.presets;
        let (entries, _) = self.agent_registry().list();
        let mut agents = Vec::new();
        for entry in entries {
            let manifest = entry.manifest;
            if crate::agents::resolve_command(&manifest.command).is_none() {
                continue;
            }
            let agent = manifest.id.to_string();
            let active = self.env_store(&agent).active().ok().flatten();
            agents.push(AgentProviders {
                presets: presets
                    .iter()
                    .filter(|p| self.client_kind(&manifest, p).is_some())
                    .map(|p| p.name.to_string())
                    .collect(),
                active: active.map(|a| a.preset),
                name: manifest.name,
                agent,
            });
        }
        Ok(agents)
    }

    /// Every preset, secrets redacted to the configured number of characters.
    pub fn preset_overview(&self) -> Result<PresetOverview, Error> {
        let listing = self.list_presets()?;
        let current = self.current_preset()?;
        let secrets = Secrets::Redact(self.settings().reveal_chars);
        let presets = listing
            .presets
            .iter()
            .map(|p| PresetView::new(p, current.as_ref() == Some(&p.name), secrets))
            .collect();
        let problems = listing
            .problems
            .iter()
            .map(|p| PresetProblem {
                file: p.path.clone(),
                error: p.error.to_string(),
            })
            .collect();
        Ok(PresetOverview {
            current: current.map(|c| c.to_string()),
            presets,
            problems,
        })
    }

    /// One preset with what it applies, secrets shown as `secrets` says.
    pub fn preset_view(&self, name: &PresetName, secrets: Secrets) -> Result<PresetView, Error> {
        let preset = self.preset(name)?;
        let current = self.current_preset()?.as_ref() == Some(name);
        Ok(PresetView::new(&preset, current, secrets).with_applies(&preset))
    }

    /// [`Engine::usage_report`] with each group split by model.
    pub fn usage_report_by_model(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<UsageReport, Error> {
        let mut report = self.usage_report(filter, by)?;
        let split = if self.paths.database().exists() {
            self.open_store()?.usage_breakdown(filter, by)?
        } else {
            Vec::new()
        };
        report.breakdown = Some(
            split
                .into_iter()
                .map(|(key, models)| GroupModels { key, models })
                .collect(),
        );
        Ok(report)
    }

    /// The 5-hour blocks of usage in `filter`'s window, as of now.
    pub fn usage_blocks(
        &self,
        filter: &UsageFilter,
    ) -> Result<Vec<crate::usage::blocks::Block>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        let points = self.open_store()?.usage_points(filter)?;
        Ok(crate::usage::blocks::blocks(
            &points,
            crate::store::now_ms(),
        ))
    }

    /// The usage in `filter`'s window, grouped `by`, with the total.
    pub fn usage_report(
        &self,
        filter: &UsageFilter,
        by: Option<GroupBy>,
    ) -> Result<UsageReport, Error> {
        let groups = self.usage_summary(filter, by)?;
        let total = match by {
            None => groups.first().cloned(),
            Some(_) => self.usage_summary(filter, None)?.into_iter().next(),
        };
        Ok(UsageReport {
            since_ms: filter.since_ms,
            until_ms: filter.until_ms,
            groups,
            total,
            timezone: self.calendar().zone_name(),
            breakdown: None,
        })
    }
}
