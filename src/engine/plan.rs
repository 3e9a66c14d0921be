//! Turning a task request (from the CLI or the control API) into a runnable
//! [`TaskSpec`]: every check happens here, before any agent starts.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Engine;
use super::choice::PresetSource;
use crate::Error;
use crate::agents::resolve_command;
use crate::coordinator::{Assignment, Coordination, Order, TaskSpec, new_task_id};
use crate::gateway::LaunchInfo;
use crate::presets::PresetName;
use crate::supervisor::SupervisorError;

/// A task as a user asks for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    /// The default preset for agents that do not name one; without it, each agent's
    /// preset comes from the workdir's `.aiswitch.toml`, its switched environment or
    /// the global current preset.
    #[serde(default)]
    pub preset: Option<String>,
    /// `agent` or `agent:preset`.
    pub agents: Vec<String>,
    /// One after another instead of all at once.
    #[serde(default)]
    pub sequential: bool,
    /// Each agent gets the previous one's output (sequential only).
    #[serde(default)]
    pub chain: bool,
    /// The coordination mode.
    pub coordination: Coordination,
    /// Seconds each agent may take.
    pub timeout_secs: u64,
    /// Where the agents work.
    pub workdir: PathBuf,
    /// The task text.
    pub task: String,
}

/// A task request that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// No task has this id.
    #[error("task {id} does not exist: see `aiswitch tasks list`")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The task is still running.
    #[error(
        "task {id} is still running: its worktrees stay until it ends (cancel it with `aiswitch tasks cancel {id}`)"
    )]
    Running {
        /// The task.
        id: String,
    },
    /// The task text is empty.
    #[error("the task is empty: say what the agents should do")]
    Empty,
    /// No agents.
    #[error("name at least one agent: --agents a,b")]
    NoAgents,
    /// `--chain` without `--sequential`.
    #[error("--chain needs --sequential (each agent gets the previous one's output)")]
    ChainNeedsSequential,
    /// The workdir does not exist.
    #[error("workdir {path} does not exist or is not a directory")]
    Workdir {
        /// The path.
        path: PathBuf,
    },
    /// `any:N` with a bad N.
    #[error("--agents any:N needs a number from 1 to 16, not {0:?}")]
    AnyCount(String),
    /// No preset was given and none applies to the agent.
    #[error(
        "no preset for {agent}: name one (aiswitch apply PRESET --agents ...), write `{agent}:PRESET`, add a .aiswitch.toml (`aiswitch use --here PRESET`), or set a current one (`aiswitch use PRESET`)"
    )]
    NoPreset {
        /// The agent.
        agent: String,
    },
    /// Fewer agents can take the preset than `any:N` asks for.
    #[error(
        "--agents any:{wanted}: only {found} installed agent(s) can use preset {preset}{list}; install more or ask for fewer"
    )]
    NotEnoughAgents {
        /// N.
        wanted: usize,
        /// How many qualify.
        found: usize,
        /// The preset.
        preset: String,
        /// The ones that qualify, as " (a, b)".
        list: String,
    },
}

impl Engine {
    /// Checks a request and resolves it into a task: presets exist, agents exist,
    /// can use their presets and are installed, the workdir exists.
    pub fn plan_task(&self, request: TaskRequest) -> Result<TaskSpec, Error> {
        let default_preset = request
            .preset
            .as_deref()
            .map(PresetName::parse)
            .transpose()?;
        if request.chain && !request.sequential {
            return Err(TaskError::ChainNeedsSequential.into());
        }
        if request.task.trim().is_empty() {
            return Err(TaskError::Empty.into());
        }
        if request.agents.is_empty() {
            return Err(TaskError::NoAgents.into());
        }
        let workdir = request
            .workdir
            .canonicalize()
            .ok()
            .filter(|p| p.is_dir())
            .ok_or(TaskError::Workdir {
                path: request.workdir.clone(),
            })?;
        let mut notes = Vec::new();
        let mut items: Vec<String> = Vec::new();
        for item in &request.agents {
            match item.strip_prefix("any:") {
                Some(count) => {
                    let preset = self
                        .choose_preset(None, default_preset.as_ref(), &workdir)?
                        .ok_or(TaskError::NoPreset {
                            agent: item.clone(),
                        })?
                        .preset;
                    let (picked, reason) = self.pick_agents(count, &preset, &items)?;
                    notes.push(reason);
                    items.extend(picked);
                }
                None => items.push(item.clone()),
            }
        }
        let id = new_task_id();
        let mut assignments: Vec<Assignment> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let (agent, named) = match item.split_once(':') {
                Some((agent, preset)) => (agent, Some(PresetName::parse(preset)?)),
                None => (item.as_str(), default_preset.clone()),
            };
            let choice = self
                .choose_preset(Some(agent), named.as_ref(), &workdir)?
                .ok_or_else(|| TaskError::NoPreset {
                    agent: agent.to_owned(),
                })?;
            let preset = choice.preset;
            // A switched agent runs with its environment as switched.
            let explicit = (choice.source != PresetSource::Switched).then_some(&preset);
            let mut launch = self.launch_spec(agent, explicit, workdir.clone())?;
            if resolve_command(&launch.manifest.command).is_none() {
                return Err(SupervisorError::not_installed(agent, &launch.manifest).into());
            }
            if assignments.iter().any(|a| a.launch.name == launch.name) {
                launch.name = format!("{agent}-{}", index + 1);
            }
            if let Some(lease) = &launch.lease {
                lease.0.relabel(LaunchInfo {
                    agent: launch.manifest.id.to_string(),
                    instance: (launch.name != launch.manifest.id.as_str())
                        .then(|| launch.name.clone()),
                    task_id: Some(id.clone()),
                    project: Some(workdir.display().to_string()),
                });
            }
            assignments.push(Assignment {
                launch,
                preset: Some(preset.to_string()),
            });
        }
        Ok(TaskSpec {
            id,
            prompt: request.task,
            agents: assignments,
            order: if request.sequential {
                Order::Sequential
            } else {
                Order::Parallel
            },
            chain: request.chain,
            coordination: request.coordination,
            timeout: Duration::from_secs(request.timeout_secs),
            workdir,
            worktrees: self.worktrees_dir(),
            notes,
        })
    }

    /// Picks `count` agents for `any:N`: installed, able to use the preset, not
    /// already named; agents with a history first (best recent success rate, then
    /// the fastest), then those without one, each group by id.
    /// Returns them and the reason, for the result.
    fn pick_agents(
        &self,
        count: &str,
        preset: &PresetName,
        taken: &[String],
    ) -> Result<(Vec<String>, String), Error> {
        let wanted: usize = count
            .parse()
            .ok()
            .filter(|n| (1..=16).contains(n))
            .ok_or_else(|| TaskError::AnyCount(count.to_owned()))?;
        let kind = self.preset(preset)?.kind;
        let store = if self.paths.database().exists() {
            Some(self.open_store()?)
        } else {
            None
        };
        // (id, (success rate, mean ms) when it has run before).
        let mut candidates: Vec<(String, Option<(f64, f64)>)> = Vec::new();
        for entry in self.agent_registry().list().0 {
            let id = entry.manifest.id.to_string();
            if taken.contains(&id)
                || !entry.manifest.accepts(kind)
                || resolve_command(&entry.manifest.command).is_none()
            {
                continue;
            }
            let (runs, ok, ms) = match &store {
                Some(store) => store.agent_track_record(&id)?,
                None => (0, 0, 0.0),
            };
            let record = (runs > 0).then(|| (ok as f64 / runs as f64, ms));
            candidates.push((id, record));
        }
        candidates.sort_by(|a, b| match (a.1, b.1) {
            (Some((rate_a, ms_a)), Some((rate_b, ms_b))) => rate_b
                .total_cmp(&rate_a)
                .then(ms_a.total_cmp(&ms_b))
                .then(a.0.cmp(&b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        });
        if candidates.len() < wanted {
            let names: Vec<&str> = candidates.iter().map(|c| c.0.as_str()).collect();
            let list = if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            };
            return Err(TaskError::NotEnoughAgents {
                wanted,
                found: candidates.len(),
                preset: preset.to_string(),
                list,
            }
            .into());
        }
        let picked: Vec<(String, Option<(f64, f64)>)> =
            candidates.into_iter().take(wanted).collect();
        let described: Vec<String> = picked
            .iter()
            .map(|(id, record)| match record {
                Some((rate, ms)) => format!(
                    "{id} ({:.0} % of recent runs succeeded, {:.0} ms on average)",
                    rate * 100.0,
                    ms
                ),
                None => format!("{id} (no history)"),
            })
            .collect();
        let reason = format!(
            "any:{wanted} picked {}: installed, able to use {kind} presets, best recent success rate, then fastest, then those with no history",
            described.join(", ")
        );
        Ok((picked.into_iter().map(|p| p.0).collect(), reason))
    }
}
