//! End-to-end CLI benchmarks: the release `aiswitch` binary, started as a user starts
//! it, against a temp home. Prints a Markdown table for BENCHMARKS.md.
//!
//! Run with `cargo bench --bench cli` (optionally `-- --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aiswitch::presets::{Preset, PresetName, PresetRepo, ProviderKind, Secret};

use support::{fmt, percentile};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let home = tempfile::tempdir().unwrap();
    seed(home.path(), 1_000);

    println!("| benchmark | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    let list = time_runs(runs, || {
        command(home.path(), &["list", "--json"]).status().unwrap()
    });
    report("`aiswitch list --json`, 1,000 presets", &list);

    let bare = time_runs(runs, || Command::new("true").status().unwrap());
    report("`true` (baseline)", &bare);
    let apply = time_runs(runs, || {
        command(home.path(), &["apply", "p0000", "--", "true"])
            .status()
            .unwrap()
    });
    report("`aiswitch apply p0000 -- true`", &apply);
    println!(
        "\napply overhead over bare `true`: p50 {}, p99 {}",
        fmt(percentile(&apply, 50.0).saturating_sub(percentile(&bare, 50.0))),
        fmt(percentile(&apply, 99.0).saturating_sub(percentile(&bare, 99.0)))
    );
}

/// Writes `count` presets straight through the library.
fn seed(home: &Path, count: usize) {
    let repo = PresetRepo::new(&home.join("config"));
    let presets: Vec<Preset> = (0..count)
        .map(|i| {
            let mut p = Preset::new(
                PresetName::parse(&format!("p{i:04}")).unwrap(),
                ProviderKind::Anthropic,
            );
            p.base_url = Some(format!("https://provider-{i}.example.com/anthropic"));
            p.api_key = Some(Secret::new(format!("sk-bench-{i:012}-secret")));
            p.model = Some("model-x".into());
            p.description = Some("benchmark preset".into());
            p.tags = vec!["bench".into()];
            p
        })
        .collect();
    repo.save_all(&presets, false).unwrap();
}

fn command(home: &Path, args: &[&str]) -> Command {
    support::command(BIN, home, args)
}

fn time_runs(runs: usize, mut f: impl FnMut() -> std::process::ExitStatus) -> Vec<Duration> {
    for _ in 0..runs / 10 + 1 {
        assert!(f().success(), "warm-up run failed");
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            assert!(f().success());
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn report(name: &str, times: &[Duration]) {
    println!(
        "| {name} | {} | {} | {} |",
        times.len(),
        fmt(percentile(times, 50.0)),
        fmt(percentile(times, 99.0))
    );
}
