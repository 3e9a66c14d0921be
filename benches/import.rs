//! `aiswitch usage import claude` over generated Claude Code logs (first import, then the
//! incremental second one) and `aiswitch tokens daily --json`, side by side with
//! `ccusage daily --offline --json` reading the same files when `--ccusage BIN` is given
//! (`scripts/bench-import.sh` installs it). Prints Markdown for BENCHMARKS.md.
//!
//! `cargo bench --bench import` (options: `-- --mb N --runs N --ccusage PATH`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{arg, percentile};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

/// Writes `mb` MB of logs shaped like Claude Code's under `projects`: 32 sessions in 4
/// projects; a user line, then each assistant message on two lines (as Claude Code writes
/// them). Returns the bytes written and the messages.
fn generate(projects: &Path, mb: u64) -> (u64, u64) {
    let filler = "x".repeat(600);
    let files = 32u64;
    let per_file = mb * 1024 * 1024 / files;
    let (mut written, mut message) = (0u64, 0u64);
    for f in 0..files {
        let dir = projects.join(format!("-work-project-{}", f % 4));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("0000000{f}-session.jsonl"));
        let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
        let mut size = 0u64;
        while size < per_file {
            message += 1;
            let day = 20 + message % 5;
            let user = format!(
                "{{\"type\":\"user\",\"timestamp\":\"2026-11-{day}T09:59:00.000Z\",\"sessionId\":\"s{f}\",\"cwd\":\"/work/project-{}\",\"message\":{{\"role\":\"user\",\"content\":[{{\"type\":\"tool_result\",\"content\":\"{filler}\"}}]}}}}\n",
                f % 4
            );
            let assistant = format!(
                "{{\"type\":\"assistant\",\"timestamp\":\"2026-11-{day}T10:00:00.000Z\",\"requestId\":\"req_{message}\",\"sessionId\":\"s{f}\",\"cwd\":\"/work/project-{}\",\"message\":{{\"id\":\"msg_{message}\",\"model\":\"claude-sonnet-4-5\",\"content\":[{{\"type\":\"text\",\"text\":\"{filler}\"}}],\"usage\":{{\"input_tokens\":11,\"output_tokens\":7,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":1200}}}}}}\n",
                f % 4
            );
            out.write_all(user.as_bytes()).unwrap();
            out.write_all(assistant.as_bytes()).unwrap();
            out.write_all(assistant.as_bytes()).unwrap();
            size += (user.len() + 2 * assistant.len()) as u64;
        }
        written += size;
    }
    (written, message)
}

fn timed(command: &mut Command) -> (Duration, Output) {
    let start = Instant::now();
    let out = command.stderr(Stdio::inherit()).output().unwrap();
    assert!(out.status.success(), "{command:?} failed");
    (start.elapsed(), out)
}

fn aiswitch(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("AISWITCH_HOME", home.join("aiswitch"))
        .env("HOME", home.join("user"))
        .env("AISWITCH_TIMEZONE", "UTC");
    command
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    percentile(&times, 50.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let mb = arg("--mb", 1024);
    let runs = arg("--runs", 5) as usize;
    let ccusage: Option<PathBuf> = std::env::args()
        .skip_while(|a| a != "--ccusage")
        .nth(1)
        .map(PathBuf::from);
    let home = tempfile::tempdir().unwrap();
    let (written, messages) = generate(&home.path().join("user/.claude/projects"), mb);
    let import = || {
        let (time, out) = timed(&mut aiswitch(
            home.path(),
            &["usage", "import", "claude", "--json"],
        ));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (time, report[0]["report"].clone())
    };
    let (first, report) = import();
    assert_eq!(report["imported"].as_u64().unwrap(), messages);
    let seconds: Vec<(Duration, serde_json::Value)> = (0..runs).map(|_| import()).collect();
    let again = seconds[0].1.clone();
    assert_eq!(again["imported"], 0);
    let second = median(seconds.into_iter().map(|(t, _)| t).collect());
    let daily_args = ["tokens", "daily", "--all", "--json"];
    let ours_daily = median(
        (0..runs)
            .map(|_| timed(&mut aiswitch(home.path(), &daily_args)).0)
            .collect(),
    );
    println!(
        "{:.2} GB of Claude Code logs, 32 files, {messages} messages (each on two lines)\n",
        written as f64 / 1e9
    );
    println!("| | aiswitch | ccusage |");
    println!("|---|---|---|");
    let theirs = ccusage.map(|bin| {
        let run = || {
            let mut command = Command::new(&bin);
            command
                .args(["daily", "--offline", "--json"])
                .env("HOME", home.path().join("user"))
                .env("CLAUDE_CONFIG_DIR", home.path().join("user/.claude"))
                .env("TZ", "UTC");
            timed(&mut command)
        };
        let (first, out) = run();
        let days: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let output: u64 = days["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["outputTokens"].as_u64().unwrap())
            .sum();
        assert_eq!(output, messages * 7, "ccusage counted what aiswitch did");
        let rest: Vec<Duration> = (1..runs).map(|_| run().0).collect();
        (first, median(rest))
    });
    let (their_first, their_daily) =
        theirs.map_or(("—".into(), "—".into()), |(f, d)| (ms(f), ms(d)));
    println!(
        "| first import (ccusage: its first `daily --offline --json`) | {} ({:.0} MB/s) | {their_first} |",
        ms(first),
        written as f64 / 1e6 / first.as_secs_f64()
    );
    println!(
        "| second import (nothing new; {} bytes read), median of {runs} | {} | |",
        again["bytes_read"],
        ms(second)
    );
    println!(
        "| daily report, `--json`, median of {runs} | {} | {their_daily} |",
        ms(ours_daily)
    );
}
