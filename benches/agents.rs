//! Supervisor and RPC benchmarks with real reference-agent processes. Prints a
//! Markdown table for BENCHMARKS.md.
//!
//! `cargo bench --bench agents` (options: `-- --runs N --idle-secs S`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aiswitch::rpc::{
    Connection, ConnectionOptions, ErrorObject, Handler, HandlerFuture, Notification, Request,
};
use aiswitch::supervisor::{Supervisor, SupervisorOptions};
use support::{arg, row};

fn spec(name: &str) -> aiswitch::supervisor::LaunchSpec {
    support::reference(AGENT, name)
}
use serde_json::json;

const AGENT: &str = env!("CARGO_BIN_EXE_aiswitch-agent");

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

struct Ignore;
impl Handler for Ignore {
    fn request(&self, _: Connection, r: Request) -> HandlerFuture {
        Box::pin(async move { Err(ErrorObject::method_not_found(&r.method)) })
    }
    fn notification(&self, _: &Connection, _: Notification) {}
}

fn main() {
    let runs = usize::try_from(arg("--runs", 300)).unwrap();
    let idle_secs = arg("--idle-secs", 60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let supervisor = Supervisor::new(SupervisorOptions::new(dir.path().join("logs")));
        println!("| benchmark | runs | p50 | p99 |");
        println!("|---|---|---|---|");

        // Spawn → initialized (initialize + session/new answered).
        let mut times = Vec::new();
        for i in 0..runs {
            let start = Instant::now();
            let handle = supervisor.start(spec(&format!("spawn-{i}"))).await.unwrap();
            times.push(start.elapsed());
            handle.stop().await.unwrap();
        }
        row("spawn → initialized, reference agent", times);

        // session/prompt round trip on the raw rpc layer.
        let mut child = tokio::process::Command::new(AGENT)
            .args(["--chunks", "1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (conn, _) = Connection::start(child.stdout.take().unwrap(), child.stdin.take().unwrap(), ConnectionOptions::new("bench"), Arc::new(Ignore));
        conn.request("initialize", Some(json!({"protocolVersion": 1}))).await.unwrap();
        let session = conn.request("session/new", Some(json!({"cwd": "/tmp", "mcpServers": []}))).await.unwrap();
        let params = json!({"sessionId": session["sessionId"], "prompt": [{"type": "text", "text": "hi"}]});
        let mut times = Vec::new();
        for i in 0..runs * 10 {
            let start = Instant::now();
            conn.request("session/prompt", Some(params.clone())).await.unwrap();
            if i >= runs {
                times.push(start.elapsed());
            }
        }
        row("`session/prompt` round trip, rpc layer, zero-latency agent", times);
        conn.close();
        let _ = child.wait().await;

        // The same through the supervisor (instance task, event mapping, summary).
        let handle = supervisor.start(spec("prompted")).await.unwrap();
        let mut times = Vec::new();
        for i in 0..runs * 10 {
            let start = Instant::now();
            handle.prompt("hi", None).await.unwrap();
            if i >= runs {
                times.push(start.elapsed());
            }
        }
        row("prompt turn through the supervisor (AgentHandle::prompt)", times);
        handle.stop().await.unwrap();

        println!();
        println!("| idle agents | supervisor RSS growth |");
        println!("|---|---|");
        for count in [10, 100] {
            let before = rss();
            let mut handles = Vec::new();
            for i in 0..count {
                handles.push(supervisor.start(spec(&format!("idle-{count}-{i}"))).await.unwrap());
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            let grown = rss().saturating_sub(before);
            println!("| {count} | {:.2} MB |", grown as f64 / 1e6);
            if count == 10 {
                let ticks_per_sec = 100.0; // Linux USER_HZ
                let t0 = support::cpu_ticks("self");
                let wall = Instant::now();
                tokio::time::sleep(Duration::from_secs(idle_secs)).await;
                let used = (support::cpu_ticks("self") - t0) as f64 / ticks_per_sec;
                println!(
                    "\nsupervisor CPU with 10 idle agents over {idle_secs} s: {:.3} % of a core ({used:.2} s CPU)\n",
                    100.0 * used / wall.elapsed().as_secs_f64()
                );
            }
            for handle in handles {
                handle.stop().await.unwrap();
            }
        }
    });
}
