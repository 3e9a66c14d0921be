//! "Keep this one": an isolated task's agent's changes applied to the task's working
//! directory. `git apply --check` first; on a conflict nothing is written and the
//! refusal names the files. Git is run outside any repository the workdir may sit in
//! (the diff's paths are relative to the workdir), so a workdir that is not a
//! repository works the same.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::{Engine, TaskError};
use crate::Error;
use crate::coordinator::TaskResult;

/// Why an agent's changes cannot be kept.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// The task has no run of this agent.
    #[error("task {task} has no agent {agent}: see `aiswitch tasks show {task}`")]
    NoRun {
        /// The task.
        task: String,
        /// The agent asked for.
        agent: String,
    },
    /// The run left no diff (not isolated, or it changed nothing).
    #[error(
        "agent {agent} of task {task} has no changes to keep (only isolated tasks keep each agent's diff)"
    )]
    Nothing {
        /// The task.
        task: String,
        /// The agent.
        agent: String,
    },
    /// The diff does not apply; nothing was written.
    #[error("cannot keep {agent}'s changes: they conflict with {} in {}; nothing was written", files.join(", "), workdir.display())]
    Conflict {
        /// The agent.
        agent: String,
        /// The files that conflict.
        files: Vec<String>,
        /// The working directory.
        workdir: PathBuf,
    },
    /// Git could not be run.
    #[error("cannot run git to apply the changes: {0}")]
    Git(String),
}

/// What keeping a run's changes did.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    /// The task.
    pub task: String,
    /// The agent whose changes were applied.
    pub agent: String,
    /// The files written.
    pub files: Vec<String>,
    /// Where.
    pub workdir: PathBuf,
}

impl Engine {
    /// Applies `agent`'s diff from the finished task `task` to the task's workdir.
    pub fn keep_run(&self, task: &str, agent: &str) -> Result<Kept, Error> {
        let details = self
            .task_details(task)?
            .ok_or_else(|| TaskError::NotFound {
                id: task.to_owned(),
            })?;
        let result = details
            .task
            .result
            .and_then(|r| serde_json::from_value::<TaskResult>(r).ok())
            .ok_or_else(|| TaskError::Running {
                id: task.to_owned(),
            })?;
        let run = result
            .runs
            .iter()
            .find(|r| r.agent == agent)
            .ok_or_else(|| KeepError::NoRun {
                task: task.to_owned(),
                agent: agent.to_owned(),
            })?;
        let diff = run.diff.as_deref().filter(|d| !d.trim().is_empty());
        let diff = diff.ok_or_else(|| KeepError::Nothing {
            task: task.to_owned(),
            agent: agent.to_owned(),
        })?;
        let check = git_apply(&result.workdir, diff, true)?;
        if !check.0 {
            return Err(KeepError::Conflict {
                agent: agent.to_owned(),
                files: conflicting_files(&check.1),
                workdir: result.workdir.clone(),
            }
            .into());
        }
        let applied = git_apply(&result.workdir, diff, false)?;
        if !applied.0 {
            return Err(KeepError::Git(applied.1).into());
        }
        Ok(Kept {
            task: task.to_owned(),
            agent: agent.to_owned(),
            files: run.changed_files.clone(),
            workdir: result.workdir,
        })
    }
}

/// Runs `git apply [--check]` on `diff` in `workdir`: success and stderr.
fn git_apply(workdir: &Path, diff: &str, check: bool) -> Result<(bool, String), KeepError> {
    let mut cmd = Command::new("git");
    cmd.arg("apply");
    if check {
        cmd.arg("--check");
    }
    // Not inside whatever repository holds the workdir: paths are the workdir's.
    let ceiling = workdir.parent().unwrap_or(workdir);
    let mut child = cmd
        .current_dir(workdir)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| KeepError::Git(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(diff.as_bytes())
            .map_err(|e| KeepError::Git(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| KeepError::Git(e.to_string()))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The files `git apply --check` complained about.
fn conflicting_files(stderr: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("error: ") else {
            continue;
        };
        let file = match rest.strip_prefix("patch failed: ") {
            Some(at) => at.rsplit_once(':').map_or(at, |(file, _)| file),
            None => rest.split_once(": ").map_or(rest, |(file, _)| file),
        };
        if !files.iter().any(|f| f == file) {
            files.push(file.to_owned());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflicting_files_are_named_once() {
        let stderr = "error: patch failed: src/a.rs:3\nerror: src/a.rs: patch does not apply\nerror: notes/b.md: already exists in working directory\n";
        assert_eq!(conflicting_files(stderr), ["src/a.rs", "notes/b.md"]);
    }
}
