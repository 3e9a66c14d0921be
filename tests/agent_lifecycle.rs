//! Agent processes come and go cleanly: restart with backoff and give-up, graceful
//! stop of agents that ignore stdin close and leave grandchildren, no zombies after
//! many cycles, and nothing left after `kill -9` of the supervising process.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use aiswitch::agents::{RestartMode, RestartPolicy};
use aiswitch::supervisor::{AgentState, Supervisor, SupervisorEvent};
use common::procs;
use common::reference::{next_event, options, spec, spec_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_restart_with_backoff_then_give_up() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    let mut events = supervisor.subscribe();
    let policy = RestartPolicy {
        mode: RestartMode::OnFailure,
        backoff_initial_ms: 20,
        backoff_max_ms: 1_000,
        max_restarts: 2,
        window_secs: 60,
    };
    let handle = supervisor
        .start(spec_with("phoenix", &["--crash-after", "1"], policy))
        .await
        .unwrap();
    let mut pids = vec![handle.status().pid.unwrap()];
    for expected in [(1, 20), (2, 40)] {
        handle.prompt("one", None).await.unwrap();
        assert!(
            handle.prompt("two", None).await.is_err(),
            "the second prompt crashes it"
        );
        let got = next_event(&mut events, Duration::from_secs(10), |e| match e {
            SupervisorEvent::Restarting {
                agent,
                attempt,
                after_ms,
            } if agent == "phoenix" => Some((*attempt, *after_ms)),
            _ => None,
        })
        .await;
        assert_eq!(got, expected, "attempt and doubling backoff");
        handle.wait_for(|s| s == AgentState::Idle).await;
        pids.push(handle.status().pid.unwrap());
    }
    assert_eq!(handle.status().restarts, 2);
    assert_ne!(pids[0], pids[1], "a restart is a new process");
    handle.prompt("one", None).await.unwrap();
    assert!(handle.prompt("two", None).await.is_err());
    let restarts = next_event(&mut events, Duration::from_secs(10), |e| match e {
        SupervisorEvent::GaveUp { agent, restarts } if agent == "phoenix" => Some(*restarts),
        _ => None,
    })
    .await;
    assert_eq!(restarts, 2, "the start limit was hit");
    assert_eq!(
        handle.wait_for(|s| s == AgentState::Error).await,
        AgentState::Error
    );
    let err = handle.prompt("anyone?", None).await.expect_err("refused");
    assert!(err.to_string().contains("phoenix is error"), "{err}");
    handle.stop().await.unwrap();
    for pid in pids {
        assert!(
            procs::eventually(Duration::from_secs(1), || procs::in_group(pid).is_empty()),
            "group {pid} is gone"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_reaches_agents_that_ignore_stdin_and_their_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    let handle = supervisor
        .start(spec("stubborn", &["--ignore-stdin-close", "--grandchild"]))
        .await
        .unwrap();
    let pgid = handle.status().pid.unwrap();
    assert!(
        procs::eventually(Duration::from_secs(5), || procs::in_group(pgid).len() >= 2),
        "agent and grandchild run"
    );
    handle.stop().await.unwrap();
    assert_eq!(handle.status().state, AgentState::Stopped);
    assert!(
        procs::eventually(Duration::from_secs(1), || procs::in_group(pgid).is_empty()),
        "SIGTERM, then SIGKILL to the group: nothing is left"
    );
}

#[test]
fn kill_9_of_the_supervising_process_leaves_no_agent_or_grandchild() {
    let home = common::Home::new();
    common::reference::register(
        &home,
        "stuck",
        &["--grandchild", "--latency-ms", "600000"],
        "",
    );
    let mut cli = home
        .cmd(&["agents", "check", "stuck", "--prompt", "hello"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let cli_pid = cli.id();
    // The agent is the CLI's child; wait until it and its grandchild exist.
    let mut group = Vec::new();
    assert!(
        procs::eventually(Duration::from_secs(10), || {
            let agent = procs::children_of(cli_pid).into_iter().find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.contains("aiswitch-agent"))
            });
            group = agent.map(procs::in_group).unwrap_or_default();
            group.len() >= 2
        }),
        "agent and grandchild started"
    );
    let pgid = procs::all()
        .into_iter()
        .find(|p| p.0 == group[0])
        .unwrap()
        .3;
    common::send_signal(cli_pid, "KILL");
    let _ = cli.wait();
    assert!(
        procs::eventually(Duration::from_secs(1), || procs::in_group(pgid).is_empty()),
        "within one second every agent process and grandchild is gone: {:?}",
        procs::in_group(pgid)
    );
    let mut out = String::new();
    let _ = BufReader::new(cli.stdout.take().unwrap()).read_line(&mut out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_and_memory_are_sampled_only_while_agents_run() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    let handle = supervisor
        .start(spec("measured", &["--grandchild"]))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while handle.status().usage.memory_bytes == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sample within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = handle.status();
    assert!(
        status.usage.memory_bytes > 1024 * 1024,
        "agent + grandchild RSS: {status:?}"
    );
    assert!(status.peak_memory_bytes >= status.usage.memory_bytes);
    assert!(supervisor.is_sampling());
    handle.stop().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while supervisor.is_sampling() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sampling went on with no agent running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
