//! A task that runs long enough to be cancelled or killed: the reference agent
//! `slowpoke` (30 s per reply), started with `apply P --agents ...` in the background.

use std::process::{Child, Stdio};
use std::time::Duration;

use super::{Home, procs};

/// Registers `slowpoke` with `inject` (the preset kinds it takes).
pub fn register_slowpoke(home: &Home, inject: &str) {
    super::reference::register(home, "slowpoke", &["--latency-ms", "30000"], inject);
}

/// The newest running task's id.
pub fn running_task(home: &Home) -> Option<String> {
    let list = home
        .run(&["tasks", "list", "--status", "running", "--json"])
        .ok()
        .json();
    list["tasks"]
        .as_array()
        .unwrap()
        .first()
        .map(|t| t["id"].as_str().unwrap().to_owned())
}

/// Starts `apply PRESET --agents AGENTS --task go` (loose, `--json` on stdout) in
/// `work` and waits until it is recorded as running; returns the process and the id.
pub fn start(home: &Home, preset: &str, agents: &str, work: &str) -> (Child, String) {
    let child = home
        .cmd(&[
            "apply",
            preset,
            "--agents",
            agents,
            "--task",
            "go",
            "--workdir",
            work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut id = None;
    assert!(
        procs::eventually(Duration::from_secs(10), || {
            id = running_task(home);
            id.is_some()
        }),
        "the task is never recorded as running"
    );
    (child, id.unwrap())
}
