//! The demo task: with nothing configured, three reference agents (one slower, one
//! reporting cache tokens and cost) on one task in a fresh git repository, each in
//! its own worktree. The CLI's `aiswitch demo` and the desktop app run the same.

use std::path::PathBuf;
use std::time::Duration;

use super::Engine;
use crate::Error;
use crate::coordinator::{Assignment, Coordination, Order, TaskSpec, new_task_id};

/// Why the demo cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The temporary repository cannot be created.
    #[error("cannot create the demo repository: {0}")]
    Repository(String),
    /// git is missing or failed.
    #[error("the demo needs git: install it (apt-get install git)")]
    NoGit,
}

impl Engine {
    /// Creates the demo repository (a fresh private directory with a random name,
    /// kept afterwards, as the result points into it) and the task to run in it;
    /// returns the task and the repository.
    pub fn demo_task(&self) -> Result<(TaskSpec, PathBuf), Error> {
        let repo = demo_repository()?;
        let agents = [
            ("fast", vec!["--latency-ms", "150"]),
            ("slow", vec!["--latency-ms", "1500", "--chunks", "6"]),
            (
                "cached",
                vec![
                    "--latency-ms",
                    "400",
                    "--cache-read",
                    "1800",
                    "--cache-write",
                    "400",
                    "--cost-usd",
                    "0.0042",
                ],
            ),
        ];
        let mut assignments = Vec::new();
        for (name, flags) in agents {
            let mut launch = self.bare_launch_spec("aiswitch-agent", repo.clone())?;
            launch.name = name.to_owned();
            launch.args = ["--name", name]
                .into_iter()
                .chain(flags)
                .map(str::to_owned)
                .collect();
            assignments.push(Assignment {
                launch,
                preset: None,
            });
        }
        let spec = TaskSpec {
            id: new_task_id(),
            prompt: "write NOTES-{name}.md Notes from {name}: this file was written in an isolated worktree.".into(),
            agents: assignments,
            order: Order::Parallel,
            chain: false,
            coordination: Coordination::Isolated,
            timeout: Duration::from_secs(60),
            workdir: repo.clone(),
            worktrees: self.worktrees_dir(),
            notes: Vec::new(),
        };
        Ok((spec, repo))
    }
}

/// A small committed project in a new private temporary directory.
fn demo_repository() -> Result<PathBuf, DemoError> {
    let failed = |e: std::io::Error| DemoError::Repository(e.to_string());
    // Created 0700 with a random name: never a directory another user planted.
    let root = tempfile::Builder::new()
        .prefix("aiswitch-demo-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .map_err(failed)?
        .keep();
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("src")).map_err(failed)?;
    std::fs::write(repo.join("README.md"), "# demo project\n").map_err(failed)?;
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").map_err(failed)?;
    for args in [
        &["init", "--quiet"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=aiswitch",
            "-c",
            "user.email=aiswitch@localhost",
            "commit",
            "--quiet",
            "-m",
            "demo project",
        ],
    ] {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(DemoError::NoGit);
        }
    }
    Ok(repo)
}
