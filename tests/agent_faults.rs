//! One agent's fault never touches the supervisor or another agent: garbage,
//! invalid UTF-8, a 100 MB line, a crash, a hang past the timeout. Each faults that
//! agent with one error naming it and what it sent, while a healthy agent keeps
//! answering throughout.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aiswitch::supervisor::{AgentState, Supervisor};
use common::reference::{options, spec};

/// Starts a faulty agent, prompts it, and returns the error it produced.
async fn fault_of(supervisor: &Supervisor, name: &str, flags: &[&str]) -> String {
    let handle = supervisor.start(spec(name, flags)).await.unwrap();
    let err = handle
        .prompt("hello", None)
        .await
        .expect_err("the prompt must fail");
    let state = handle
        .wait_for(|s| matches!(s, AgentState::Error | AgentState::Stopped))
        .await;
    assert_eq!(state, AgentState::Error, "{name} ends in error");
    err.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_stay_with_the_faulty_agent() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    // Long enough that a 100 MB line is refused by size first on a loaded machine.
    opts.prompt_timeout = Duration::from_millis(2000);
    let supervisor = Supervisor::new(opts);

    let healthy = supervisor.start(spec("healthy", &[])).await.unwrap();
    let answered = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let background = {
        let (healthy, answered, done) = (healthy.clone(), answered.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let outcome = healthy
                    .prompt("still there?", None)
                    .await
                    .expect("healthy agent answers");
                assert_eq!(outcome.summary.text, "echo: still there?");
                answered.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let garbage = fault_of(&supervisor, "garbler", &["--garbage"]).await;
    assert!(garbage.starts_with("garbler: sent not JSON"), "{garbage}");
    assert!(
        garbage.contains("this is not JSON-RPC"),
        "names what it sent: {garbage}"
    );

    let utf8 = fault_of(&supervisor, "mojibake", &["--invalid-utf8"]).await;
    assert!(utf8.starts_with("mojibake: sent not JSON"), "{utf8}");
    assert!(utf8.contains("\\xff\\xfe\\xfd"), "{utf8}");

    let huge = fault_of(&supervisor, "flooder", &["--huge-line-mb", "100"]).await;
    assert!(
        huge.contains("flooder: sent a message of more than 16777216 bytes"),
        "{huge}"
    );

    let crash = fault_of(&supervisor, "crasher", &["--crash-after", "0"]).await;
    assert!(
        crash.contains("crasher") && crash.contains("exited during a prompt"),
        "{crash}"
    );

    let hang = fault_of(&supervisor, "sleeper", &["--hang-after", "0"]).await;
    assert!(
        hang.contains("sleeper: no response to session/prompt within 2.0 s"),
        "{hang}"
    );

    done.store(true, Ordering::Relaxed);
    background.await.unwrap();
    assert!(
        answered.load(Ordering::Relaxed) > 0,
        "the healthy agent answered throughout"
    );
    assert_eq!(healthy.status().state, AgentState::Idle);
    let outcome = healthy.prompt("after all that", None).await.unwrap();
    assert_eq!(outcome.summary.text, "echo: after all that");
    healthy.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_start_still_initializes_and_a_missing_program_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    let slow = supervisor
        .start(spec("slow", &["--slow-start-ms", "200"]))
        .await
        .unwrap();
    assert_eq!(
        slow.prompt("hi", None).await.unwrap().summary.text,
        "echo: hi"
    );
    slow.stop().await.unwrap();

    let mut missing = spec("ghost", &[]);
    missing.manifest.command = "aiswitch-no-such-agent".into();
    let err = supervisor.start(missing).await.err().expect("cannot start");
    assert!(
        err.to_string()
            .contains("`aiswitch-no-such-agent` is not installed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_cost_and_file_writes_come_through() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new(options(dir.path()));
    let mut with_writes = spec(
        "writer",
        &["--cache-read", "5", "--cost-usd", "0.25", "--permission"],
    );
    with_writes.cwd = dir.path().to_path_buf();
    let handle = supervisor.start(with_writes).await.unwrap();
    let first = handle
        .prompt("write notes/out.txt hello file", None)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes/out.txt")).unwrap(),
        "hello file"
    );
    assert!(
        first.summary.text.starts_with("wrote "),
        "{}",
        first.summary.text
    );
    assert_eq!(first.summary.tokens.cache_read, 5);
    assert_eq!(first.summary.cost_usd, Some(0.25));
    let second = handle.prompt("again", None).await.unwrap();
    assert_eq!(
        second.summary.cost_usd,
        Some(0.25),
        "a cumulative cost is never summed twice"
    );
    let outside = handle
        .prompt("write ../escape.txt nope", None)
        .await
        .unwrap();
    assert!(
        outside.summary.text.contains("could not write"),
        "{}",
        outside.summary.text
    );
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    handle.stop().await.unwrap();
}
