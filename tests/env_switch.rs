//! Runtime switching: the switch, who picks it up, rollback on a failure at each
//! step, old-or-new after a crash at each step, ordered concurrent switches,
//! snapshots, and the user's own agent config files untouched.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::process::Stdio;

use common::Home;
use common::daemon::{Control, Daemon, Follower};
use serde_json::{Value, json};

const AGENT: &str = "aiswitch-agent";

/// A home whose launches inject presets directly: these tests check what each run's
/// injected environment holds (tests/gateway.rs switches through the gateway).
fn home() -> Home {
    let home = Home::new();
    home.direct();
    for (name, url) in [
        ("one", "https://one.example.com"),
        ("two", "https://two.example.com"),
        ("three", "https://three.example.com"),
    ] {
        home.run_with_stdin(
            &[
                "add",
                name,
                "--kind",
                "anthropic",
                "--base-url",
                url,
                "--api-key",
                "-",
            ],
            &format!("sk-{name}-000000000000"),
        )
        .ok();
    }
    home.run(&["add", "oa", "--kind", "openai", "--model", "gpt-x"])
        .ok();
    home
}

fn active(home: &Home) -> Value {
    home.run(&["env", "show", AGENT, "--json"]).ok().json()["preset"].clone()
}

fn used_url(home: &Home) -> String {
    home.run(&[
        "agents",
        "check",
        AGENT,
        "--prompt",
        "env ANTHROPIC_BASE_URL",
        "--json",
    ])
    .ok()
    .json()["reply"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_switch_is_picked_up_by_the_next_run() {
    let home = home();
    assert_eq!(active(&home), Value::Null);
    home.run(&["env", "switch", AGENT, "one"]).ok();
    assert_eq!(
        used_url(&home),
        "ANTHROPIC_BASE_URL=https://one.example.com"
    );
    home.run(&["env", "switch", AGENT, "two", "--verify"]).ok();
    assert_eq!(
        used_url(&home),
        "ANTHROPIC_BASE_URL=https://two.example.com"
    );
    let report = home
        .run(&["agents", "check", AGENT, "--prompt", "hi", "--json"])
        .ok()
        .json();
    assert_eq!(
        report["preset"], "two",
        "the run records the preset it used"
    );
    let shown = home.run(&["env", "show", AGENT]).ok().stdout;
    assert!(
        shown.contains("ANTHROPIC_AUTH_TOKEN=sk-…0000") && !shown.contains("sk-two-000000000000"),
        "{shown}"
    );
}

#[test]
fn bad_switches_are_one_line_and_change_nothing() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    home.run(&["env", "snapshot", AGENT, "mine"]).ok();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["env", "switch", "nope", "one"],
            1,
            "agent nope does not exist",
        ),
        (
            &["env", "switch", AGENT, "ghost"],
            1,
            "preset ghost does not exist",
        ),
        (
            &["env", "switch", "claude", "oa"],
            2,
            "agent claude cannot use preset oa (kind openai): it takes anthropic presets (through the gateway, an agent that takes anthropic or openai also takes a preset of the other with a key)",
        ),
        (
            &["env", "rollback", AGENT, "ghost"],
            1,
            "snapshot ghost of aiswitch-agent does not exist",
        ),
        (
            &["env", "snapshot", AGENT, "mine"],
            2,
            "already exists: use --force",
        ),
        (
            &["env", "snapshot", AGENT, "bad name"],
            2,
            "invalid snapshot name",
        ),
    ];
    for (args, code, says) in cases {
        let before = home.snapshot();
        let run = home.run(args);
        assert_eq!(run.code, Some(*code), "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1);
        assert_eq!(before, home.snapshot(), "{args:?} changed files");
    }
}

#[test]
fn a_failure_at_each_step_rolls_back() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    for step in ["validate", "snapshot", "apply", "verify"] {
        let run: common::Run = home
            .cmd(&["env", "switch", AGENT, "two", "--verify"])
            .env("AISWITCH_FAULT_AT", step)
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, Some(1), "{step}: {run:?}");
        assert!(
            run.stderr.contains(&format!("failed at {step}"))
                && run.stderr.contains("keeps preset one"),
            "{}",
            run.stderr
        );
        assert_eq!(active(&home), "one", "{step}: rolled back");
        assert_eq!(
            used_url(&home),
            "ANTHROPIC_BASE_URL=https://one.example.com"
        );
    }
    // The user hears about it: an alert, rate-limited to one per agent per minute.
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    let alerts = alerts
        .as_array()
        .or_else(|| alerts["alerts"].as_array())
        .unwrap()
        .clone();
    let failed: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["kind"] == "env_switch_failed")
        .collect();
    assert!(
        (1..=2).contains(&failed.len()) && failed[0]["subject"] == AGENT,
        "{alerts:?}"
    );
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("switching aiswitch-agent to two failed at"),
        "{failed:?}"
    );
}

#[test]
fn a_crash_at_each_step_leaves_the_old_or_the_new_environment() {
    let home = home();
    for step in ["validate", "snapshot", "apply", "verify"] {
        home.run(&["env", "switch", AGENT, "one"]).ok();
        let status = home
            .cmd(&["env", "switch", AGENT, "two", "--verify"])
            .env("AISWITCH_CRASH_AT", step)
            .status()
            .unwrap();
        assert!(!status.success(), "{step}: the process was killed");
        let now = active(&home);
        assert!(now == "one" || now == "two", "{step}: {now}");
        let url = used_url(&home);
        assert!(
            url.ends_with(&format!("https://{}.example.com", now.as_str().unwrap())),
            "{step}: never a mixed env: {url}"
        );
        assert!(
            !home
                .aiswitch_home()
                .join("data/env/aiswitch-agent/journal.toml")
                .exists(),
            "{step}: the journal was resolved"
        );
    }
}

#[test]
fn concurrent_switches_of_one_agent_apply_one_after_another() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    let presets = ["two", "three", "one", "two", "three", "one", "two", "three"];
    let children: Vec<_> = presets
        .iter()
        .map(|p| {
            home.cmd(&["env", "switch", AGENT, p])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(
            child.wait().unwrap().success(),
            "every switch succeeds, waiting its turn"
        );
    }
    let snapshots = home.run(&["env", "snapshots", AGENT, "--json"]).ok().json();
    let autos = snapshots["agents"][0]["snapshots"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        autos,
        presets.len(),
        "each switch snapshotted the one before it"
    );
    let now = active(&home);
    assert!(presets.contains(&now.as_str().unwrap()));
}

#[test]
fn snapshots_roll_back_and_a_corrupt_one_changes_nothing() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    home.run(&["env", "snapshot", AGENT, "good"]).ok();
    home.run(&["env", "switch", AGENT, "two"]).ok();
    home.run(&["env", "rollback", AGENT, "good"]).ok();
    assert_eq!(active(&home), "one");
    home.run(&["env", "switch", AGENT, "three"]).ok();
    let file = home
        .aiswitch_home()
        .join("data/env/aiswitch-agent/snapshots/good.toml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("one.example.com", "evil.example.com");
    std::fs::write(&file, text).unwrap();
    let listed = home.run(&["env", "snapshots", AGENT]).ok().stdout;
    let preset_of = |name: &str| {
        let row = listed.lines().find(|l| l.contains(name));
        row.map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
    };
    assert!(
        preset_of("good").is_some_and(|p| p.starts_with("corrupt: cannot roll back")),
        "the list says the tampered snapshot cannot be used:\n{listed}"
    );
    assert!(
        preset_of("auto-").is_some_and(|p| p.starts_with("one ")),
        "an automatic snapshot names the preset it puts back:\n{listed}"
    );
    let run = home.run(&["env", "rollback", AGENT, "good", "--json"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("corrupt"), "{}", run.stderr);
    assert_eq!(active(&home), "three", "nothing changed");
    home.run(&["env", "snapshot-rm", AGENT, "good"]).ok();
    assert_eq!(home.run(&["env", "rollback", AGENT, "good"]).code, Some(1));
}

#[test]
fn the_users_agent_config_files_are_never_touched() {
    let home = home();
    let user = home.user_home();
    let files = [
        (
            ".claude/settings.json",
            "{\"env\": {\"ANTHROPIC_BASE_URL\": \"https://mine.example.com\"}, \"hooks\": {}}\n",
        ),
        (
            ".codex/config.toml",
            "model = \"o3\"\n[mcp_servers.x]\ncommand = \"x\"\n",
        ),
        (".gemini/settings.json", "{\"theme\": \"dark\"}\n"),
        (".config/opencode/opencode.json", "{\"provider\": {}}\n"),
    ];
    for (path, text) in files {
        std::fs::create_dir_all(user.join(path).parent().unwrap()).unwrap();
        std::fs::write(user.join(path), text).unwrap();
    }
    for preset in ["one", "two", "three", "one"] {
        home.run(&["env", "switch", AGENT, preset, "--verify"]).ok();
        home.run(&["agents", "check", AGENT, "--prompt", "hi"]).ok();
    }
    for (path, text) in files {
        assert_eq!(
            std::fs::read_to_string(user.join(path)).unwrap(),
            text,
            "{path} is byte-identical"
        );
    }
}

#[test]
fn the_control_api_switches_snapshots_rolls_back_and_pushes_events() {
    let home = home();
    let daemon = Daemon::start(&home, &[]);
    let follower = Follower::start(&home);
    let control = Control::connect(&daemon);
    let call = |method: &str, params: Value| control.call(method, params);

    let switched = call("env.switch", json!({ "agent": AGENT, "preset": "one" })).unwrap();
    assert_eq!(switched["preset"], "one");
    let shown = call("env.show", json!({ "agent": AGENT })).unwrap();
    assert_eq!(shown["preset"], "one");
    assert!(
        !shown.to_string().contains("sk-one-000000000000"),
        "the key is redacted: {shown}"
    );
    call("env.snapshot", json!({ "agent": AGENT, "name": "keep" })).unwrap();
    // A switch from the CLI (another process) is pushed too.
    home.run(&["env", "switch", AGENT, "two"]).ok();
    let snapshots = call("env.list_snapshots", json!({ "agent": AGENT })).unwrap();
    let listed = snapshots["snapshots"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s["name"] == "keep" && s["preset"] == "one"),
        "the snapshot says which preset it puts back: {snapshots}"
    );
    assert_eq!(
        call("env.rollback", json!({ "agent": AGENT, "name": "keep" })).unwrap()["preset"],
        "one"
    );
    assert_eq!(
        used_url(&home),
        "ANTHROPIC_BASE_URL=https://one.example.com"
    );

    let errors = [
        (
            "env.switch",
            json!({ "agent": "claude", "preset": "oa" }),
            "-32602",
        ),
        (
            "env.switch",
            json!({ "agent": AGENT, "preset": "nope" }),
            "-40201",
        ),
        (
            "env.switch",
            json!({ "agent": "ghost", "preset": "one" }),
            "-40001",
        ),
        (
            "env.rollback",
            json!({ "agent": AGENT, "name": "gone" }),
            "-40203",
        ),
        (
            "env.snapshot",
            json!({ "agent": AGENT, "name": "keep" }),
            "-32602",
        ),
    ];
    for (method, params, code) in errors {
        let err = call(method, params.clone()).unwrap_err().to_string();
        assert!(err.contains(code), "{method} {params}: {err}");
    }
    assert_eq!(active(&home), "one", "bad calls changed nothing");

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = follower.next();
        if matches!(
            event["event"].as_str(),
            Some("env_switched" | "env_rolled_back")
        ) {
            seen.push(format!("{} {}", event["event"], event["preset"]));
        }
    }
    assert_eq!(
        seen,
        [
            r#""env_switched" "one""#,
            r#""env_switched" "two""#,
            r#""env_rolled_back" "one""#
        ],
        "one event per switch, in order"
    );
}

/// The preset a reply's `ANTHROPIC_BASE_URL` and `ANTHROPIC_AUTH_TOKEN` came from; a
/// mixed environment (URL of one, key of another) fails the test.
fn preset_seen(reply: &str) -> String {
    let url = reply
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ANTHROPIC_BASE_URL=https://"))
        .and_then(|host| host.split('.').next())
        .unwrap_or_else(|| panic!("no URL in {reply:?}"));
    let key = reply
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ANTHROPIC_AUTH_TOKEN=sk-"))
        .and_then(|key| key.split('-').next())
        .unwrap_or_else(|| panic!("no key in {reply:?}"));
    assert_eq!(url, key, "a run saw a mixed environment: {reply}");
    url.to_owned()
}

const SWITCHES: usize = 1_000;
const ROTATION: [&str; 3] = ["two", "three", "one"];

#[test]
fn a_thousand_switches_under_load_never_give_a_run_a_mixed_environment() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    let seen = std::thread::scope(|scope| {
        let switching = scope.spawn(|| {
            for i in 0..SWITCHES {
                home.run(&["env", "switch", AGENT, ROTATION[i % 3]]).ok();
            }
        });
        let mut seen: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let mut runs = 0;
        while !switching.is_finished() || runs < 20 {
            let report = home
                .run(&[
                    "agents",
                    "check",
                    AGENT,
                    "--prompt",
                    "env ANTHROPIC_BASE_URL ANTHROPIC_AUTH_TOKEN",
                    "--json",
                ])
                .ok()
                .json();
            let used = preset_seen(report["reply"].as_str().unwrap());
            assert_eq!(
                report["preset"],
                used.as_str(),
                "the run reports what it used"
            );
            *seen.entry(used).or_default() += 1;
            runs += 1;
        }
        switching.join().unwrap();
        seen
    });
    assert!(seen.len() > 1, "runs saw the switches happen: {seen:?}");
    // The ledger records each run under the preset it actually used.
    let summary = home
        .run(&["tokens", "summary", "--by", "preset", "--all", "--json"])
        .ok()
        .json();
    let ledger: std::collections::BTreeMap<String, u64> = summary["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["runs"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ledger, seen);
    assert_eq!(
        active(&home),
        ROTATION[(SWITCHES - 1) % 3],
        "the last switch won"
    );
}

#[test]
fn a_session_agent_in_the_daemon_restarts_onto_a_switch() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    let daemon = Daemon::start(&home, &[]);
    let follower = Follower::start(&home);
    let control = Control::connect(&daemon);
    let call = |method: &str, params: Value| control.call(method, params);
    let started = call("agent.start", json!({ "agent": AGENT })).unwrap();
    assert_eq!(
        started["preset"], "one",
        "it starts with the active environment"
    );

    home.run(&["env", "switch", AGENT, "two"]).ok();
    let restarted = follower.wait_for("agent_env_restarted");
    assert_eq!(restarted["agent"], AGENT);
    assert_eq!(restarted["from"], "one");
    assert_eq!(restarted["to"], "two");
    let status = call("agent.status", json!({})).unwrap();
    let agent = status
        .as_array()
        .or_else(|| status["agents"].as_array())
        .unwrap()
        .iter()
        .find(|a| a["agent"] == AGENT)
        .cloned()
        .unwrap();
    assert_eq!(agent["preset"], "two", "{agent}");
    assert_ne!(agent["pid"], started["pid"], "a new process: {agent}");
}

#[test]
fn verify_refuses_an_agent_that_is_not_installed_and_keeps_the_old_preset() {
    let home = home();
    home.run(&["env", "switch", "claude", "one"]).ok();
    let out: common::Run = home
        .cmd(&["env", "switch", "claude", "two", "--verify"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("failed at verify") && out.stderr.contains("not installed"),
        "{}",
        out.stderr
    );
    assert_eq!(
        home.run(&["env", "show", "claude", "--json"]).ok().json()["preset"],
        "one"
    );
}

#[test]
fn a_probe_prompt_reaches_the_provider_and_a_failed_probe_rolls_back() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    let probed = home
        .run(&[
            "env", "switch", AGENT, "two", "--verify", "--probe", "say ok", "--json",
        ])
        .ok()
        .json();
    assert_eq!(probed["switched"][0]["preset"], "two");
    // The probe is a real run: recorded under the new preset.
    let summary = home
        .run(&["tokens", "summary", "--by", "preset", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(summary["groups"][0]["key"], "two", "{summary}");
    assert_eq!(summary["groups"][0]["runs"], 1, "{summary}");

    // An agent whose provider answers every prompt with an error.
    common::reference::register(
        &home,
        "broken",
        &["--error-every", "1"],
        "[inject.anthropic]\n",
    );
    home.run(&["env", "switch", "broken", "one"]).ok();
    home.run(&["env", "switch", "broken", "two", "--verify"])
        .ok();
    let failed = home.run(&[
        "env", "switch", "broken", "three", "--verify", "--probe", "say ok",
    ]);
    assert_eq!(failed.code, Some(1), "{failed:?}");
    assert!(
        failed.stderr.contains("failed at verify"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        home.run(&["env", "show", "broken", "--json"]).ok().json()["preset"],
        "two"
    );
    assert_eq!(
        home.run(&["env", "switch", "broken", "three", "--probe", "x"])
            .code,
        Some(2),
        "--probe needs --verify"
    );
}

#[test]
fn a_switched_agent_runs_with_its_presets_current_contents() {
    let home = home();
    home.run(&["env", "switch", AGENT, "one"]).ok();
    // The user rotates the key and moves the URL.
    home.run_with_stdin(
        &[
            "add",
            "one",
            "--kind",
            "anthropic",
            "--base-url",
            "https://moved.example.com",
            "--api-key",
            "-",
            "--force",
        ],
        "sk-rotated-111111111111",
    )
    .ok();
    assert_eq!(
        used_url(&home),
        "ANTHROPIC_BASE_URL=https://moved.example.com"
    );
    let key = home
        .run(&[
            "agents",
            "check",
            AGENT,
            "--prompt",
            "env ANTHROPIC_AUTH_TOKEN",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(key["reply"], "ANTHROPIC_AUTH_TOKEN=sk-rotated-111111111111");
    let shown = home.run(&["env", "show", AGENT]).ok().stdout;
    assert!(shown.contains("https://moved.example.com"), "{shown}");
    let printed = home.run(&["run", AGENT, "--print-command"]).ok().stdout;
    assert!(printed.contains("https://moved.example.com"), "{printed}");

    // Removing it asks for --force and says who falls back to what.
    home.run(&["use", "two"]).ok();
    let refused = home.run(&["remove", "one"]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains(&format!("switched preset of {AGENT}")),
        "{}",
        refused.stderr
    );
    let removed = home.run(&["remove", "one", "--force"]).ok();
    assert!(
        removed
            .stdout
            .contains(&format!("{AGENT} no longer switched to it")),
        "{}",
        removed.stdout
    );
    assert!(
        removed.stdout.contains("current preset two"),
        "{}",
        removed.stdout
    );
    assert_eq!(active(&home), Value::Null);
    assert_eq!(
        used_url(&home),
        "ANTHROPIC_BASE_URL=https://two.example.com",
        "falls back to the current preset"
    );
    let inject = home.aiswitch_home().join("data/inject");
    let left: Vec<_> = walk(&inject)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "one"))
        .collect();
    assert!(left.is_empty(), "derived files of `one` remain: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
