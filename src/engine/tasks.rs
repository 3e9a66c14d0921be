//! The engine's task records: start and finish, list, show with transcripts, clean
//! up worktrees.

use std::path::PathBuf;

use super::{Engine, TaskError};
use crate::Error;
use crate::events::Event;
use tokio::sync::mpsc;

use crate::alerts::AlertKind;
use crate::coordinator::{
    CancelWatch, RunStatus, TaskEvent, TaskResult, TaskSpec, TaskStatus, run_task,
};
use crate::store::{TaskQuery, TaskRow, TaskState};

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
    /// A task's whole life, the one used by the CLI and the engine host alike:
    /// [`Self::begin_task`] (reserve, record as running, `task_started`), then
    /// [`Self::run_begun_task`] (run, then finish on every path).
    pub async fn run_whole_task(
        &self,
        spec: TaskSpec,
        live: Option<mpsc::UnboundedSender<TaskEvent>>,
        cancel: Option<CancelWatch>,
    ) -> Result<TaskResult, Error> {
        self.begin_task(&spec)?;
        Ok(self.run_begun_task(spec, live, cancel).await)
    }

    /// Reserves a task's budget and records it as running. When a budget refuses it,
    /// or it cannot be recorded, nothing is held.
    pub fn begin_task(&self, spec: &TaskSpec) -> Result<(), Error> {
        self.reserve_task(spec)?;
        if let Err(e) = self
            .open_store()
            .and_then(|mut s| Ok(s.task_started(spec)?))
        {
            let _ = self.release(&[], Some(&spec.id));
            return Err(e);
        }
        self.record(&[Event::TaskStarted {
            task: spec.id.clone(),
            agents: spec.agents.iter().map(|a| a.launch.name.clone()).collect(),
            title: title(&spec.prompt),
        }])
    }

    /// Runs a begun task and finishes it, whatever happens: a workspace that cannot
    /// be prepared, an agent that cannot start, a cancel all end in a result that is
    /// recorded (failed or cancelled, with the reason), with the reservation
    /// released and `task_finished` sent.
    pub async fn run_begun_task(
        &self,
        spec: TaskSpec,
        live: Option<mpsc::UnboundedSender<TaskEvent>>,
        cancel: Option<CancelWatch>,
    ) -> TaskResult {
        let options = self.supervisor_options();
        let mut result = run_task(spec, options, live, cancel).await;
        if let Err(e) = self.finish_task(&mut result) {
            tracing::warn!(error = %e, task = %result.id, "cannot record a finished task");
            result
                .notes
                .push(format!("aiswitch could not record this result: {e}"));
        }
        result
    }

    /// Ends a task: prices its runs into the ledger, releases its reservation,
    /// records it with its runs and transcripts, sends `task_finished`, and raises an
    /// alert when it failed. Every step is tried; the first error is returned.
    fn finish_task(&self, result: &mut TaskResult) -> Result<(), Error> {
        let mut first_error = None;
        let mut step = |outcome: Result<(), Error>| {
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        };
        step(self.release(&[], Some(&result.id)));
        step(self.record_task_usage(result));
        step(self.flush_metrics());
        step(
            self.open_store()
                .and_then(|mut s| Ok(s.task_finished(result)?)),
        );
        step(self.record(&[Event::TaskFinished {
            task: result.id.clone(),
            status: result.status,
            reason: result.failure_reason(),
            tokens: result.tokens,
            cost_usd: result.cost_usd,
        }]));
        step(self.alert_failed_task(result));
        first_error.map_or(Ok(()), Err)
    }

    /// A failed task raises `task_failed`, or `task_timed_out` when a run timed out.
    fn alert_failed_task(&self, result: &TaskResult) -> Result<(), Error> {
        if result.status != TaskStatus::Failed {
            return Ok(());
        }
        let timed_out = result.runs.iter().any(|r| r.status == RunStatus::TimedOut);
        let (kind, what) = if timed_out {
            (AlertKind::TaskTimedOut, "timed out")
        } else {
            (AlertKind::TaskFailed, "failed")
        };
        let reason = result.failure_reason().unwrap_or_default();
        let message = format!("task {} {what}: {reason}", result.id);
        self.raise_alert(kind, &result.id, "", &message)?;
        Ok(())
    }

    /// One task's record without its result (`task.status`); `None` when unknown.
    pub fn task_row(&self, id: &str) -> Result<Option<TaskRow>, Error> {
        Ok(self.task_details(id)?.map(|details| TaskRow {
            result: None,
            ..details.task
        }))
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
        if !self.paths.database().exists() {
            return Ok(Vec::new());
        }
        let mut store = self.open_store()?;
        store.mark_interrupted()?;
        Ok(store.tasks(&TaskQuery::recent(status, limit))?)
    }

    /// One page of the tasks `query` matches, newest first, and how many match.
    pub fn find_tasks(&self, query: &TaskQuery) -> Result<(Vec<TaskRow>, u64), Error> {
        if !self.paths.database().exists() {
            return Ok((Vec::new(), 0));
        }
        let mut store = self.open_store()?;
        store.mark_interrupted()?;
        Ok((store.tasks(query)?, store.count_tasks(query)?))
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
                .tasks(&TaskQuery::recent(Some(TaskState::Running), usize::MAX))?
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

/// A task's title: the prompt's first line, at most 80 characters.
fn title(prompt: &str) -> String {
    let first_line = prompt.lines().next().unwrap_or_default();
    let mut title: String = first_line.chars().take(80).collect();
    if title.len() < first_line.len() {
        title.push('…');
    }
    title
}
