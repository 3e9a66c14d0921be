//! `tokens export`: the ledger out as CSV and JSON Lines, one row per usage event,
//! and back: a CSV reader gets every field exactly, and the sums equal the ledger's.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;
use common::logs::{claude_line, write_claude_log};
use serde_json::Value;

fn home_with_usage() -> Home {
    let home = Home::new();
    let text = claude_line("m1", "claude-sonnet-4-5", 100, "2026-11-02T10:00:00Z")
        // A model name a naive CSV writer would break: a comma and a quote.
        + &claude_line("m2", r#"odd "model", v2"#, 30, "2026-11-20T10:00:00Z");
    write_claude_log(&home, &text);
    home.run(&["usage", "import", "claude"]).ok();
    home
}

#[test]
fn csv_round_trips_and_sums_to_the_ledger() {
    let home = home_with_usage();
    let csv = home
        .run(&["tokens", "export", "--format", "csv"])
        .ok()
        .stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "id",
            "time",
            "at_ms",
            "agent",
            "instance",
            "preset",
            "provider",
            "model",
            "task",
            "session",
            "input",
            "output",
            "cache_read",
            "cache_write",
            "reasoning",
            "cost_usd",
            "cost_source",
            "count_source",
            "project",
            "launch"
        ],
        "the documented columns, in order"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0][1], "2026-11-02T10:00:00Z",
        "time order, RFC 3339 UTC"
    );
    assert_eq!(&rows[1][7], r#"odd "model", v2"#, "quoting round-trips");
    assert_eq!(&rows[1][15], "", "an unpriced cost is an empty cell");
    assert_eq!(&rows[1][16], "unpriced");
    assert_eq!(&rows[0][17], "log_import");
    let input: u64 = rows.iter().map(|r| r[10].parse::<u64>().unwrap()).sum();
    let cost: f64 = rows.iter().filter_map(|r| r[15].parse::<f64>().ok()).sum();
    let ledger = home
        .run(&["tokens", "summary", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(input, ledger["total"]["tokens"]["input"].as_u64().unwrap());
    let ledger_cost = ledger["total"]["cost_usd"].as_f64().unwrap();
    assert!((cost - ledger_cost).abs() < 1e-9, "{cost} vs {ledger_cost}");
}

#[test]
fn jsonl_is_one_object_per_event_and_filters_apply() {
    let home = home_with_usage();
    let out = home
        .run(&["tokens", "export", "--format", "jsonl"])
        .ok()
        .stdout;
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["model"], "claude-sonnet-4-5");
    assert_eq!(rows[1]["cost_usd"], Value::Null);
    let since = home
        .run(&[
            "tokens",
            "export",
            "--format",
            "jsonl",
            "--since",
            "2026-11-10",
            "--timezone",
            "UTC",
        ])
        .ok()
        .stdout;
    assert_eq!(since.lines().count(), 1, "--since narrows it: {since}");
}

#[test]
fn output_goes_to_a_file_and_bad_input_writes_nothing() {
    let home = home_with_usage();
    let file = home.root().join("usage.csv");
    let run = home
        .run(&[
            "tokens",
            "export",
            "--format",
            "csv",
            "--output",
            file.to_str().unwrap(),
            "--json",
        ])
        .ok();
    assert_eq!(run.json()["rows"], 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 3);
    let bad = home.run(&["tokens", "export", "--format", "xml"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("xml"), "{}", bad.stderr);
    let missing = home.root().join("no/such/dir/usage.csv");
    let run = home.run(&[
        "tokens",
        "export",
        "--format",
        "csv",
        "--output",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1);
}
