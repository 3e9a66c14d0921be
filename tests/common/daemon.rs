//! A real `aiswitch daemon` process for one test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::Home;

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
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("daemon ready before the deadline");
        let ready: serde_json::Value = serde_json::from_str(&line).expect("ready line is JSON");
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
