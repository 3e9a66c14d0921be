//! Budgets: bad input writes nothing; thresholds alert once per period, across
//! processes; a hard stop refuses runs before they start, and concurrent runs
//! overspend by at most one reservation.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::process::Stdio;

use common::Home;
use serde_json::Value;

/// A home with preset `p` and agent `billing`, which reports $0.03 per prompt.
fn home() -> Home {
    let home = Home::new();
    home.run(&[
        "add",
        "p",
        "--kind",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
    ])
    .ok();
    common::reference::register(
        &home,
        "billing",
        &["--cost-usd", "0.03"],
        "[inject.anthropic]\n",
    );
    home
}

fn spent(home: &Home) -> f64 {
    let list = home.run(&["budget", "list", "--json"]).ok().json();
    list["budgets"][0]["spent"].as_f64().unwrap()
}

#[test]
fn bad_budgets_are_one_line_and_write_nothing() {
    let home = home();
    home.run(&["budget", "list"]).ok();
    let cases: &[(&[&str], &str)] = &[
        (
            &["budget", "set", "--period", "day", "--limit-usd", "-5"],
            "above zero",
        ),
        (
            &["budget", "set", "--period", "day", "--limit-usd", "0"],
            "above zero",
        ),
        (
            &["budget", "set", "--period", "day", "--limit-usd", "inf"],
            "a number above zero",
        ),
        (
            &["budget", "set", "--period", "day", "--limit-tokens", "0"],
            "above zero",
        ),
        (
            &[
                "budget",
                "set",
                "--scope",
                "team:x",
                "--period",
                "day",
                "--limit-usd",
                "1",
            ],
            "unknown budget scope",
        ),
        (
            &[
                "budget",
                "set",
                "--period",
                "day",
                "--limit-usd",
                "1",
                "--thresholds",
                "100,80",
            ],
            "invalid thresholds",
        ),
        (
            &[
                "budget",
                "set",
                "--period",
                "day",
                "--limit-usd",
                "1",
                "--thresholds",
                "0,2000",
            ],
            "invalid thresholds",
        ),
        (
            &["budget", "set", "--period", "fortnight", "--limit-usd", "1"],
            "invalid value 'fortnight'",
        ),
        (
            &[
                "budget",
                "set",
                "--period",
                "day",
                "--limit-usd",
                "1",
                "--limit-tokens",
                "5",
            ],
            "cannot be used with",
        ),
        (
            &[
                "budget",
                "set",
                "--scope",
                "preset:NOSUCH",
                "--period",
                "day",
                "--limit-usd",
                "1",
            ],
            "preset NOSUCH does not exist",
        ),
        (
            &[
                "budget",
                "set",
                "--scope",
                "agent:NOSUCH",
                "--period",
                "day",
                "--limit-usd",
                "1",
            ],
            "agent NOSUCH does not exist",
        ),
        (
            &[
                "budget",
                "set",
                "--period",
                "day",
                "--limit-tokens",
                "10",
                "--hard-stop",
                "--refuse-unpriced",
            ],
            "--refuse-unpriced needs --limit-usd and --hard-stop",
        ),
        (&["budget", "remove", "42"], "budget 42 does not exist"),
        (
            &[
                "budget",
                "set",
                "--id",
                "42",
                "--period",
                "day",
                "--limit-usd",
                "5",
            ],
            "budget 42 does not exist",
        ),
        (&["alerts", "ack", "42"], "alert 42 does not exist"),
    ];
    for (args, says) in cases {
        let before = home.snapshot();
        let run = home.run(args);
        assert!(matches!(run.code, Some(1 | 2)), "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{args:?}");
        assert_eq!(before, home.snapshot(), "{args:?} wrote something");
    }
}

#[test]
fn a_budget_changed_in_place_keeps_its_id_and_what_it_spent() {
    let home = home();
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    home.run(&[
        "budget",
        "set",
        "--scope",
        "preset:p",
        "--thresholds",
        "50",
        "--period",
        "month",
        "--limit-usd",
        "1",
    ])
    .ok();
    task(&home, "p", "billing");
    let before = spent(&home);
    assert!(before > 0.0, "the run was counted");
    home.run(&[
        "budget",
        "set",
        "--id",
        "1",
        "--period",
        "month",
        "--limit-usd",
        "30",
        "--hard-stop",
    ])
    .ok();
    let list = home.run(&["budget", "list", "--json"]).ok().json();
    let budgets = list["budgets"].as_array().unwrap();
    assert_eq!(budgets.len(), 1, "changed, not added: {list}");
    assert_eq!(budgets[0]["id"], 1);
    assert_eq!(budgets[0]["limit"]["usd"], 30.0);
    assert_eq!(budgets[0]["hard_stop"], true);
    assert_eq!(budgets[0]["scope"], "preset:p", "the scope not given stays");
    assert_eq!(budgets[0]["thresholds"], serde_json::json!([50]));
    assert_eq!(spent(&home), before, "what it spent stays");
}

#[test]
fn thresholds_fire_once_per_period_across_processes() {
    let home = home();
    home.run(&[
        "budget",
        "set",
        "--period",
        "month",
        "--limit-usd",
        "0.05",
        "--thresholds",
        "50,100",
    ])
    .ok();
    let check = || {
        home.run(&[
            "agents", "check", "billing", "--preset", "p", "--prompt", "hi",
        ])
        .ok()
    };
    check(); // $0.03: 60 %
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1);
    assert!(
        alerts["alerts"][0]["message"]
            .as_str()
            .unwrap()
            .contains("reached 50 %")
    );
    check(); // $0.06: 120 %
    check(); // $0.09: nothing new
    let alerts = home.run(&["alerts", "list", "--json"]).ok().json();
    let messages: Vec<&str> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages.len(),
        2,
        "one alert per threshold per period: {messages:?}"
    );
    assert!(messages[0].contains("reached 100 %"));
    assert!((spent(&home) - 0.09).abs() < 1e-9);
    home.run(&["alerts", "ack", "--all"]).ok();
    assert_eq!(
        home.run(&["alerts", "--json"]).ok().json()["alerts"],
        serde_json::json!([])
    );
    assert_eq!(
        home.run(&["alerts", "list", "--all", "--json"]).ok().json()["alerts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_hard_stop_holds_under_ten_concurrent_runs() {
    let home = home();
    home.run(&[
        "budget",
        "set",
        "--period",
        "day",
        "--limit-usd",
        "0.10",
        "--hard-stop",
        "--thresholds",
        "100",
    ])
    .ok();
    // One run gives the estimate its history ($0.03 a run).
    home.run(&[
        "agents", "check", "billing", "--preset", "p", "--prompt", "hi",
    ])
    .ok();
    let children: Vec<_> = (0..10)
        .map(|_| {
            home.cmd(&[
                "agents", "check", "billing", "--preset", "p", "--prompt", "hi",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut refused = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("would be exceeded"), "{err}");
            assert_eq!(out.status.code(), Some(1));
            refused += 1;
        }
    }
    let spent = spent(&home);
    assert!(refused > 0, "the hard stop refused some runs");
    assert!(
        spent <= 0.10 + 0.03 + 1e-9,
        "overspent by more than one reservation: ${spent}"
    );
    // A task is refused before it starts, and nothing is recorded as running.
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let task = home.run(&[
        "apply",
        "p",
        "--agents",
        "billing",
        "--task",
        "hi",
        "--workdir",
        &work.display().to_string(),
        "--coordination-mode",
        "loose",
    ]);
    assert_eq!(task.code, Some(1));
    assert!(task.stderr.contains("would be exceeded"), "{}", task.stderr);
    let tasks: Value = home.run(&["tasks", "list", "--json"]).ok().json();
    assert_eq!(tasks["tasks"], serde_json::json!([]));
    // The refusals raise one hard-stop alert (one per budget per day), as an event too.
    let alerts: Value = home.run(&["alerts", "list", "--json"]).ok().json();
    let hard: Vec<&Value> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "budget_hard_stop")
        .collect();
    assert_eq!(hard.len(), 1, "{alerts}");
    assert!(hard[0]["message"].as_str().unwrap().contains("was refused"));
    let events = home.run(&["events", "--json", "--limit", "1000"]).ok();
    assert!(
        events
            .stdout
            .lines()
            .any(|l| l.contains("\"alert_raised\"") && l.contains("budget_hard_stop")),
        "{}",
        events.stdout
    );
}

#[test]
fn a_failed_task_raises_one_alert() {
    let home = home();
    common::reference::register(
        &home,
        "boom",
        &["--crash-after", "0"],
        "restart = { mode = \"never\" }\n[inject.anthropic]\n",
    );
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let run = home.run(&[
        "apply",
        "p",
        "--agents",
        "boom",
        "--task",
        "hi",
        "--workdir",
        &work.display().to_string(),
        "--coordination-mode",
        "strict",
        "--json",
    ]);
    assert_eq!(run.code, Some(1));
    let id = run.json()["id"].as_str().unwrap().to_owned();
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    let list = alerts["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["kind"], "task_failed");
    assert_eq!(list[0]["subject"], id.as_str());
    assert!(
        list[0]["message"].as_str().unwrap().contains("boom failed"),
        "{}",
        list[0]
    );
}

/// A loose task with `preset` on `agents`.
fn task(home: &Home, preset: &str, agents: &str) -> common::Run {
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    home.run(&[
        "apply",
        preset,
        "--agents",
        agents,
        "--task",
        "go",
        "--coordination-mode",
        "loose",
        "--workdir",
        work.to_str().unwrap(),
    ])
}

#[test]
fn an_agent_budget_counts_every_copy_of_the_agent() {
    let home = home();
    home.run(&[
        "budget",
        "set",
        "--scope",
        "agent:aiswitch-agent",
        "--period",
        "day",
        "--limit-tokens",
        "50",
        "--hard-stop",
    ])
    .ok();
    let three = "aiswitch-agent,aiswitch-agent,aiswitch-agent";
    task(&home, "p", three).ok();
    // 3 runs of 18 tokens: over the limit of 50.
    let list = home.run(&["budget", "list", "--json"]).ok().json();
    assert_eq!(list["budgets"][0]["spent"], 54.0, "{list}");
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    assert!(
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "budget_threshold"),
        "{alerts}"
    );
    let summary = home
        .run(&["tokens", "summary", "--agent", "aiswitch-agent", "--json"])
        .ok()
        .json();
    assert_eq!(summary["total"]["runs"], 3, "{summary}");
    // The next task is refused before it starts.
    let refused = task(&home, "p", three);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("would be exceeded"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_usd_budget_shows_and_can_refuse_what_it_cannot_price() {
    let home = home();
    // `p` names a model with a price; `nameless` names none, and the reference agent
    // reports no cost: its runs cannot be priced.
    home.run(&["add", "nameless", "--kind", "anthropic"]).ok();
    home.run(&[
        "budget",
        "set",
        "--period",
        "day",
        "--limit-usd",
        "1",
        "--hard-stop",
    ])
    .ok();
    let run = |agents: &str| task(&home, "nameless", agents);
    run("aiswitch-agent").ok();
    let list = home.run(&["budget", "list"]).ok().stdout;
    assert!(
        list.contains("$0.0000 + 1 unpriced run(s), 18 tokens"),
        "{list}"
    );
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    assert!(
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "budget_unpriced"
                && a["message"]
                    .as_str()
                    .unwrap()
                    .contains("cannot price runs of agent aiswitch-agent")),
        "{alerts}"
    );

    // The user chooses to refuse them.
    home.run(&[
        "budget",
        "set",
        "--period",
        "day",
        "--limit-usd",
        "1",
        "--hard-stop",
        "--refuse-unpriced",
    ])
    .ok();
    let refused = run("aiswitch-agent");
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("cannot price runs of"),
        "{}",
        refused.stderr
    );
    // A preset with a price of its own goes ahead.
    home.run(&[
        "add",
        "nameless",
        "--kind",
        "anthropic",
        "--price",
        "input=1",
        "--price",
        "output=2",
        "--force",
    ])
    .ok();
    run("aiswitch-agent").ok();
}
