//! Control-socket benchmarks against a real `aiswitch daemon` process. Prints a
//! Markdown table for BENCHMARKS.md.
//!
//! `cargo bench --bench daemon` (option: `-- --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiswitch::control::ControlClient;
use support::row;

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let home = tempfile::tempdir().unwrap();
    let (mut daemon, socket) = support::start_daemon(BIN, home.path());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| benchmark | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    rt.block_on(async {
        let client = ControlClient::connect(&socket).await.unwrap();
        let mut times = Vec::new();
        for i in 0..runs * 20 {
            let start = Instant::now();
            client.call("system.ping", None).await.unwrap();
            if i >= runs * 10 {
                times.push(start.elapsed());
            }
        }
        row("control round trip (`system.ping`), one client", times);

        // Throughput: 16 clients, each with 8 requests in flight, for 3 seconds.
        let deadline = Instant::now() + Duration::from_secs(3);
        let started = Instant::now();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let socket = socket.clone();
                tokio::spawn(async move {
                    let client =
                        std::sync::Arc::new(ControlClient::connect(&socket).await.unwrap());
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        let batch: Vec<_> = (0..8)
                            .map(|_| {
                                let client = client.clone();
                                tokio::spawn(async move {
                                    client.call("system.ping", None).await.unwrap()
                                })
                            })
                            .collect();
                        for call in batch {
                            call.await.unwrap();
                        }
                        done += 8;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        let rps = total as f64 / started.elapsed().as_secs_f64();
        println!("\nthroughput, 16 clients × 8 in flight, `system.ping`: {rps:.0} requests/s\n");
    });

    // Ten agents running in the daemon, then `aiswitch agents status --json` end to end.
    let agent_bin = std::path::Path::new(BIN).with_file_name("aiswitch-agent");
    for i in 0..10 {
        let manifest = home.path().join(format!("bench-{i}.toml"));
        std::fs::write(
            &manifest,
            format!("id = \"bench-{i}\"\nname = \"bench\"\ncommand = \"{}\"\ndriver = \"acp\"\nlifetime = \"session\"\n", agent_bin.display()),
        )
        .unwrap();
        let cli = |args: &[&str]| {
            let status = Command::new(BIN)
                .args(args)
                .env("AISWITCH_HOME", home.path())
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "{args:?}");
        };
        cli(&["agents", "register", manifest.to_str().unwrap()]);
        cli(&["agents", "start", &format!("bench-{i}"), "--no-daemon"]);
    }
    println!("| benchmark | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    let mut times = Vec::new();
    for i in 0..runs + runs / 10 {
        let start = Instant::now();
        let out = Command::new(BIN)
            .args(["agents", "status", "--json", "--no-daemon"])
            .env("AISWITCH_HOME", home.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        if i >= runs / 10 {
            times.push(start.elapsed());
        }
    }
    row(
        "`aiswitch agents status --json`, daemon with 10 agents, end to end",
        times,
    );
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
}
