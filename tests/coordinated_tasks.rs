//! One task across several reference agents: every order × coordination mode,
//! strict serialization and cancellation, isolated diffs, chains, timeouts.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aiswitch::coordinator::{
    Assignment, Coordination, Order, RunStatus, TaskSpec, TaskStatus, run_task,
};
use common::reference::{options, spec};

fn agent(name: &str, flags: &[&str]) -> Assignment {
    let mut all = vec!["--name", name];
    all.extend_from_slice(flags);
    Assignment {
        launch: spec(name, &all),
        preset: None,
    }
}

fn task(
    dir: &Path,
    prompt: &str,
    agents: Vec<Assignment>,
    order: Order,
    coordination: Coordination,
) -> TaskSpec {
    TaskSpec {
        id: aiswitch::coordinator::new_task_id(),
        prompt: prompt.into(),
        agents,
        order,
        chain: false,
        coordination,
        timeout: Duration::from_secs(10),
        workdir: dir.join("work"),
        worktrees: dir.join("worktrees"),
        notes: Vec::new(),
    }
}

fn workdir(dir: &Path, git: bool) {
    let work = dir.join("work");
    std::fs::create_dir_all(work.join("src")).unwrap();
    std::fs::write(work.join("README.md"), "# project\n").unwrap();
    std::fs::write(work.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    if git {
        for args in [
            vec!["init", "--quiet"],
            vec!["add", "-A"],
            vec![
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "--quiet",
                "-m",
                "init",
            ],
        ] {
            assert!(
                Command::new("git")
                    .arg("-C")
                    .arg(&work)
                    .args(&args)
                    .status()
                    .unwrap()
                    .success()
            );
        }
    }
}

/// Every file under `dir` except `.git`, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

async fn run(t: TaskSpec, dir: &Path) -> aiswitch::coordinator::TaskResult {
    run_task(t, options(dir), None, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_and_mode_with_healthy_agents_succeeds() {
    for order in [Order::Parallel, Order::Sequential] {
        for coordination in [
            Coordination::Strict,
            Coordination::Loose,
            Coordination::Isolated,
        ] {
            let dir = tempfile::tempdir().unwrap();
            workdir(dir.path(), coordination == Coordination::Isolated);
            let agents = vec![
                agent("a1", &[]),
                agent("a2", &["--cache-read", "5"]),
                agent("a3", &["--cost-usd", "0.01"]),
            ];
            let result = run(
                task(dir.path(), "hello {name}", agents, order, coordination),
                dir.path(),
            )
            .await;
            assert_eq!(
                result.status,
                TaskStatus::Succeeded,
                "{order:?} {coordination:?}: {result:?}"
            );
            let outputs: Vec<&str> = result.runs.iter().map(|r| r.output.as_str()).collect();
            assert_eq!(
                outputs,
                ["echo: hello a1", "echo: hello a2", "echo: hello a3"],
                "{order:?} {coordination:?}"
            );
            assert_eq!(result.tokens.input, 33, "usage adds up over the runs");
            assert_eq!(result.tokens.cache_read, 5);
            assert_eq!(result.cost_usd, Some(0.01));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loose_one_crash_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    workdir(dir.path(), false);
    let agents = vec![
        agent("ok1", &[]),
        agent("boom", &["--crash-after", "0"]),
        agent("ok2", &["--latency-ms", "200"]),
    ];
    let result = run(
        task(
            dir.path(),
            "go",
            agents,
            Order::Parallel,
            Coordination::Loose,
        ),
        dir.path(),
    )
    .await;
    let statuses: Vec<RunStatus> = result.runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Succeeded
        ]
    );
    assert_eq!(
        result.status,
        TaskStatus::Succeeded,
        "loose: independent agents"
    );
    assert!(
        result.runs[1]
            .error
            .as_deref()
            .unwrap()
            .contains("boom exited during a prompt")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_serializes_writers_and_a_failure_cancels_the_rest_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    workdir(dir.path(), false);
    let content = |name: &str| format!("written by {name} {}", "x".repeat(200_000));
    let agents: Vec<Assignment> = (1..=4).map(|i| agent(&format!("w{i}"), &[])).collect();
    let prompt = format!(
        "write shared.txt written by {{name}} {}",
        "x".repeat(200_000)
    );
    let result = run(
        task(
            dir.path(),
            &prompt,
            agents,
            Order::Parallel,
            Coordination::Strict,
        ),
        dir.path(),
    )
    .await;
    assert_eq!(
        result.status,
        TaskStatus::Succeeded,
        "{:?}",
        result.runs.iter().map(|r| &r.error).collect::<Vec<_>>()
    );
    let on_disk = std::fs::read_to_string(dir.path().join("work/shared.txt")).unwrap();
    assert!(
        (1..=4).any(|i| on_disk == content(&format!("w{i}"))),
        "one writer's complete content"
    );

    let agents = vec![
        agent("slow", &["--latency-ms", "10000"]),
        agent("boom", &["--crash-after", "0"]),
    ];
    let result = run(
        task(
            dir.path(),
            "go",
            agents,
            Order::Parallel,
            Coordination::Strict,
        ),
        dir.path(),
    )
    .await;
    assert_eq!(result.status, TaskStatus::Failed);
    assert_eq!(result.runs[0].status, RunStatus::Cancelled);
    assert!(
        result.runs[0].duration_ms < 1_000,
        "cancelled within a second: {} ms",
        result.runs[0].duration_ms
    );
    assert_eq!(result.runs[1].status, RunStatus::Failed);

    let agents = vec![agent("boom", &["--crash-after", "0"]), agent("never", &[])];
    let result = run(
        task(
            dir.path(),
            "go",
            agents,
            Order::Sequential,
            Coordination::Strict,
        ),
        dir.path(),
    )
    .await;
    assert_eq!(
        result.runs[1].status,
        RunStatus::Skipped,
        "strict sequential stops at the first failure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_diffs_hold_each_agents_changes_and_the_workdir_is_untouched() {
    for git in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        workdir(dir.path(), git);
        if git {
            std::fs::write(dir.path().join("work/uncommitted.txt"), "draft\n").unwrap();
        }
        let before = files(&dir.path().join("work"));
        let agents = vec![agent("left", &[]), agent("right", &[])];
        let result = run(
            task(
                dir.path(),
                "write notes/{name}.md by {name}",
                agents,
                Order::Parallel,
                Coordination::Isolated,
            ),
            dir.path(),
        )
        .await;
        assert_eq!(result.status, TaskStatus::Succeeded, "{result:?}");
        assert_eq!(
            before,
            files(&dir.path().join("work")),
            "the workdir is byte-identical (git: {git})"
        );
        for run in &result.runs {
            assert_eq!(
                run.changed_files,
                [format!("notes/{}.md", run.agent)],
                "only its own change (git: {git})"
            );
            let diff = run.diff.as_deref().unwrap();
            assert!(diff.contains(&format!("+by {}", run.agent)), "{diff}");
            assert!(
                !diff.contains("uncommitted"),
                "carried changes are the baseline, not the agent's"
            );
        }
        if git {
            assert_eq!(
                result.runs[0].branch.as_deref(),
                Some(format!("aiswitch/{}/left", result.id).as_str())
            );
            assert!(
                result
                    .notes
                    .iter()
                    .any(|n| n.contains("uncommitted changes")),
                "{:?}",
                result.notes
            );
            let ws = result.runs[0].workspace.as_ref().unwrap();
            assert_eq!(
                std::fs::read_to_string(ws.join("uncommitted.txt")).unwrap(),
                "draft\n",
                "copied into the worktree"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_passes_each_output_on() {
    let dir = tempfile::tempdir().unwrap();
    workdir(dir.path(), false);
    let mut t = task(
        dir.path(),
        "step",
        vec![
            agent("first", &[]),
            agent("second", &[]),
            agent("third", &[]),
        ],
        Order::Sequential,
        Coordination::Loose,
    );
    t.chain = true;
    let result = run(t, dir.path()).await;
    assert_eq!(result.runs[0].output, "echo: step");
    assert!(
        result.runs[1]
            .output
            .contains("Output of the previous agent (first)"),
        "{}",
        result.runs[1].output
    );
    assert!(result.runs[1].output.contains("echo: step"));
    assert!(
        result.runs[2]
            .output
            .contains("Output of the previous agent (second)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    workdir(dir.path(), false);
    let mut t = task(
        dir.path(),
        "go",
        vec![
            agent("sloth", &["--latency-ms", "20000"]),
            agent("quick", &[]),
        ],
        Order::Parallel,
        Coordination::Loose,
    );
    t.timeout = Duration::from_millis(500);
    let result = run(t, dir.path()).await;
    assert_eq!(
        result.runs[0].status,
        RunStatus::TimedOut,
        "{:?}",
        result.runs[0].error
    );
    assert_eq!(result.runs[1].status, RunStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_keeps_the_newest_megabyte_and_says_what_was_dropped() {
    let dir = tempfile::tempdir().unwrap();
    workdir(dir.path(), false);
    // 100,000 lines of about 25 bytes: some 2.5 MB, more than a transcript keeps.
    let flags = ["--stream-lines", "100000", "--lines-per-sec", "10000000"];
    let agents = vec![agent("chatty", &flags)];
    let mut t = task(
        dir.path(),
        "go",
        agents,
        Order::Parallel,
        Coordination::Loose,
    );
    t.timeout = Duration::from_secs(60);
    let result = run(t, dir.path()).await;
    assert_eq!(result.status, TaskStatus::Succeeded, "{:?}", result.runs);
    let output = &result.runs[0].output;
    let keep = aiswitch::agents::transcript::KEEP_TEXT_BYTES;
    assert!(
        output.len() <= keep + 100,
        "kept {} bytes, more than the bound",
        output.len()
    );
    assert!(
        output.starts_with("[… ") && output.contains("bytes of earlier output not kept]"),
        "the output says some was dropped: {}",
        &output[..80]
    );
    assert!(output.contains("line 99999 at "), "the newest line is kept");
    assert!(output.ends_with("echo: go"), "the end of the run is kept");
    assert!(!output.contains("\nline 0 at "), "the oldest line is gone");
}
