//! What the gateway tests share: the fake provider's bill, presets with a key, an
//! `agents check` through the gateway, the gateway's ledger rows, raw HTTP calls.
#![allow(dead_code)]

use serde_json::Value;

use super::Home;
use super::fake_provider::Usage;

pub const KEY: &str = "sk-real-provider-key-0123456789";

/// What the fake provider bills per call: unlike the reference agent's own report
/// (11 in, 7 out), so the test can tell whose figures reached the ledger.
pub fn billed() -> Usage {
    Usage {
        input: 120,
        output: 45,
        cache_read: 30,
    }
}

pub fn add_preset(home: &Home, name: &str, kind: &str, url: &str) {
    home.run_with_stdin(
        &[
            "add",
            name,
            "--kind",
            kind,
            "--base-url",
            url,
            "--model",
            "fake-m",
            "--api-key",
            "-",
        ],
        KEY,
    )
    .ok();
}

pub fn check(home: &Home, preset: &str, prompt: &str) -> Value {
    home.run(&[
        "--json",
        "agents",
        "check",
        "aiswitch-agent",
        "--preset",
        preset,
        "--prompt",
        prompt,
        "--timeout",
        "30",
    ])
    .ok()
    .json()
}

/// The ledger's rows that the gateway metered.
pub fn ledger(home: &Home) -> Vec<Value> {
    let out = home.run(&["tokens", "export", "--format", "jsonl"]).ok();
    out.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|row| row["count_source"] == "gateway")
        .collect()
}

/// A bare HTTP/1.1 POST on loopback: (status, body).
pub fn post(base: &str, path: &str, credential: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    let body = r#"{"model":"m","max_tokens":8,"messages":[]}"#;
    let auth = if credential.is_empty() {
        String::new()
    } else {
        format!("Authorization: {credential}\r\n")
    };
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// A bare HTTP/1.1 GET on loopback: (status, body).
pub fn get(host: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (
        status,
        response
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
    )
}

/// `NAME=value` from a live process's environment (what the CLI itself was given).
pub fn env_of(pid: u64, name: &str) -> String {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    environ
        .split(|b| *b == 0)
        .filter_map(|kv| std::str::from_utf8(kv).ok())
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} is not in the agent's environment"))
        .to_owned()
}

/// A session agent of `preset` in a daemon of its own, and the URL and token the
/// agent's CLI holds (read from its environment, as the process has them).
pub struct Session {
    _daemon: super::daemon::Daemon,
    pub control: super::daemon::Control,
    pub pid: u64,
    pub url: String,
    pub token: String,
}

impl Session {
    pub fn start(home: &Home, preset: &str) -> Self {
        home.run(&["env", "switch", "aiswitch-agent", preset]).ok();
        let daemon = super::daemon::Daemon::start(home, &[]);
        let control = super::daemon::Control::connect(&daemon);
        let pid = control
            .call(
                "agent.start",
                serde_json::json!({"agent": "aiswitch-agent"}),
            )
            .unwrap()["pid"]
            .as_u64()
            .unwrap();
        Self {
            url: env_of(pid, "ANTHROPIC_BASE_URL"),
            token: env_of(pid, "ANTHROPIC_AUTH_TOKEN"),
            _daemon: daemon,
            control,
            pid,
        }
    }

    /// One Messages request with the session's token: the status.
    pub fn post(&self) -> u16 {
        post(&self.url, "/v1/messages", &format!("Bearer {}", self.token)).0
    }
}
