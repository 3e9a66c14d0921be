//! `metrics show`: latency percentiles, error rates and throughput of the agents'
//! RPC traffic, kept in the store; an error-rate alert.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

#[test]
fn prompts_and_methods_are_measured() {
    let home = Home::new();
    for _ in 0..3 {
        home.run(&["agents", "check", "aiswitch-agent", "--prompt", "hi"])
            .ok();
    }
    let report = home.run(&["metrics", "show", "--json"]).ok().json();
    let agent = &report["agents"][0];
    assert_eq!(agent["agent"], "aiswitch-agent");
    assert_eq!(agent["prompts"], 3);
    assert_eq!(agent["error_rate"], 0.0);
    assert!(agent["prompt_turns"]["p50_us"].as_u64().unwrap() > 0);
    let methods: Vec<&str> = agent["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["initialize", "session/new", "session/prompt"]);
    assert!(agent["messages_per_sec"].as_f64().unwrap() > 0.0);
    let text = home.run(&["metrics", "show"]).ok().stdout;
    assert!(
        text.contains("TURN p50/p95/p99") && text.contains("session/prompt: 3 requests"),
        "{text}"
    );
}

#[test]
fn failing_requests_show_in_the_error_rate_and_raise_one_alert() {
    let home = Home::new();
    common::reference::register(&home, "grumpy", &["--error-every", "1"], "");
    for _ in 0..6 {
        let run = home.run(&["agents", "check", "grumpy", "--prompt", "hi"]);
        assert_eq!(run.code, Some(1), "every prompt fails: {run:?}");
    }
    let report = home
        .run(&["metrics", "show", "--agent", "grumpy", "--json"])
        .ok()
        .json();
    let prompt = report["agents"][0]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "session/prompt")
        .unwrap()
        .clone();
    assert_eq!(prompt["requests"], 6);
    assert_eq!(prompt["error_rate"], 1.0);
    let alerts = home.run(&["alerts", "--json"]).ok().json();
    let rate: Vec<_> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "error_rate")
        .collect();
    assert_eq!(rate.len(), 1, "one alert per agent per window: {alerts}");
    assert_eq!(rate[0]["subject"], "grumpy");
}

#[test]
fn the_error_rate_counts_prompt_turns_crashes_included() {
    let home = Home::new();
    common::reference::register(&home, "grumpy", &["--error-every", "1"], "");
    common::reference::register(&home, "crashy", &["--crash-after", "0"], "");
    for agent in ["grumpy", "crashy"] {
        for _ in 0..3 {
            let run = home.run(&["agents", "check", agent, "--prompt", "hi"]);
            assert_eq!(run.code, Some(1), "{agent}: every prompt fails: {run:?}");
        }
    }
    let report = home.run(&["metrics", "show", "--json"]).ok().json();
    for agent in ["grumpy", "crashy"] {
        let row = report["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["agent"] == agent)
            .unwrap_or_else(|| panic!("{agent} in {report}"));
        assert_eq!(row["prompts"], 3, "{agent}: {row}");
        assert_eq!(
            row["error_rate"], 1.0,
            "{agent}: not diluted by initialize/session/new: {row}"
        );
    }
    let text = home.run(&["metrics", "show"]).ok().stdout;
    assert!(text.contains("100.0 %"), "{text}");
}
