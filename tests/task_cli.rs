//! `aiswitch apply --agents ... --task ...` and `aiswitch demo` from the command line.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::{Home, procs, slow_task};

fn home_with_preset() -> Home {
    let home = Home::new();
    home.add_secret_preset("p", "sk-task-0000000000-0000");
    std::fs::create_dir_all(home.root().join("work")).unwrap();
    home
}

#[test]
fn bad_task_input_is_one_line_before_anything_starts() {
    let home = home_with_preset();
    let work = home.root().join("work").display().to_string();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "apply",
                "p",
                "--agents",
                "nope",
                "--task",
                "x",
                "--workdir",
                &work,
            ],
            1,
            "agent nope does not exist",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "aiswitch-agent:ghost",
                "--task",
                "x",
                "--workdir",
                &work,
            ],
            1,
            "preset ghost does not exist",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "aiswitch-agent",
                "--task",
                "  ",
                "--workdir",
                &work,
            ],
            2,
            "the task is empty",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "aiswitch-agent",
                "--task-file",
                "/nonexistent/task.md",
                "--workdir",
                &work,
            ],
            2,
            "cannot read task file /nonexistent/task.md",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "aiswitch-agent",
                "--task",
                "x",
                "--chain",
                "--workdir",
                &work,
            ],
            2,
            "--chain needs --sequential",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "aiswitch-agent",
                "--task",
                "x",
                "--workdir",
                "/nonexistent/dir",
            ],
            2,
            "workdir /nonexistent/dir does not exist",
        ),
        (
            &[
                "apply",
                "p",
                "--agents",
                "claude",
                "--task",
                "x",
                "--workdir",
                &work,
                "--coordination-mode",
                "loose",
            ],
            1,
            "not installed",
        ),
    ];
    for (args, code, says) in cases {
        let before = home.snapshot();
        let run = home.run(args);
        assert_eq!(run.code, Some(*code), "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        if *code == 2 || says.contains("does not exist") {
            assert_eq!(before, home.snapshot(), "{args:?} wrote something");
        }
    }
}

#[test]
fn a_task_runs_with_the_preset_injected_and_reports_json() {
    let home = home_with_preset();
    let work = home.root().join("work").display().to_string();
    let run = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "aiswitch-agent,aiswitch-agent",
            "--task",
            "env ANTHROPIC_MODEL",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok();
    let result = run.json();
    assert_eq!(result["status"], "succeeded");
    let runs = result["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["agent"], "aiswitch-agent");
    assert_eq!(
        runs[1]["agent"], "aiswitch-agent-2",
        "a second instance gets its own name"
    );
    for r in runs {
        assert_eq!(r["output"], "ANTHROPIC_MODEL=m-1");
        assert_eq!(r["preset"], "p");
    }
    assert_eq!(result["tokens"]["input"], 22);
    let text = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "aiswitch-agent",
            "--task",
            "hello",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
        ])
        .ok()
        .stdout;
    assert!(text.contains("[aiswitch-agent] echo: hello"), "{text}");
    assert!(
        text.contains("succeeded") && text.contains("TOKENS IN/OUT"),
        "{text}"
    );
}

#[test]
fn the_demo_runs_three_agents_in_isolated_worktrees() {
    let home = Home::new();
    let run = home.run(&["demo", "--json"]).ok();
    let result = run.json();
    assert_eq!(result["status"], "succeeded");
    assert_eq!(result["coordination"], "isolated");
    let runs = result["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["agent"].as_str().unwrap()).collect();
    assert_eq!(names, ["fast", "slow", "cached"]);
    assert_eq!(runs[2]["tokens"]["cache_read"], 1800);
    assert_eq!(runs[2]["cost_usd"], 0.0042);
    for r in runs {
        let file = format!("NOTES-{}.md", r["agent"].as_str().unwrap());
        assert_eq!(r["changed_files"], serde_json::json!([file]));
    }
}

fn register_slow_agent(home: &Home) {
    slow_task::register_slowpoke(home, "[inject.anthropic]\n");
}

#[test]
fn history_shows_results_and_transcripts_and_clean_removes_worktrees() {
    let home = home_with_preset();
    let result = home.run(&["demo", "--json"]).ok().json();
    let id = result["id"].as_str().unwrap();
    let list = home.run(&["tasks", "list", "--json"]).ok().json();
    assert_eq!(list["tasks"][0]["id"], id);
    assert_eq!(list["tasks"][0]["status"], "succeeded");
    let shown = home.run(&["tasks", "show", id, "--json"]).ok().json();
    assert_eq!(
        shown["task"]["result"]["runs"][2]["tokens"]["cache_read"],
        1800
    );
    let transcript = &shown["transcripts"][0]["events"];
    assert!(
        transcript
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "text"),
        "{transcript}"
    );
    let worktree = std::path::PathBuf::from(result["runs"][0]["workspace"].as_str().unwrap());
    assert!(worktree.is_dir());
    let cleaned = home.run(&["tasks", "clean", id, "--json"]).ok().json();
    assert_eq!(cleaned["cleaned"], serde_json::json!([id]));
    assert!(!worktree.exists(), "worktree removed");
    let missing = home.run(&["tasks", "show", "nope"]);
    assert_eq!(missing.code, Some(1));
}

#[test]
fn tasks_cancel_stops_a_running_task_gracefully() {
    let home = home_with_preset();
    register_slow_agent(&home);
    let work = home.root().join("work").display().to_string();
    let (child, id) = slow_task::start(&home, "p", "slowpoke,aiswitch-agent", &work);
    home.run(&["tasks", "cancel", &id]).ok();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a cancelled task failed");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["runs"][0]["status"], "cancelled");
    assert!(
        result["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "cancelled by the user")
    );
    assert_eq!(result["status"], "cancelled");
    let list = home.run(&["tasks", "list", "--json"]).ok().json();
    assert_eq!(list["tasks"][0]["status"], "cancelled");
    let shown = home.run(&["tasks", "show", &id]).ok();
    assert!(shown.stdout.contains("cancelled"), "{}", shown.stdout);
}

#[test]
fn a_killed_task_is_marked_interrupted() {
    let home = home_with_preset();
    register_slow_agent(&home);
    let work = home.root().join("work").display().to_string();
    let mut child = home
        .cmd(&[
            "apply",
            "p",
            "--agents",
            "slowpoke",
            "--task",
            "go",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(procs::eventually(
        std::time::Duration::from_secs(10),
        || slow_task::running_task(&home).is_some()
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    let list = home.run(&["tasks", "list", "--json"]).ok().json();
    assert_eq!(list["tasks"][0]["status"], "interrupted");
}

#[test]
fn any_n_picks_healthy_agents_and_says_why() {
    let home = home_with_preset();
    let work = home.root().join("work").display().to_string();
    common::reference::register(
        &home,
        "flaky",
        &["--crash-after", "0"],
        "restart = { mode = \"never\" }\n[inject.anthropic]\n",
    );
    // A track record: flaky fails, the reference agent succeeds.
    let first = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "flaky,aiswitch-agent",
            "--task",
            "go",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(first["runs"][0]["status"], "failed");

    let picked = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "any:1",
            "--task",
            "go",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        picked["runs"][0]["agent"], "aiswitch-agent",
        "the healthy one"
    );
    let notes = picked["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("any:1 picked aiswitch-agent (100 % of recent runs succeeded")),
        "{notes:?}"
    );

    let too_many = home.run(&[
        "apply",
        "p",
        "--agents",
        "any:5",
        "--task",
        "go",
        "--workdir",
        &work,
    ]);
    assert_eq!(too_many.code, Some(2));
    assert!(
        too_many
            .stderr
            .contains("only 2 installed agent(s) can use preset p (aiswitch-agent, flaky)"),
        "{}",
        too_many.stderr
    );
    let bad = home.run(&[
        "apply",
        "p",
        "--agents",
        "any:lots",
        "--task",
        "go",
        "--workdir",
        &work,
    ]);
    assert_eq!(bad.code, Some(2));

    // An agent that never ran has no history: it is said so, and comes last.
    common::reference::register(&home, "fresh", &[], "[inject.anthropic]\n");
    let all = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "any:3",
            "--task",
            "go",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    let order: Vec<&str> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agent"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["aiswitch-agent", "flaky", "fresh"]);
    let note = all["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n.as_str().filter(|n| n.starts_with("any:3")))
        .unwrap();
    assert!(note.contains("fresh (no history)"), "{note}");
    assert!(!note.contains("fresh (100 %"), "{note}");
}

#[test]
fn keep_applies_one_agents_changes_and_refuses_a_conflict_writing_nothing() {
    let home = home_with_preset();
    let work = home.root().join("work");
    let result = home
        .run(&[
            "apply",
            "p",
            "--agents",
            "aiswitch-agent,aiswitch-agent",
            "--task",
            "write notes/{name}.md by {name}",
            "--workdir",
            work.to_str().unwrap(),
            "--coordination-mode",
            "isolated",
            "--json",
        ])
        .ok()
        .json();
    let id = result["id"].as_str().unwrap();
    assert!(
        !work.join("notes").exists(),
        "isolated: the workdir is untouched"
    );

    let kept = home
        .run(&["tasks", "keep", id, "aiswitch-agent", "--json"])
        .ok()
        .json();
    assert_eq!(
        kept["files"],
        serde_json::json!(["notes/aiswitch-agent.md"])
    );
    let note = work.join("notes/aiswitch-agent.md");
    assert_eq!(std::fs::read_to_string(&note).unwrap(), "by aiswitch-agent");

    // The second agent wrote the same file: keeping it too conflicts.
    std::fs::write(&note, "edited by hand\n").unwrap();
    let before = home.snapshot();
    let refused = home.run(&["tasks", "keep", id, "aiswitch-agent-2"]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("conflict with notes/aiswitch-agent.md")
            && refused.stderr.contains("nothing was written"),
        "{}",
        refused.stderr
    );
    assert_eq!(before, home.snapshot(), "nothing written on refusal");
    let missing = home.run(&["tasks", "keep", id, "nobody"]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("has no agent nobody"),
        "{}",
        missing.stderr
    );
}
