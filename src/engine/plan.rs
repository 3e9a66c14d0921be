//! Turning a task request (from the CLI or the control API) into a runnable
//! [`TaskSpec`]: every check happens here, before any agent starts.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::Error;
use crate::agents::resolve_command;
use crate::coordinator::{Assignment, Coordination, Order, TaskSpec, new_task_id};
use crate::presets::PresetName;
use crate::supervisor::SupervisorError;

/// A task as a user asks for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    /// The default preset for agents that do not name one.
    pub preset: String,
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
    /// `any:N` is not supported.
    #[error("--agents any:N is not supported yet: name the agents")]
    AnyNotSupported,
}

impl Engine {
    /// Checks a request and resolves it into a task: presets exist, agents exist,
    /// can use their presets and are installed, the workdir exists.
    pub fn plan_task(&self, request: TaskRequest) -> Result<TaskSpec, Error> {
        let default_preset = PresetName::parse(&request.preset)?;
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
        let mut assignments: Vec<Assignment> = Vec::new();
        for (index, item) in request.agents.iter().enumerate() {
            if item.starts_with("any:") {
                return Err(TaskError::AnyNotSupported.into());
            }
            let (agent, preset) = match item.split_once(':') {
                Some((agent, preset)) => (agent, PresetName::parse(preset)?),
                None => (item.as_str(), default_preset.clone()),
            };
            let mut launch = self.launch_spec(agent, Some(&preset), workdir.clone())?;
            if resolve_command(&launch.manifest.command).is_none() {
                return Err(SupervisorError::NotInstalled {
                    agent: agent.to_owned(),
                    command: launch.manifest.command.clone(),
                }
                .into());
            }
            if assignments.iter().any(|a| a.launch.name == launch.name) {
                launch.name = format!("{agent}-{}", index + 1);
            }
            assignments.push(Assignment {
                launch,
                preset: Some(preset.to_string()),
            });
        }
        Ok(TaskSpec {
            id: new_task_id(),
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
        })
    }
}
