//! The shared harness for black-box tests: a temp `AISWITCH_HOME`, the built binary,
//! snapshots of every file under the home, and waiting with a deadline.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

pub mod daemon;
pub mod fake_provider;
pub mod gateway;
pub mod logs;
pub mod procs;
pub mod reference;
pub mod slow_task;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `aiswitch` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_aiswitch");

/// A private home for one test: `AISWITCH_HOME` and `HOME` both point inside it.
pub struct Home {
    dir: tempfile::TempDir,
}

/// A daemon a command started in the background (`run` and `apply -- CLI` start
/// one for the gateway) stops with the test's home: SIGTERM, then wait for its lock.
impl Drop for Home {
    fn drop(&mut self) {
        let run = self.aiswitch_home().join("run");
        let Some(pid) = aiswitch::daemon::running_pid(&run) else {
            return;
        };
        send_signal(pid.parse().unwrap_or(0), "TERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while aiswitch::daemon::running_pid(&run).is_some() && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "command failed: {self:?}");
        self
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Home {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("user")).unwrap();
        Self { dir }
    }

    /// The `AISWITCH_HOME` root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The fake user home (`HOME`), for files of other tools.
    pub fn user_home(&self) -> PathBuf {
        self.dir.path().join("user")
    }

    /// The aiswitch home (config/, data/, run/ live here).
    pub fn aiswitch_home(&self) -> PathBuf {
        self.dir.path().join("aiswitch")
    }

    /// Makes launches inject the preset's URL and key as they are (`gateway =
    /// "direct"`), for tests of what the injection itself puts where.
    #[allow(dead_code)]
    pub fn direct(&self) {
        let dir = self.aiswitch_home().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        text.push_str("gateway = \"direct\"\n");
        std::fs::write(file, text).unwrap();
    }

    /// One request through the gateway, by `agents check` of the reference agent
    /// with a keyed preset `preset` at `provider`: the ledger gets its usage and
    /// `limits` the windows of the provider's headers.
    #[allow(dead_code)]
    pub fn call_through_gateway(&self, preset: &str, provider: &str) {
        self.run_with_stdin(
            &[
                "add",
                preset,
                "--kind",
                "anthropic",
                "--base-url",
                provider,
                "--api-key",
                "-",
            ],
            "sk-ant-gateway-0123456789abcdef",
        )
        .ok();
        self.run(&[
            "agents",
            "check",
            "aiswitch-agent",
            "--preset",
            preset,
            "--prompt",
            "call",
        ])
        .ok();
    }

    /// A command for the binary with this home and no inherited `AISWITCH_*`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AISWITCH_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(args)
            .env("AISWITCH_HOME", self.aiswitch_home())
            .env("HOME", self.user_home())
            .env("XDG_CONFIG_HOME", self.user_home().join(".config"))
            .env("XDG_DATA_HOME", self.user_home().join(".local/share"))
            // What a command leaves in the temporary directory (the demo's project)
            // goes with the test's own directory.
            .env("TMPDIR", self.root())
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    /// Every file under the home with its bytes: equal snapshots mean nothing was
    /// written.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(self.root(), &mut files);
        files
    }

    /// Adds a preset with a secret key, for tests that need one.
    pub fn add_secret_preset(&self, name: &str, key: &str) {
        self.run_with_stdin(
            &[
                "add",
                name,
                "--kind",
                "anthropic",
                "--base-url",
                "https://api.example.com/anthropic",
                "--model",
                "m-1",
                "--api-key",
                "-",
            ],
            key,
        )
        .ok();
    }
}

fn collect(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.insert(path, bytes);
        }
    }
}

/// Runs `cmd` to its end and returns what it did, killing it and failing the test
/// when it runs past `deadline`.
pub fn run_to_end(mut cmd: Command, deadline: Duration) -> Run {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(deadline) {
        Ok(out) => out.unwrap().into(),
        Err(_) => {
            send_signal(pid, "KILL");
            panic!("{cmd:?} did not end within {deadline:?}");
        }
    }
}

/// Waits for `child` to exit, failing the test after `deadline`.
pub fn wait_with_deadline(child: Child, deadline: Duration) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = tx.send(child.wait());
    });
    rx.recv_timeout(deadline)
        .expect("child did not exit before the deadline")
        .unwrap()
}

/// Sends a signal with kill(1).
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Asserts that a command run with the setting `var=value` fails with exit 1 and one
/// line naming it (`expected`).
pub fn refused_setting(var: &str, value: &str, expected: &str) {
    let home = Home::new();
    let run = home.cmd(&["list"]).env(var, value).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains(expected), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
