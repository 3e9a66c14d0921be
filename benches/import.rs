//! `aiswitch usage import claude` over 1 GB of Claude Code logs, then the
//! incremental second import of the same files. Prints Markdown for BENCHMARKS.md.
//!
//! `cargo bench --bench import` (option: `-- --mb N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use support::arg;

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

fn main() {
    let mb = arg("--mb", 1024);
    let home = tempfile::tempdir().unwrap();
    let projects = home.path().join("user/.claude/projects");
    // A line like Claude Code's: assistant message with content and usage; each
    // message appears on two lines (as Claude Code writes them).
    let filler = "x".repeat(600);
    let files = 32u64;
    let per_file = mb * 1024 * 1024 / files;
    let mut written = 0u64;
    let mut message = 0u64;
    for f in 0..files {
        let dir = projects.join(format!("-work-project-{}", f % 4));
        std::fs::create_dir_all(&dir).unwrap();
        let mut out =
            BufWriter::new(std::fs::File::create(dir.join(format!("session-{f}.jsonl"))).unwrap());
        let mut size = 0u64;
        while size < per_file {
            message += 1;
            let line = format!(
                "{{\"type\":\"assistant\",\"timestamp\":\"2026-11-2{}T10:00:00.000Z\",\"requestId\":\"req_{message}\",\"sessionId\":\"s{f}\",\"message\":{{\"id\":\"msg_{message}\",\"model\":\"claude-sonnet-4-5\",\"content\":[{{\"type\":\"text\",\"text\":\"{filler}\"}}],\"usage\":{{\"input_tokens\":11,\"output_tokens\":7,\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":1200}}}}}}\n",
                message % 5
            );
            for _ in 0..2 {
                out.write_all(line.as_bytes()).unwrap();
                size += line.len() as u64;
            }
        }
        written += size;
    }
    let import = || {
        let start = Instant::now();
        let out = Command::new(BIN)
            .args(["usage", "import", "claude", "--json"])
            .env("AISWITCH_HOME", home.path().join("aiswitch"))
            .env("HOME", home.path().join("user"))
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (start.elapsed(), report[0]["report"].clone())
    };
    let (first, report) = import();
    assert_eq!(report["imported"].as_u64().unwrap(), message);
    println!("| import | bytes | entries | time | throughput |");
    println!("|---|---|---|---|---|");
    println!(
        "| first import, {files} files | {:.2} GB | {} new | {:.2} s | {:.0} MB/s |",
        written as f64 / 1e9,
        report["imported"],
        first.as_secs_f64(),
        written as f64 / 1e6 / first.as_secs_f64()
    );
    let (second, report) = import();
    assert_eq!(report["imported"], 0);
    println!(
        "| second import, same files (incremental) | {} read | {} new | {:.1} ms | |",
        report["bytes_read"],
        report["imported"],
        second.as_secs_f64() * 1e3
    );
}
