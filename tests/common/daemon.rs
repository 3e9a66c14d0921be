//! A real `aiswitch daemon` process for one test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::Home;

/// The first line `child` prints (its stdout piped), as JSON; fails the test when it
/// prints none within 20 s.
pub fn first_json_line(child: &mut Child, what: &str) -> serde_json::Value {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} before the deadline"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what} is JSON ({e}): {line}"))
}

/// A running daemon; killed (SIGKILL) when dropped if still running.
pub struct Daemon {
    pub child: Option<Child>,
    pub pid: u32,
    pub socket: PathBuf,
}

impl Daemon {
    /// Starts `aiswitch daemon --json` and waits for its ready line.
    pub fn start(home: &Home, env: &[(&str, &str)]) -> Self {
        let mut cmd = home.cmd(&["daemon", "--json"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let ready = first_json_line(&mut child, "the daemon's ready line");
        Self {
            pid: child.id(),
            socket: PathBuf::from(ready["socket"].as_str().unwrap()),
            child: Some(child),
        }
    }

    /// Sends a signal and waits (with a deadline) for the daemon to exit.
    pub fn signal_and_wait(&mut self, signal: &str) -> std::process::ExitStatus {
        super::send_signal(self.pid, signal);
        super::wait_with_deadline(self.child.take().unwrap(), Duration::from_secs(20))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `aiswitch events --follow --json` as a user runs it, already subscribed; killed
/// when dropped.
pub struct Follower {
    child: Child,
    events: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl Follower {
    /// Starts the follower and waits for its `subscribed` line.
    pub fn start(home: &Home) -> Self {
        Self::start_with(home, &[])
    }

    /// Starts `events --follow --json` with `extra` arguments (`--since ID`).
    pub fn start_with(home: &Home, extra: &[&str]) -> Self {
        let mut args = vec!["events", "--follow", "--json"];
        args.extend_from_slice(extra);
        let mut child = home
            .cmd(&args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start events --follow");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let follower = Self { child, events };
        assert_eq!(follower.next()["event"], "subscribed");
        follower
    }

    /// The next event; fails the test when none comes within 10 s.
    pub fn next(&self) -> serde_json::Value {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("an event before the deadline")
    }

    /// The next event called `name`, skipping others.
    pub fn wait_for(&self, name: &str) -> serde_json::Value {
        loop {
            let event = self.next();
            if event["event"] == name {
                return event;
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking control-socket client for tests.
pub struct Control {
    rt: tokio::runtime::Runtime,
    client: aiswitch::control::ControlClient,
}

impl Control {
    /// Connects to `daemon`'s socket.
    pub fn connect(daemon: &Daemon) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let client = rt
            .block_on(aiswitch::control::ControlClient::connect(&daemon.socket))
            .expect("connect to the daemon");
        Self { rt, client }
    }

    /// Calls `method` and waits for its answer.
    pub fn call(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, aiswitch::rpc::RpcError> {
        self.rt.block_on(self.client.call(method, Some(params)))
    }
}
