//! What the benchmark harnesses share: percentiles, formatting, and launch specs for
//! the reference agent.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use aiswitch::agents::{AgentRegistry, RestartMode, RestartPolicy};
use aiswitch::supervisor::LaunchSpec;

/// The `p`th percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// µs below a millisecond, ms above.
pub fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// Prints one Markdown row: name, runs, p50, p99.
pub fn row(name: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "| {name} | {} | {} | {} |",
        times.len(),
        fmt(percentile(&times, 50.0)),
        fmt(percentile(&times, 99.0))
    );
}

/// The value of `--name N` on the command line, or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time (user + system) of process `pid` (`self` for this one), in clock ticks
/// (Linux USER_HZ, 100 per second).
pub fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// `bin args...` with `AISWITCH_HOME` set to `home`, its output discarded.
pub fn command(bin: &str, home: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .env("AISWITCH_HOME", home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

/// Starts `bin daemon` on `home` and waits until it is ready; returns it and its
/// socket.
pub fn start_daemon(
    bin: &str,
    home: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf) {
    use std::io::BufRead;
    let mut daemon = std::process::Command::new(bin)
        .args(["daemon", "--json", "--log-level", "warn"])
        .env("AISWITCH_HOME", home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let socket = serde_json::from_str::<serde_json::Value>(&ready).unwrap()["socket"]
        .as_str()
        .unwrap()
        .into();
    (daemon, socket)
}

/// A launch spec for the reference agent at `agent` (one reply chunk, no restarts).
pub fn reference(agent: &str, name: &str) -> LaunchSpec {
    let mut manifest = AgentRegistry::builtins()
        .into_iter()
        .find(|m| m.id.as_str() == "aiswitch-agent")
        .unwrap();
    manifest.command = agent.to_owned();
    manifest.restart = RestartPolicy {
        mode: RestartMode::Never,
        ..RestartPolicy::default()
    };
    LaunchSpec {
        name: name.to_owned(),
        manifest,
        args: vec!["--chunks".into(), "1".into()],
        env: Vec::new(),
        files: Vec::new(),
        session_meta: None,
        cwd: std::env::temp_dir(),
        locks: None,
        lease: None,
        env_remove: Vec::new(),
    }
}
