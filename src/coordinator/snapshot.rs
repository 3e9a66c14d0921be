//! The shared workdir before and after agents (loose and strict tasks). A snapshot is
//! a git tree of every file git would not ignore, written into a private repository
//! beside the task's worktrees: the user's repository, index, HEAD and stash are never
//! touched, and the workdir need not be a repository at all. Two snapshots give the
//! files (and the diff) an agent changed; a strict task that fails puts the workdir
//! back to its first snapshot, the user's uncommitted edits included.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::workspace::{WorkspaceError, run_git};

/// The private repository that holds a task's snapshots of its workdir.
#[derive(Debug, Clone)]
pub struct Snapshots {
    git_dir: PathBuf,
    workdir: PathBuf,
}

/// One snapshot: a git tree id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree(String);

impl Snapshots {
    /// A snapshot repository at `git_dir` for `workdir`; `exclude` (aiswitch's own
    /// directories, when they lie inside the workdir) is never part of a snapshot.
    pub fn new(git_dir: &Path, workdir: &Path, exclude: &[&Path]) -> Result<Self, WorkspaceError> {
        let snapshots = Self {
            git_dir: git_dir.to_path_buf(),
            workdir: workdir.to_path_buf(),
        };
        if !git_dir.join("HEAD").exists() {
            // No template: no sample hooks to copy for every task.
            let out = Command::new("git")
                .args(["init", "--quiet", "--bare", "--template="])
                .arg(git_dir)
                .output()
                .map_err(|e| WorkspaceError(format!("cannot run git: {e}")))?;
            if !out.status.success() {
                return Err(WorkspaceError(format!(
                    "cannot create {}: {}",
                    git_dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            let patterns: String = exclude
                .iter()
                .filter_map(|dir| dir.strip_prefix(workdir).ok())
                .filter(|rel| !rel.as_os_str().is_empty())
                .map(|rel| format!("/{}/\n", rel.display()))
                .collect();
            if !patterns.is_empty() {
                let info = git_dir.join("info");
                std::fs::create_dir_all(&info)
                    .and_then(|()| std::fs::write(info.join("exclude"), patterns))
                    .map_err(|e| WorkspaceError(format!("cannot write {}: {e}", info.display())))?;
            }
        }
        Ok(snapshots)
    }

    fn git(&self, args: &[&str]) -> Result<String, WorkspaceError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.git_dir)
            .arg("--work-tree")
            .arg(&self.workdir)
            .current_dir(&self.workdir);
        run_git(cmd, args)
    }

    /// The workdir as it is now.
    pub fn take(&self) -> Result<Tree, WorkspaceError> {
        self.git(&["add", "--all", "."])?;
        Ok(Tree(self.git(&["write-tree"])?.trim().to_owned()))
    }

    /// The files that differ between two snapshots.
    pub fn changed(&self, from: &Tree, to: &Tree) -> Result<Vec<String>, WorkspaceError> {
        Ok(self
            .git(&[
                "diff-tree",
                "-r",
                "--no-renames",
                "--name-only",
                &from.0,
                &to.0,
            ])?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// The unified diff between two snapshots.
    pub fn diff(&self, from: &Tree, to: &Tree) -> Result<String, WorkspaceError> {
        self.git(&["diff-tree", "-r", "-p", "--no-renames", &from.0, &to.0])
    }

    /// Puts every file that changed since `to` back as it was in `to` (files created
    /// since are removed); returns those files.
    pub fn restore(&self, to: &Tree) -> Result<Vec<String>, WorkspaceError> {
        let now = self.take()?;
        let changed = self.changed(to, &now)?;
        for path in &changed {
            let existed = !self
                .git(&["ls-tree", "--name-only", &to.0, "--", path])?
                .trim()
                .is_empty();
            if existed {
                self.git(&["checkout", &to.0, "--", path])?;
            } else {
                let file = self.workdir.join(path);
                std::fs::remove_file(&file).map_err(|e| {
                    WorkspaceError(format!("cannot remove {}: {e}", file.display()))
                })?;
            }
        }
        Ok(changed)
    }
}
