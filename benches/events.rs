//! Event benchmarks against a real `aiswitch daemon` process: latency from a CLI
//! write to the event at a subscriber, the daemon's idle CPU with 10 idle agents, and
//! the events per second one subscriber takes. Prints Markdown for BENCHMARKS.md.
//!
//! `cargo bench --bench events` (options: `-- --runs N --idle-secs S --events N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aiswitch::control::ControlClient;
use aiswitch::events::Event;
use support::{arg, row};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");
const AGENT: &str = env!("CARGO_BIN_EXE_aiswitch-agent");

fn cli(home: &Path, args: &[&str]) -> Command {
    support::command(BIN, home, args)
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1e3
}

fn main() {
    let runs = arg("--runs", 200) as usize;
    let idle_secs = arg("--idle-secs", 60);
    let flood = arg("--events", 200_000) as i64;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    set_up(home);
    let (mut daemon, socket) = support::start_daemon(BIN, home);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut client = ControlClient::connect(&socket).await.unwrap();
        client.subscribe(None).await.unwrap();
        let _subscribed = client.next_event().await.unwrap();
        latency(home, &mut client, runs).await;
        idle_cpu(home, daemon.id(), idle_secs).await;
        throughput(home, &socket, &mut client, flood).await;
    });
    let _ = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
}

/// Two presets and ten idle agents.
fn set_up(home: &Path) {
    for (name, model) in [("pa", "m-a"), ("pb", "m-b")] {
        assert!(
            cli(
                home,
                &["add", name, "--kind", "anthropic", "--model", model]
            )
            .status()
            .unwrap()
            .success()
        );
    }
    for i in 0..10 {
        let manifest = home.join(format!("idle{i}.toml"));
        std::fs::write(
            &manifest,
            format!(
                "id = \"idle{i}\"\nname = \"idle{i}\"\ncommand = \"{AGENT}\"\ndriver = \"acp\"\n[inject.anthropic]\n"
            ),
        )
        .unwrap();
        let path = manifest.display().to_string();
        assert!(
            cli(home, &["agents", "register", &path])
                .status()
                .unwrap()
                .success()
        );
    }
}

/// A separate CLI process writes; the subscriber gets the event.
async fn latency(home: &Path, client: &mut ControlClient, runs: usize) {
    println!("| benchmark | runs | p50 | p99 |");
    println!("|---|---|---|---|");
    for (label, command) in [("add --force", "add"), ("use", "use")] {
        let mut commit_to_event = Vec::new();
        for i in 0..runs {
            let preset = if i % 2 == 0 { "pa" } else { "pb" };
            let args: Vec<&str> = match command {
                "add" => vec!["add", preset, "--kind", "anthropic", "--force"],
                _ => vec!["use", preset],
            };
            let mut child = cli(home, &args).spawn().unwrap();
            let record = loop {
                let record = client.next_event().await.unwrap();
                if matches!(
                    record.event,
                    Event::PresetChanged { .. } | Event::PresetCurrent { .. }
                ) {
                    break record;
                }
            };
            let latency = (now_ms() - record.at_ms as f64).max(0.0);
            commit_to_event.push(Duration::from_secs_f64(latency / 1e3));
            child.wait().unwrap();
        }
        row(
            &format!("`aiswitch {label}` write → event at a subscriber"),
            commit_to_event,
        );
    }
}

/// The daemon's CPU with 10 idle agents and a subscriber.
async fn idle_cpu(home: &Path, daemon: u32, idle_secs: u64) {
    for i in 0..10 {
        let agent = format!("idle{i}");
        assert!(
            cli(home, &["agents", "start", &agent])
                .status()
                .unwrap()
                .success()
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = daemon.to_string();
    let t0 = support::cpu_ticks(&pid);
    let wall = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let used = (support::cpu_ticks(&pid) - t0) as f64 / 100.0;
    println!(
        "\ndaemon CPU with 10 idle agents and one subscriber over {idle_secs} s: {:.3} % of a core ({used:.2} s CPU)",
        100.0 * used / wall.elapsed().as_secs_f64()
    );
}

/// `flood` events committed at once by another writer, then one wake.
async fn throughput(home: &Path, socket: &Path, client: &mut ControlClient, flood: i64) {
    let db = rusqlite::Connection::open(home.join("data/aiswitch.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    {
        let mut insert = db
            .prepare("INSERT INTO events (at_ms, kind, preset, detail) VALUES (?1, 'preset_current', ?2, ?3)")
            .unwrap();
        for i in 0..flood {
            let preset = format!("p{i}");
            let detail = format!(r#"{{"event":"preset_current","preset":"{preset}"}}"#);
            insert.execute((0, &preset, detail)).unwrap();
        }
    }
    db.execute_batch("COMMIT").unwrap();
    let start = Instant::now();
    aiswitch::events::wake::host(socket);
    let mut received = 0;
    while received < flood {
        let record = client.next_event().await.unwrap();
        if record.id.is_some() && matches!(record.event, Event::PresetCurrent { .. }) {
            received += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "\none subscriber received {flood} stored events in {secs:.2} s: {:.0} events/s",
        flood as f64 / secs
    );
}
