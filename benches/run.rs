//! The overhead of `aiswitch run <agent>` over starting the CLI directly: the same
//! program, with and without aiswitch in front (choosing the preset, rendering the
//! injection, writing its file, recording the launch, exec). Measured on a tiny
//! program (`true`) so the difference is aiswitch's alone, and on Claude Code when it
//! is on PATH (`--version`). Prints Markdown for BENCHMARKS.md.
//!
//! `cargo bench --bench run` (options: `-- --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{arg, percentile, row};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

fn cli(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("AISWITCH_HOME", home).env("HOME", home);
    cmd
}

/// Adds an anthropic preset with model `m` and a key.
fn add_preset(home: &Path, name: &str, url: &str) {
    let mut add = cli(home)
        .args(["add", name, "--kind", "anthropic", "--base-url", url])
        .args(["--model", "m", "--api-key", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"sk-bench-000000000")
        .unwrap();
    assert!(add.wait().unwrap().success());
}

fn times(runs: usize, mut make: impl FnMut() -> Command) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = make()
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            started.elapsed()
        })
        .collect()
}

fn p50(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    percentile(&sorted, 50.0)
}

fn main() {
    let runs = usize::try_from(arg("--runs", 300)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let manifest = home.path().join("tiny.toml");
    std::fs::write(
        &manifest,
        "id = \"tiny\"\nname = \"tiny\"\ncommand = \"true\"\ndriver = \"acp\"\n[inject.anthropic]\nenv = { ANTHROPIC_BASE_URL = \"{base_url}\", ANTHROPIC_AUTH_TOKEN = \"{api_key}\" }\nargs = [[\"--settings\", \"{file:settings.json}\"], [\"--model\", \"{model}\"]]\n[inject.anthropic.files.\"settings.json\".env]\nANTHROPIC_BASE_URL = \"{base_url}\"\nANTHROPIC_AUTH_TOKEN = \"{api_key}\"\n",
    )
    .unwrap();
    assert!(
        cli(home.path())
            .args(["agents", "register", manifest.to_str().unwrap()])
            .status()
            .unwrap()
            .success()
    );
    add_preset(home.path(), "p", "https://x.example");

    println!("| benchmark | runs | p50 | p99 |\n|---|---|---|---|");
    let direct = times(runs, || {
        let mut c = Command::new("true");
        c.args(["--settings", "/dev/null", "--model", "m"]);
        c
    });
    let via = times(runs, || {
        let mut c = cli(home.path());
        c.args(["run", "tiny", "--preset", "p"]);
        c
    });
    let overhead = p50(&via).saturating_sub(p50(&direct));
    row("`true` started directly", direct);
    row("`aiswitch run tiny --preset p` (execs `true`)", via);
    println!(
        "\noverhead of `aiswitch run` at p50: {:.2} ms",
        overhead.as_secs_f64() * 1000.0
    );

    if which_claude() {
        let claude_runs = runs.min(30);
        add_preset(home.path(), "c", "http://127.0.0.1:9");
        // The same command line aiswitch runs (its settings file written once first),
        // so the difference is aiswitch's, not the flags'.
        let first = cli(home.path())
            .args(["run", "claude", "--preset", "c", "--", "--version"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(first.success());
        let settings = home.path().join("data/inject/claude/c/settings.json");
        let direct = times(claude_runs, || {
            let mut c = Command::new("claude");
            c.arg("--settings")
                .arg(&settings)
                .args(["--model", "m", "--version"])
                .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
                .env("ANTHROPIC_AUTH_TOKEN", "sk-bench-000000000");
            c
        });
        let via = times(claude_runs, || {
            let mut c = cli(home.path());
            c.args(["run", "claude", "--preset", "c", "--", "--version"]);
            c
        });
        let overhead = p50(&via).saturating_sub(p50(&direct));
        row("`claude --version` directly", direct);
        row("`aiswitch run claude --preset c -- --version`", via);
        println!(
            "\noverhead with Claude Code at p50: {:.2} ms",
            overhead.as_secs_f64() * 1000.0
        );
    }
}

fn which_claude() -> bool {
    Command::new("sh")
        .args(["-c", "command -v claude"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
