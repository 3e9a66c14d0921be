//! Every run lands in the usage ledger with its exact tokens, priced from the table,
//! by the agent, or left unpriced; `tokens summary` sums and groups it.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;
use serde_json::Value;

fn home() -> Home {
    let home = Home::new();
    home.run(&[
        "add",
        "sonnet",
        "--kind",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
    ])
    .ok();
    home.run(&["add", "fake", "--kind", "openai", "--model", "gpt-fake"])
        .ok();
    std::fs::create_dir_all(home.root().join("work")).unwrap();
    home
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-12)
}

#[test]
fn runs_are_priced_recorded_and_summed() {
    let home = home();
    let work = home.root().join("work").display().to_string();
    // A priced model: 11 in × $3 + 7 out × $15 per million.
    let task = home
        .run(&[
            "apply",
            "sonnet",
            "--agents",
            "aiswitch-agent",
            "--task",
            "hi",
            "--workdir",
            &work,
            "--coordination-mode",
            "loose",
            "--json",
        ])
        .ok()
        .json();
    assert!(
        close(&task["runs"][0]["cost_usd"], 138.0 / 1e6),
        "{}",
        task["runs"][0]
    );
    assert_eq!(task["runs"][0]["cost_source"], "table");
    assert_eq!(task["runs"][0]["model"], "claude-sonnet-4-5");
    // An unpriced model stays unpriced, never $0.
    let check = home
        .run(&[
            "agents",
            "check",
            "aiswitch-agent",
            "--preset",
            "fake",
            "--prompt",
            "hi",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(check["cost_usd"], Value::Null);
    // The summary: 2 runs, exact token sums, priced cost, one unpriced run.
    let total = home.run(&["tokens", "summary", "--json"]).ok().json()["total"].clone();
    assert_eq!(total["runs"], 2);
    assert_eq!(total["tokens"]["input"], 22);
    assert_eq!(total["tokens"]["output"], 14);
    assert!(close(&total["cost_usd"], 138.0 / 1e6));
    assert_eq!(total["unpriced_runs"], 1);
    let by_model = home
        .run(&["tokens", "summary", "--by", "model", "--json"])
        .ok()
        .json();
    let keys: Vec<&str> = by_model["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["claude-sonnet-4-5", "gpt-fake"]);
    let text = home
        .run(&["tokens", "summary", "--by", "preset"])
        .ok()
        .stdout;
    assert!(
        text.contains("unpriced") && text.contains("$0.000138"),
        "{text}"
    );
    let only = home
        .run(&["tokens", "summary", "--preset", "fake", "--json"])
        .ok()
        .json();
    assert_eq!(only["total"]["runs"], 1);
    let future = home
        .run(&["tokens", "summary", "--since", "2099-01-01", "--json"])
        .ok()
        .json();
    assert_eq!(future["total"], Value::Null);
}

#[test]
fn a_reported_cost_wins_and_cache_tokens_are_kept() {
    let home = home();
    common::reference::register(
        &home,
        "billing",
        &[
            "--cost-usd",
            "0.25",
            "--cache-read",
            "1000",
            "--cache-write",
            "500",
        ],
        "[inject.anthropic]\n",
    );
    home.run(&[
        "agents", "check", "billing", "--preset", "sonnet", "--prompt", "hi",
    ])
    .ok();
    let total = home.run(&["tokens", "summary", "--json"]).ok().json()["total"].clone();
    assert_eq!(total["tokens"]["cache_read"], 1000);
    assert_eq!(total["tokens"]["cache_write"], 500);
    assert!(
        close(&total["cost_usd"], 0.25),
        "the agent's own figure, not the table's"
    );
}

#[test]
fn bad_time_arguments_are_one_line_and_write_nothing() {
    let home = home();
    for (args, says) in [
        (
            vec!["tokens", "summary", "--timeframe", "decade"],
            "invalid value 'decade'",
        ),
        (
            vec!["tokens", "summary", "--since", "yesterday"],
            "invalid time \"yesterday\"",
        ),
        (
            vec![
                "tokens",
                "summary",
                "--since",
                "2026-12-01",
                "--until",
                "2026-11-01",
            ],
            "--since is after --until",
        ),
    ] {
        let before = home.snapshot();
        let run = home.run(&args);
        assert_eq!(run.code, Some(2), "{args:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1);
        assert_eq!(before, home.snapshot());
    }
}

#[test]
fn reprice_applies_new_prices_and_keeps_reported_costs() {
    let home = Home::new();
    home.run(&["add", "mine", "--kind", "openai", "--model", "my-model"])
        .ok();
    home.run(&[
        "agents",
        "check",
        "aiswitch-agent",
        "--preset",
        "mine",
        "--prompt",
        "hi",
    ])
    .ok();
    common::reference::register(
        &home,
        "billing",
        &["--cost-usd", "0.25"],
        "[inject.openai]\n",
    );
    home.run(&[
        "agents", "check", "billing", "--preset", "mine", "--prompt", "hi",
    ])
    .ok();
    let before = home.run(&["tokens", "summary", "--json"]).ok().json()["total"].clone();
    assert_eq!(before["unpriced_runs"], 1);
    // The user prices the model: $1 / $2 per million.
    home.run(&[
        "add", "mine", "--kind", "openai", "--model", "my-model", "--price", "input=1", "--price",
        "output=2", "--force",
    ])
    .ok();
    let repriced = home.run(&["tokens", "reprice", "--json"]).ok().json();
    assert_eq!(repriced["repriced"], 1);
    let after = home.run(&["tokens", "summary", "--json"]).ok().json()["total"].clone();
    assert_eq!(after["unpriced_runs"], 0);
    assert!(
        close(&after["cost_usd"], 0.25 + (11.0 * 1.0 + 7.0 * 2.0) / 1e6),
        "{after}"
    );
}

#[test]
fn config_toml_prices_a_model_the_table_does_not_know() {
    let home = Home::new();
    home.run(&["add", "local", "--kind", "openai", "--model", "qwen3-local"])
        .ok();
    let config = home.aiswitch_home().join("config/config.toml");
    std::fs::write(
        &config,
        "[prices.\"qwen3-local\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .unwrap();
    let check = home
        .run(&[
            "agents",
            "check",
            "aiswitch-agent",
            "--preset",
            "local",
            "--prompt",
            "hi",
            "--json",
        ])
        .ok()
        .json();
    assert!(close(&check["cost_usd"], (11.0 + 14.0) / 1e6), "{check}");
    std::fs::write(&config, "[prices.\"qwen3-local\"]\ninput = \"cheap\"\n").unwrap();
    let bad = home.run(&["tokens", "summary"]);
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("config.toml"), "{}", bad.stderr);
}
