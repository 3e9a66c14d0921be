//! Where each agent of a task works: the shared workdir (loose, strict), or its own
//! copy (isolated): a git worktree on a new branch `aiswitch/<task>/<agent>` when the
//! workdir is a git repository, else a temporary copy. The user's workdir is never
//! written in isolated mode.

use std::path::{Path, PathBuf};
use std::process::Command;

/// An agent's working copy for one task.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Where the agent runs.
    pub dir: PathBuf,
    /// The branch, for a git worktree.
    pub branch: Option<String>,
    /// True for a git worktree (diffs come from git), false for a plain copy.
    pub git: bool,
}

/// Preparing or reading a workspace failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkspaceError(pub String);

fn git(dir: &Path, args: &[&str]) -> Result<String, WorkspaceError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    run_git(cmd, args)
}

/// Runs `git` (`cmd`, with its repository options set) with `args`; its stdout, or
/// an error with what git said.
pub(super) fn run_git(mut cmd: Command, args: &[&str]) -> Result<String, WorkspaceError> {
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| WorkspaceError(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(WorkspaceError(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when `dir` is inside a git work tree with at least one commit.
pub fn is_git_repo(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--verify", "HEAD"]).is_ok()
}

/// True when the git work tree has uncommitted changes (tracked or untracked).
pub fn is_dirty(dir: &Path) -> bool {
    git(dir, &["status", "--porcelain"]).is_ok_and(|s| !s.trim().is_empty())
}

/// Creates the isolated workspace of `agent` for task `task` under `root`.
pub fn isolated(
    workdir: &Path,
    root: &Path,
    task: &str,
    agent: &str,
) -> Result<Workspace, WorkspaceError> {
    let dir = root.join(agent);
    if is_git_repo(workdir) {
        let branch = format!("aiswitch/{task}/{agent}");
        git(
            workdir,
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                &branch,
                &dir.display().to_string(),
                "HEAD",
            ],
        )?;
        if is_dirty(workdir) {
            carry_uncommitted(workdir, &dir)?;
        }
        // The baseline the agent's diff is taken against: HEAD plus carried changes.
        commit_baseline(&dir)?;
        Ok(Workspace {
            dir,
            branch: Some(branch),
            git: true,
        })
    } else {
        copy_tree(workdir, &dir)?;
        // A private repository makes the diff of a plain copy as exact as a worktree's.
        git(&dir, &["init", "--quiet"])?;
        commit_baseline(&dir)?;
        Ok(Workspace {
            dir,
            branch: None,
            git: false,
        })
    }
}

/// Commits everything in `dir` as the baseline an agent's diff is taken against.
fn commit_baseline(dir: &Path) -> Result<(), WorkspaceError> {
    git(dir, &["add", "-A"])?;
    let identity = [
        "-c",
        "user.name=aiswitch",
        "-c",
        "user.email=aiswitch@localhost",
    ];
    let commit = [
        "commit",
        "--quiet",
        "--allow-empty",
        "--no-verify",
        "-m",
        "aiswitch: task baseline",
    ];
    let args: Vec<&str> = identity.iter().chain(&commit).copied().collect();
    git(dir, &args).map(|_| ())
}

/// The shared workdir (loose, strict).
pub fn shared(workdir: &Path) -> Workspace {
    Workspace {
        dir: workdir.to_path_buf(),
        branch: None,
        git: false,
    }
}

/// Copies the uncommitted changes (tracked diff and untracked files) of `from` into
/// the worktree `to`.
fn carry_uncommitted(from: &Path, to: &Path) -> Result<(), WorkspaceError> {
    let diff = git(from, &["diff", "HEAD", "--binary"])?;
    if !diff.trim().is_empty() {
        let patch = to.join(".aiswitch-carry.patch");
        std::fs::write(&patch, diff).map_err(|e| WorkspaceError(e.to_string()))?;
        git(
            to,
            &["apply", "--whitespace=nowarn", &patch.display().to_string()],
        )?;
        let _ = std::fs::remove_file(patch);
    }
    for file in git(from, &["ls-files", "--others", "--exclude-standard"])?.lines() {
        let target = to.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| WorkspaceError(e.to_string()))?;
        }
        std::fs::copy(from.join(file), &target).map_err(|e| WorkspaceError(e.to_string()))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), WorkspaceError> {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .map_err(|e| WorkspaceError(format!("cannot copy {}: {e}", from.display())))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(WorkspaceError(format!(
            "cannot copy {}: {}",
            from.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// What an agent changed in its isolated workspace: the unified diff and the files.
pub fn changes(ws: &Workspace) -> Result<(String, Vec<String>), WorkspaceError> {
    git(&ws.dir, &["add", "-A"])?;
    let diff = git(&ws.dir, &["diff", "--cached", "HEAD"])?;
    let files = git(&ws.dir, &["diff", "--cached", "--name-only", "HEAD"])?
        .lines()
        .map(str::to_owned)
        .collect();
    Ok((diff, files))
}
