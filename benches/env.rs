//! Runtime-switching benchmarks: `env switch` latency without `--verify` (in the
//! engine, and as the CLI end to end), and the switch success rate over 1,000
//! switches while reference-agent runs use the agent. Prints Markdown for
//! BENCHMARKS.md.
//!
//! `cargo bench --bench env` (options: `-- --switches N --runs N`).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use aiswitch::engine::{Engine, Verify};
use aiswitch::paths::Paths;
use aiswitch::presets::PresetName;
use aiswitch::settings::Settings;
use support::{arg, row};

const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");
const AGENT: &str = "aiswitch-agent";
const PRESETS: [&str; 3] = ["one", "two", "three"];

/// The `aiswitch` CLI against the bench's home.
fn cli(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("AISWITCH_HOME", home).env("HOME", home);
    cmd
}

fn aiswitch(home: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = cli(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn main() {
    let switches = usize::try_from(arg("--switches", 1_000)).unwrap();
    let runs = usize::try_from(arg("--runs", 300)).unwrap();
    let home = tempfile::tempdir().unwrap();
    for name in PRESETS {
        let url = format!("https://{name}.example.com");
        let added = aiswitch(
            home.path(),
            &[
                "add",
                name,
                "--kind",
                "anthropic",
                "--base-url",
                &url,
                "--api-key",
                "-",
            ],
            &format!("sk-{name}-000000000000"),
        );
        assert!(added.status.success(), "{added:?}");
    }
    let presets: Vec<PresetName> = PRESETS
        .iter()
        .map(|p| PresetName::parse(p).unwrap())
        .collect();
    let paths = Paths::under(home.path().to_path_buf());
    let settings = Settings::load(&paths.config_file()).unwrap();
    let engine = Engine::new(paths, settings);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    println!("| benchmark | runs | p50 | p99 |\n|---|---|---|---|");
    // 1. The switch itself, in the engine (what the daemon and the tray call).
    let mut times = Vec::with_capacity(switches);
    for i in 0..switches {
        let started = Instant::now();
        rt.block_on(engine.switch_env(AGENT, &presets[i % 3], Verify::No))
            .unwrap();
        times.push(started.elapsed());
    }
    row("switch, in the engine, no --verify", times);
    // 2. The CLI end to end: process start, switch, exit.
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        let out = cli(home.path())
            .args(["env", "switch", AGENT, PRESETS[i % 3]])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        times.push(started.elapsed());
        assert!(out.success());
    }
    row("`aiswitch env switch` end to end", times);

    // 3. Under load: runs of the reference agent use the agent while it is switched.
    let stop = AtomicBool::new(false);
    let (ok, failed, run_times, load_runs, mixed) = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let (mut done, mut mixed) = (0_usize, 0_usize);
            while !stop.load(Ordering::Relaxed) {
                let out = cli(home.path())
                    .args([
                        "agents",
                        "check",
                        AGENT,
                        "--prompt",
                        "env ANTHROPIC_BASE_URL ANTHROPIC_AUTH_TOKEN",
                        "--json",
                    ])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let reply = report["reply"].as_str().unwrap_or_default();
                let preset = report["preset"].as_str().unwrap_or_default();
                let url_ok = reply.contains(&format!("https://{preset}.example.com"));
                let key_ok = reply.contains(&format!("=sk-{preset}-"));
                if !(url_ok && key_ok) {
                    mixed += 1;
                }
                done += 1;
            }
            (done, mixed)
        });
        let (mut ok, mut failed) = (0_usize, 0_usize);
        let mut times = Vec::with_capacity(switches);
        for i in 0..switches {
            let started = Instant::now();
            match rt.block_on(engine.switch_env(AGENT, &presets[(i + 1) % 3], Verify::No)) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            times.push(started.elapsed());
        }
        stop.store(true, Ordering::Relaxed);
        let (done, mixed) = load.join().unwrap();
        (ok, failed, times, done, mixed)
    });
    row("switch under load, in the engine, no --verify", run_times);
    println!();
    println!(
        "Under load: {ok}/{} switches succeeded ({:.1} %), {failed} failed; {load_runs} agent runs \
         during them, {mixed} saw an environment that did not match the preset they report.",
        ok + failed,
        100.0 * ok as f64 / (ok + failed).max(1) as f64,
    );
}
