//! 1,000 tasks of three fault-free reference agents all succeed; the success rate
//! and throughput are printed (the figure BENCHMARKS.md records comes from the
//! bench; this test asserts the rate is 100 %).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::time::{Duration, Instant};

use aiswitch::coordinator::{
    Assignment, Coordination, Order, TaskSpec, TaskStatus, new_task_id, run_task,
};
use common::reference::{options, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_three_agent_tasks_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut succeeded = 0;
    for i in 0..1000 {
        let agents = (1..=3)
            .map(|a| Assignment {
                launch: spec(&format!("a{a}"), &["--chunks", "1"]),
                preset: None,
            })
            .collect();
        let task = TaskSpec {
            id: new_task_id(),
            prompt: format!("task {i}"),
            agents,
            order: Order::Parallel,
            chain: false,
            coordination: Coordination::Loose,
            timeout: Duration::from_secs(30),
            workdir: dir.path().to_path_buf(),
            worktrees: dir.path().join("worktrees"),
            notes: Vec::new(),
        };
        let result = run_task(task, options(dir.path()), None, None).await;
        if result.status == TaskStatus::Succeeded
            && result
                .runs
                .iter()
                .all(|r| r.output == format!("echo: task {i}"))
        {
            succeeded += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "1,000 three-agent tasks: {succeeded} succeeded ({:.1} %), {:.0} tasks/min",
        succeeded as f64 / 10.0,
        1000.0 * 60.0 / secs
    );
    assert_eq!(succeeded, 1000, "success rate 100 %");
}
