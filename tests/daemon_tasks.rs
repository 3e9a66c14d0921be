//! Tasks through the daemon: `apply --agents` hands the task to a running daemon,
//! its events arrive in order over `events --follow`, and it can be cancelled.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::time::Duration;

use common::daemon::{Daemon, Follower};
use common::{Home, slow_task};
use serde_json::Value;

fn setup() -> (Home, Daemon, String) {
    let home = Home::new();
    home.run(&["add", "p", "X", "1"]).ok();
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let daemon = Daemon::start(&home, &[]);
    (home, daemon, work.display().to_string())
}

#[test]
fn task_events_arrive_in_order_over_events_follow() {
    let (home, _daemon, work) = setup();
    let follower = Follower::start(&home);
    let result = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "aiswitch-agent,aiswitch-agent",
            "--task",
            "hello daemon",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    let id = result["id"].as_str().unwrap().to_owned();
    assert_eq!(result["status"], "succeeded");
    let mut events = Vec::new();
    loop {
        let event = follower.next();
        if event["task"] == id.as_str() {
            let done = event["event"] == "task_finished";
            events.push(event);
            if done {
                break;
            }
        }
    }
    assert_eq!(events.first().unwrap()["event"], "task_started");
    assert_eq!(events.last().unwrap()["status"], "succeeded");
    for agent in ["aiswitch-agent", "aiswitch-agent-2"] {
        let mine: Vec<&Value> = events.iter().filter(|e| e["agent"] == agent).collect();
        assert_eq!(mine.first().unwrap()["event"], "run_started", "{agent}");
        assert_eq!(mine.last().unwrap()["event"], "run_finished", "{agent}");
        let text: String = mine
            .iter()
            .filter(|e| e["event"] == "run_output")
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert_eq!(text, "echo: hello daemon", "{agent}: chunks in order");
    }
    let list = home.run(&["tasks", "list", "--json"]).ok().json();
    assert_eq!(list["tasks"][0]["id"], id.as_str());
}

#[test]
fn a_daemon_task_is_cancelled_through_the_daemon() {
    let (home, daemon, work) = setup();
    slow_task::register_slowpoke(&home, "[inject.custom]\n");
    let (child, id) = slow_task::start(&home, "p", "slowpoke", &work);
    home.run(&["tasks", "cancel", &id]).ok();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["runs"][0]["status"], "cancelled");
    assert!(
        std::path::Path::new(&format!("/proc/{}", daemon.pid)).exists(),
        "the daemon itself is not touched"
    );
    assert_eq!(
        home.run(&["agents", "status", "--json", "--no-daemon"])
            .ok()
            .json()["agents"],
        serde_json::json!([])
    );
}

#[test]
fn one_agent_of_a_daemon_task_is_cancelled_and_the_other_finishes() {
    let (home, _daemon, work) = setup();
    slow_task::register_slowpoke(&home, "[inject.custom]\n");
    let (child, id) = slow_task::start(&home, "p", "slowpoke,aiswitch-agent", &work);
    let refused = home.run(&["tasks", "cancel", &id, "--agent", "nobody"]);
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("has no running agent nobody"),
        "{}",
        refused.stderr
    );
    home.run(&["tasks", "cancel", &id, "--agent", "slowpoke"])
        .ok();
    let out = child.wait_with_output().unwrap();
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["status"], "succeeded",
        "loose: the other agent's run stands"
    );
    assert_eq!(result["runs"][0]["status"], "cancelled");
    assert_eq!(result["runs"][0]["error"], "cancelled by the user");
    assert_eq!(result["runs"][1]["status"], "succeeded");
    assert_eq!(result["runs"][1]["output"], "echo: go");
}

#[test]
fn alerts_are_pushed_as_events() {
    let (home, _daemon, work) = setup();
    common::reference::register(
        &home,
        "boom",
        &["--crash-after", "0"],
        "restart = { mode = \"never\" }\n[inject.custom]\n",
    );
    let follower = Follower::start(&home);
    let run = home.run(&[
        "apply",
        "p",
        "--agents",
        "boom",
        "--task",
        "go",
        "--workdir",
        &work,
        "--coordination-mode",
        "strict",
    ]);
    assert_eq!(run.code, Some(1));
    let alert = follower.wait_for("alert_raised");
    assert_eq!(alert["alert"]["kind"], "task_failed");
}

/// What goes wrong, the agent, and the set-up that makes it go wrong.
type Case = (&'static str, &'static str, fn(&Home));

#[test]
fn every_way_a_task_cannot_run_ends_it_failed_with_the_reason() {
    let cases: [Case; 2] = [
        ("workspace", "aiswitch-agent", |home| {
            // Where worktrees go is a file: the isolated workspace cannot be created.
            let data = home.aiswitch_home().join("data");
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("worktrees"), "not a directory").unwrap();
        }),
        ("agent", "broken", |home| {
            // Installed, but it exits at once: it cannot start.
            common::reference::register(home, "broken", &["--no-such-flag"], "[inject.custom]\n");
        }),
    ];
    for (case, agent, set_up) in cases {
        for with_daemon in [true, false] {
            let label = format!("{case}, daemon {with_daemon}");
            let home = Home::new();
            home.run(&["add", "p", "X", "1"]).ok();
            home.run(&[
                "budget",
                "set",
                "--period",
                "day",
                "--limit-tokens",
                "1000",
                "--hard-stop",
            ])
            .ok();
            let work = home.root().join("work");
            std::fs::create_dir_all(&work).unwrap();
            set_up(&home);
            let _daemon = with_daemon.then(|| Daemon::start(&home, &[]));
            let run = common::run_to_end(
                home.cmd(&[
                    "apply",
                    "p",
                    "--agents",
                    agent,
                    "--task",
                    "x",
                    "--workdir",
                    work.to_str().unwrap(),
                    "--json",
                ]),
                Duration::from_secs(60),
            );
            assert_eq!(run.code, Some(1), "{label}: {run:?}");
            let result = run.json();
            assert_eq!(result["status"], "failed", "{label}");
            let error = result["runs"][0]["error"].as_str().unwrap();
            assert!(!error.is_empty(), "{label}");
            let why = match case {
                "workspace" => "the task could not start",
                _ => "it wrote: error: unexpected argument '--no-such-flag'",
            };
            assert!(error.contains(why), "{label}: {error}");
            let id = result["id"].as_str().unwrap();
            let shown = home.run(&["tasks", "show", id, "--json"]).ok().json();
            assert_eq!(shown["task"]["status"], "failed", "{label}");
            let running = home
                .run(&["tasks", "list", "--status", "running", "--json"])
                .ok()
                .json();
            assert_eq!(running["tasks"], serde_json::json!([]), "{label}");
            // The budget reservation the task took is released.
            let db =
                rusqlite::Connection::open(home.aiswitch_home().join("data/aiswitch.db")).unwrap();
            let held: i64 = db
                .query_row("SELECT count(*) FROM reservations", [], |r| r.get(0))
                .unwrap();
            assert_eq!(held, 0, "{label}: a reservation is still held");
            // The finish event says why.
            let history = home.run(&["events", "--json"]).ok();
            let finished: Value = history
                .stdout
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .find(|e| e["event"] == "task_finished" && e["task"] == id)
                .unwrap_or_else(|| panic!("{label}: no task_finished in {}", history.stdout));
            assert_eq!(finished["status"], "failed", "{label}");
            assert!(
                finished["reason"].as_str().unwrap().contains(error),
                "{label}: {finished}"
            );
        }
    }
}
