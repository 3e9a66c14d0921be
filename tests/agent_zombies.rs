//! 1,000 spawn/exit cycles of the reference agent leave no zombie. Alone in its
//! test binary so no other test's transient children are counted.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use aiswitch::supervisor::Supervisor;
use common::procs;
use common::reference::{options, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_spawn_exit_cycles_leave_no_zombie() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    for i in 0..1000 {
        let handle = supervisor
            .start(spec(&format!("cycle-{i}"), &[]))
            .await
            .unwrap();
        handle.stop().await.unwrap();
    }
    drop(supervisor);
    let zombies = procs::zombies_of(std::process::id());
    assert!(zombies.is_empty(), "zombies: {zombies:?}");
    let children: Vec<u32> = procs::children_of(std::process::id())
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains("aiswitch-agent"))
        })
        .collect();
    assert!(children.is_empty(), "no agent left running: {children:?}");
}
