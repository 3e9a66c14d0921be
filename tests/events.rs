//! The live engine: every change a separate `aiswitch` process makes reaches an
//! `aiswitch events --follow --json` subscriber of the daemon as one typed event, and
//! a subscriber that reconnects with `--since ID` loses nothing and sees nothing twice.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;
use common::daemon::{Daemon, Follower};
use serde_json::Value;

/// Waits for the event called `name`, skipping others; checks it carries an id (it is
/// stored, so it can be resumed from) and parses as the library's typed event.
fn stored(follower: &Follower, name: &str) -> Value {
    let event = follower.wait_for(name);
    assert!(event["id"].as_i64().is_some(), "{name} has an id: {event}");
    let typed: aiswitch::events::EventRecord = serde_json::from_value(event.clone()).unwrap();
    assert_eq!(typed.event.kind(), name);
    event
}

#[test]
fn every_kind_of_change_made_by_another_process_reaches_a_follower() {
    let home = Home::new();
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let _daemon = Daemon::start(&home, &[]);
    let follower = Follower::start(&home);

    // Presets.
    home.run(&[
        "add",
        "work",
        "--kind",
        "anthropic",
        "--api-key",
        "sk-ant-secret-1",
    ])
    .ok();
    let added = stored(&follower, "preset_added");
    assert_eq!(added["preset"], "work");
    assert!(
        added["fields"]
            .as_array()
            .unwrap()
            .contains(&"api_key".into())
    );
    assert!(
        !added.to_string().contains("sk-ant-secret-1"),
        "names, never values: {added}"
    );
    home.run(&[
        "add",
        "work",
        "--kind",
        "anthropic",
        "--model",
        "m1",
        "--force",
    ])
    .ok();
    assert_eq!(stored(&follower, "preset_changed")["preset"], "work");
    home.run(&["use", "work"]).ok();
    let current = stored(&follower, "preset_current");
    assert_eq!(current["preset"], "work");
    assert!(current.get("file").is_none(), "global: {current}");
    home.cmd(&["use", "--here", "work"])
        .current_dir(&work)
        .status()
        .unwrap();
    let here = stored(&follower, "preset_current");
    assert!(
        here["file"].as_str().unwrap().ends_with(".aiswitch.toml"),
        "{here}"
    );

    // Agents, switching, snapshots, rollback.
    common::reference::register(&home, "ref", &[], "[inject.anthropic]\n");
    assert_eq!(stored(&follower, "agent_registered")["agent"], "ref");
    home.run(&["add", "other", "--kind", "anthropic", "--model", "m2"])
        .ok();
    home.run(&["env", "switch", "ref", "work"]).ok();
    let switched = stored(&follower, "env_switched");
    assert_eq!(
        (switched["agent"].as_str(), switched["preset"].as_str()),
        (Some("ref"), Some("work"))
    );
    home.run(&["env", "switch", "ref", "other"]).ok();
    let snapshot = stored(&follower, "env_snapshot_taken");
    assert_eq!(stored(&follower, "env_switched")["preset"], "other");
    let name = snapshot["snapshot"].as_str().unwrap().to_owned();
    home.run(&["env", "rollback", "ref", &name]).ok();
    let back = stored(&follower, "env_rolled_back");
    assert_eq!(
        (back["preset"].as_str(), back["snapshot"].as_str()),
        (Some("work"), Some(name.as_str()))
    );

    // Budgets, a task, its usage, the threshold it crosses, alerts.
    home.run(&[
        "budget",
        "set",
        "--scope",
        "agent:ref",
        "--period",
        "day",
        "--limit-tokens",
        "10",
    ])
    .ok();
    let budget = stored(&follower, "budget_set");
    assert_eq!(budget["budget"]["scope"], "agent:ref");
    let task = home
        .run(&[
            "apply",
            "work",
            "--agents",
            "ref",
            "--task",
            "hello",
            "--workdir",
            work.to_str().unwrap(),
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    let id = task["id"].as_str().unwrap();
    let started = stored(&follower, "task_started");
    assert_eq!(
        (started["task"].as_str(), started["agents"][0].as_str()),
        (Some(id), Some("ref"))
    );
    let usage = stored(&follower, "usage_recorded");
    assert_eq!(usage["agents"], serde_json::json!(["ref"]));
    assert_eq!(usage["tokens"], task["tokens"], "the task's tokens");
    let crossed = stored(&follower, "budget_threshold_crossed");
    assert_eq!(crossed["alert"]["kind"], "budget_threshold");
    let raised = stored(&follower, "alert_raised");
    let finished = stored(&follower, "task_finished");
    assert_eq!(
        (finished["task"].as_str(), finished["status"].as_str()),
        (Some(id), Some("succeeded"))
    );
    home.run(&["alerts", "ack", &raised["alert"]["id"].to_string()])
        .ok();
    let acked = stored(&follower, "alerts_acknowledged");
    assert_eq!(acked["alert"], raised["alert"]["id"]);
    let budget_id = budget["budget"]["id"].to_string();
    home.run(&["budget", "remove", &budget_id]).ok();
    assert_eq!(
        stored(&follower, "budget_removed")["budget"],
        budget["budget"]["id"]
    );

    // Imports: presets, then usage logs.
    let bundle = home.root().join("bundle.json");
    let exported = home.run(&["export", "other"]).ok();
    std::fs::write(&bundle, &exported.stdout).unwrap();
    home.run(&["remove", "other"]).ok();
    assert_eq!(stored(&follower, "preset_removed")["preset"], "other");
    home.run(&["import", bundle.to_str().unwrap()]).ok();
    let progress = stored(&follower, "import_progress");
    assert_eq!(
        (progress["done"].as_u64(), progress["total"].as_u64()),
        (Some(1), Some(1))
    );
    let imported = stored(&follower, "import_finished");
    assert_eq!(
        (imported["what"].as_str(), imported["written"].as_u64()),
        (Some("presets"), Some(1))
    );
    let log = home.user_home().join(".claude/projects/-w/s.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        &log,
        r#"{"type":"assistant","timestamp":"2026-11-30T10:00:00Z","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":7,"output_tokens":5}}}"#.to_owned() + "\n",
    )
    .unwrap();
    home.run(&["usage", "import", "claude"]).ok();
    let logged = stored(&follower, "usage_recorded");
    assert_eq!(
        (logged["rows"].as_u64(), logged["tokens"]["input"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(stored(&follower, "import_finished")["written"], 1);

    // An interactive launch (`apply -- CMD`).
    home.run(&["apply", "work", "--", "true"]).ok();
    assert_eq!(stored(&follower, "agent_launched")["agent"], "true");
}

#[test]
fn a_follower_resuming_from_an_id_loses_nothing_and_repeats_nothing() {
    let home = Home::new();
    let _daemon = Daemon::start(&home, &[]);
    let first = Follower::start(&home);
    for name in ["a1", "a2", "a3"] {
        home.run(&["add", name, "X", "1"]).ok();
    }
    let mut last = 0;
    for name in ["a1", "a2"] {
        let event = first.wait_for("preset_added");
        assert_eq!(event["preset"], name);
        last = event["id"].as_i64().unwrap();
    }
    // Gone after a2 (a3 was sent but never read); changes go on meanwhile.
    drop(first);
    for name in ["b1", "b2"] {
        home.run(&["add", name, "X", "1"]).ok();
    }
    let resumed = Follower::start_with(&home, &["--since", &last.to_string()]);
    home.run(&["add", "c1", "X", "1"]).ok();
    let mut seen = Vec::new();
    let mut ids = Vec::new();
    while seen.len() < 4 {
        let event = resumed.wait_for("preset_added");
        seen.push(event["preset"].as_str().unwrap().to_owned());
        ids.push(event["id"].as_i64().unwrap());
    }
    assert_eq!(seen, ["a3", "b1", "b2", "c1"], "in commit order, once each");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // The same history without a daemon: `events --since`.
    let history = home
        .run(&["events", "--since", &last.to_string(), "--json"])
        .ok();
    let presets: Vec<String> = history
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "preset_added")
        .map(|e| e["preset"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(presets, ["a3", "b1", "b2", "c1"]);
}

#[test]
fn the_history_reads_in_the_users_time_zone() {
    let home = Home::new();
    home.run(&[
        "add",
        "zoned",
        "--kind",
        "openai",
        "--base-url",
        "https://z.example.com",
    ])
    .ok();
    let stored = home.run(&["events", "--json", "--limit", "1"]).ok().json();
    let at_ms = stored["at_ms"].as_i64().unwrap();
    let run: common::Run = home
        .cmd(&["events", "--limit", "1"])
        .env("TZ", "Asia/Shanghai")
        .output()
        .unwrap()
        .into();
    let line = run.ok().stdout;
    let hour_in_beijing = (at_ms / 3_600_000 + 8) % 24;
    assert!(
        line.contains(&format!(" {hour_in_beijing:02}:")) && line.contains("+08:00"),
        "the line shows Beijing's wall clock with its offset ({hour_in_beijing:02}h): {line}"
    );
    assert!(line.contains("preset zoned added"), "{line}");
}
