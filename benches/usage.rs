//! Usage-ledger benchmarks: batched inserts, and `tokens summary` end to end over a
//! ledger of 1,000,000 events. Prints Markdown for BENCHMARKS.md.
//!
//! `cargo bench --bench usage` (options: `-- --events N --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiswitch::agents::event::TokenCounts;
use aiswitch::store::{Store, UsageRow, now_ms};
use support::{arg, row};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

fn main() {
    let events = usize::try_from(arg("--events", 1_000_000)).unwrap();
    let runs = usize::try_from(arg("--runs", 50)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut store = Store::open(&data.join("aiswitch.db"), Duration::from_secs(5)).unwrap();
    let now = now_ms();
    let agents = ["claude", "codex", "gemini", "qwen", "opencode"];
    let models = [
        "claude-sonnet-4-5",
        "gpt-5",
        "gemini-2.5-pro",
        "qwen3-coder-plus",
        "kimi-k2",
    ];
    let batch = 10_000;
    let started = Instant::now();
    for start in (0..events).step_by(batch) {
        let rows: Vec<UsageRow> = (start..(start + batch).min(events))
            .map(|i| UsageRow {
                // Spread over the last 60 days, so a month is half the ledger.
                at_ms: now
                    - i64::try_from(i).unwrap() * 60 * 86_400_000 / i64::try_from(events).unwrap(),
                agent: agents[i % 5].into(),
                preset: Some(format!("p{}", i % 7)),
                provider: Some("api.example.com".into()),
                model: Some(models[i % 5].into()),
                task_id: None,
                tokens: TokenCounts {
                    input: 1_000,
                    output: 200,
                    cache_read: 5_000,
                    cache_write: 0,
                    reasoning: 0,
                },
                cost_usd: (i % 10 != 0).then_some(0.0123),
                cost_source: if i % 10 == 0 { "unpriced" } else { "table" },
                count_source: "agent",
                price_version: Some("2026-11-01".into()),
                source_key: None,
                instance: None,
                session_id: None,
                project: None,
                launch: None,
            })
            .collect();
        store.insert_usage(&rows).unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "inserting {events} usage events in batches of {batch}: {:.0} events/s ({secs:.1} s)\n",
        events as f64 / secs
    );
    drop(store);

    println!("| benchmark | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    for (name, args) in [
        (
            "`aiswitch tokens summary --timeframe month --json`",
            vec!["tokens", "summary", "--timeframe", "month", "--json"],
        ),
        (
            "`aiswitch tokens summary --timeframe month --by model --json`",
            vec![
                "tokens",
                "summary",
                "--timeframe",
                "month",
                "--by",
                "model",
                "--json",
            ],
        ),
        (
            "`aiswitch tokens summary --timeframe day --json`",
            vec!["tokens", "summary", "--timeframe", "day", "--json"],
        ),
    ] {
        let mut times = Vec::new();
        for i in 0..runs + 3 {
            let start = Instant::now();
            let status = Command::new(BIN)
                .args(&args)
                .env("AISWITCH_HOME", home.path())
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            if i >= 3 {
                times.push(start.elapsed());
            }
        }
        row(&format!("{name}, {events} events"), times);
    }
}
