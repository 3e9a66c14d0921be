//! The engine's task records: start and finish, list, show with transcripts, clean
//! up worktrees.

use std::path::PathBuf;

use super::{Engine, TaskError};
use crate::Error;
use crate::coordinator::{TaskResult, TaskSpec};
use crate::store::{TaskRow, TaskState};

/// One run's stored events.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transcript {
    /// The agent.
    pub agent: String,
    /// Its run events, in order.
    pub events: Vec<serde_json::Value>,
}

/// A task with its result and transcripts, as `tasks show` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskDetails {
    /// The task and its result.
    pub task: TaskRow,
    /// Each run's transcript.
    pub transcripts: Vec<Transcript>,
}

impl Engine {
    /// Records a task as running in this process.
    pub fn task_started(&self, spec: &TaskSpec) -> Result<(), Error> {
        Ok(self.open_store()?.task_started(spec)?)
    }

    /// Prices the task's runs, records them in the usage ledger, and records the
    /// finished task with its runs and transcripts.
    pub fn task_finished(&self, result: &mut TaskResult) -> Result<(), Error> {
        self.record_task_usage(result)?;
        self.release(&[], Some(&result.id))?;
        self.flush_metrics()?;
        self.open_store()?.task_finished(result)?;
        if result.status == crate::coordinator::TaskStatus::Failed {
            use crate::coordinator::RunStatus;
            let timed_out = result.runs.iter().any(|r| r.status == RunStatus::TimedOut);
            let failing: Vec<String> = result
                .runs
                .iter()
                .filter(|r| r.status != RunStatus::Succeeded)
                .map(|r| {
                    format!(
                        "{} {}",
                        r.agent,
                        serde_json::to_value(r.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let (kind, what) = if timed_out {
                (crate::alerts::AlertKind::TaskTimedOut, "timed out")
            } else {
                (crate::alerts::AlertKind::TaskFailed, "failed")
            };
            let message = format!("task {} {what}: {}", result.id, failing.join(", "));
            self.raise_alert(kind, &result.id, "", &message)?;
        }
        Ok(())
    }

    /// Recent tasks, newest first; tasks whose process died are marked interrupted.
    pub fn list_tasks(
        &self,
        status: Option<TaskState>,
        limit: usize,
    ) -> Result<Vec<TaskRow>, Error> {
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        let mut store = self.open_store()?;
        store.mark_interrupted()?;
        Ok(store.tasks(status, limit)?)
    }

    /// Marks tasks whose process died as interrupted (the daemon does this at start).
    pub fn mark_interrupted_tasks(&self) -> Result<usize, Error> {
        Ok(self.open_store()?.mark_interrupted()?)
    }

    /// One task with its result and each run's transcript.
    pub fn task_details(&self, id: &str) -> Result<Option<TaskDetails>, Error> {
        let mut store = self.open_store()?;
        store.mark_interrupted()?;
        let Some(task) = store.task(id)? else {
            return Ok(None);
        };
        let mut transcripts = Vec::new();
        for agent in task.agents.split(',').filter(|a| !a.is_empty()) {
            let events = store.transcript(id, agent)?;
            transcripts.push(Transcript {
                agent: agent.to_owned(),
                events,
            });
        }
        Ok(Some(TaskDetails { task, transcripts }))
    }

    /// The process running a task.
    pub fn task_pid(&self, id: &str) -> Result<u32, Error> {
        Ok(self.open_store()?.task_pid(id)?.unwrap_or_default())
    }

    /// Where isolated worktrees of tasks live.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.paths.data_dir.join("worktrees")
    }

    /// Removes the worktrees of one task, or of every task that is not running;
    /// the agents' branches stay in the repository. A running task's worktrees are
    /// where its agents work: they are skipped (named in the report), and asking for
    /// one running task, or for a task that does not exist, is an error.
    pub fn clean_tasks(&self, id: Option<&str>) -> Result<CleanReport, Error> {
        let root = self.worktrees_dir();
        let running: Vec<String> = if self.paths.database().exists() {
            let mut store = self.open_store()?;
            store.mark_interrupted()?;
            store
                .tasks(Some(TaskState::Running), usize::MAX)?
                .into_iter()
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        let ids: Vec<String> = match id {
            Some(id) => {
                if running.iter().any(|r| r == id) {
                    return Err(TaskError::Running { id: id.to_owned() }.into());
                }
                let known =
                    self.paths.database().exists() && self.open_store()?.task(id)?.is_some();
                if !known && !root.join(id).is_dir() {
                    return Err(TaskError::NotFound { id: id.to_owned() }.into());
                }
                vec![id.to_owned()]
            }
            None => std::fs::read_dir(&root)
                .map(|rd| {
                    rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut report = CleanReport::default();
        for id in ids {
            let dir = root.join(&id);
            if !dir.is_dir() {
                continue;
            }
            if running.contains(&id) {
                report.skipped_running.push(id);
                continue;
            }
            // A git worktree is removed through its repository so git forgets it too.
            for ws in std::fs::read_dir(&dir)
                .map(|rd| rd.filter_map(Result::ok).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let path = ws.path();
                let _ = std::process::Command::new("git")
                    .arg("-C")
                    .arg(&path)
                    .args(["worktree", "remove", "--force", "."])
                    .output();
            }
            let _ = std::fs::remove_dir_all(&dir);
            report.cleaned.push(id);
        }
        report.cleaned.sort();
        report.skipped_running.sort();
        Ok(report)
    }
}

/// What `tasks clean` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CleanReport {
    /// Tasks whose worktrees were removed.
    pub cleaned: Vec<String>,
    /// Running tasks whose worktrees were left alone.
    pub skipped_running: Vec<String>,
}
