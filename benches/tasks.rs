//! Coordinator benchmarks with real reference-agent processes. Prints a Markdown
//! table for BENCHMARKS.md.
//!
//! `cargo bench --bench tasks` (option: `-- --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use aiswitch::coordinator::{
    Assignment, Coordination, Order, TaskSpec, TaskStatus, new_task_id, run_task,
};
use aiswitch::supervisor::SupervisorOptions;
use support::percentile;

const AGENT: &str = env!("CARGO_BIN_EXE_aiswitch-agent");

fn assignment(name: &str) -> Assignment {
    Assignment {
        launch: support::reference(AGENT, name),
        preset: None,
    }
}

fn task(dir: &std::path::Path, agents: usize) -> TaskSpec {
    TaskSpec {
        id: new_task_id(),
        prompt: "hi".into(),
        agents: (0..agents).map(|i| assignment(&format!("a{i}"))).collect(),
        order: Order::Parallel,
        chain: false,
        coordination: Coordination::Loose,
        timeout: Duration::from_secs(30),
        workdir: dir.to_path_buf(),
        worktrees: dir.join("worktrees"),
        notes: Vec::new(),
    }
}

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let options = SupervisorOptions::new(dir.path().join("logs"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut wall = Vec::new();
        let mut overhead = Vec::new();
        for i in 0..runs + 10 {
            let start = Instant::now();
            let result = run_task(task(dir.path(), 10), options.clone(), None, None).await;
            let elapsed = start.elapsed();
            assert_eq!(result.status, TaskStatus::Succeeded);
            let longest = result.runs.iter().map(|r| r.duration_ms).max().unwrap_or(0);
            if i >= 10 {
                wall.push(elapsed);
                overhead.push(elapsed.saturating_sub(Duration::from_millis(longest)));
            }
        }
        wall.sort();
        overhead.sort();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!("| benchmark | runs | p50 | p99 |");
        println!("|---|---|---|---|");
        println!("| 10-agent parallel task, zero-latency agents, wall time | {} | {} | {} |", wall.len(), ms(percentile(&wall, 50.0)), ms(percentile(&wall, 99.0)));
        println!("| the same, beyond the longest agent's own turn (spawn → reply → stop) | {} | {} | {} |", overhead.len(), ms(percentile(&overhead, 50.0)), ms(percentile(&overhead, 99.0)));

        let start = Instant::now();
        let count = runs * 5;
        for _ in 0..count {
            let result = run_task(task(dir.path(), 3), options.clone(), None, None).await;
            assert_eq!(result.status, TaskStatus::Succeeded);
        }
        let per_minute = count as f64 * 60.0 / start.elapsed().as_secs_f64();
        println!("\n3-agent tasks, one after another: {per_minute:.0} tasks/min ({count} tasks)");
    });
}
