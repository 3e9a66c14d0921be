//! `aiswitch dashboard`: who it lets in (token, Host, Origin), and the page driven in
//! real Chromium (ui/tests/dashboard.mjs) against a real daemon with the reference
//! agent: launch a task and watch it, follow changes made in a terminal, switch a
//! provider, in English and Chinese.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::Home;
use common::daemon::{Daemon, first_json_line};

/// `aiswitch dashboard --json`, killed when dropped.
struct Served {
    child: Child,
    url: String,
    port: u16,
}

impl Served {
    fn start(home: &Home) -> Self {
        Self::start_with(home, &[])
    }

    fn start_with(home: &Home, args: &[&str]) -> Self {
        let mut child = home
            .cmd(&[&["dashboard", "--json"], args].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let json = first_json_line(&mut child, "the dashboard's URL line");
        let url = json["url"].as_str().unwrap().to_owned();
        let port = json["addr"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Self { child, url, port }
    }

    fn token(&self) -> &str {
        self.url.split("token=").nth(1).unwrap()
    }

    /// Sends a raw HTTP/1.1 request; returns the status line and the headers.
    fn request(&self, path: &str, headers: &[(&str, String)]) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut text = format!("GET {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(name, _)| *name == "Connection") {
            text.push_str("Connection: close\r\n");
        }
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        stream.write_all(text.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        (status, head)
    }

    fn host(&self) -> (&'static str, String) {
        ("Host", format!("127.0.0.1:{}", self.port))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upgrade(
    origin: &str,
    cookie: String,
    host: (&'static str, String),
) -> Vec<(&'static str, String)> {
    vec![
        host,
        ("Upgrade", "websocket".into()),
        ("Connection", "Upgrade".into()),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==".into()),
        ("Sec-WebSocket-Version", "13".into()),
        ("Origin", origin.into()),
        ("Cookie", cookie),
    ]
}

#[test]
fn only_the_printed_url_from_this_machine_gets_in() {
    let home = Home::new();
    let _daemon = Daemon::start(&home, &[]);
    let served = Served::start(&home);
    assert!(
        served.url.starts_with("http://127.0.0.1:"),
        "{}",
        served.url
    );
    let token = served.token().to_owned();

    let (status, _) = served.request("/", &[served.host()]);
    assert_eq!(status, 401, "no token");
    let (status, _) = served.request("/?token=wrong", &[served.host()]);
    assert_eq!(status, 401, "a wrong token");
    let (status, head) = served.request(&format!("/?token={token}"), &[served.host()]);
    assert_eq!(status, 200, "the page at once: {head}");
    assert!(
        head.contains(&format!(
            "aiswitch_dashboard={token}; Path=/; HttpOnly; SameSite=Strict"
        )),
        "{head}"
    );
    let cookie = format!("aiswitch_dashboard={token}");
    let (status, head) = served.request("/", &[served.host(), ("Cookie", cookie.clone())]);
    assert_eq!(status, 200, "the cookie lets the page in");
    assert!(
        head.to_lowercase().contains("x-frame-options: deny"),
        "{head}"
    );
    // DNS rebinding: a name that resolves here, with the right token, is still refused.
    let rebound = ("Host", format!("attacker.example:{}", served.port));
    let (status, _) = served.request(&format!("/?token={token}"), &[rebound]);
    assert_eq!(status, 403);
    // Another site's page opening the WebSocket with the user's cookie.
    let ours = format!("http://127.0.0.1:{}", served.port);
    let (status, _) = served.request(
        "/ws",
        &upgrade("https://attacker.example", cookie.clone(), served.host()),
    );
    assert_eq!(status, 403, "a foreign origin");
    let (status, _) = served.request("/ws", &upgrade(&ours, String::new(), served.host()));
    assert_eq!(status, 401, "our origin without the token");
    let (status, head) = served.request("/ws", &upgrade(&ours, cookie, served.host()));
    assert_eq!(status, 101, "{head}");
}

#[test]
fn on_every_address_without_a_token_other_sites_still_cannot_get_in() {
    let home = Home::new();
    let _daemon = Daemon::start(&home, &[]);
    let served = Served::start_with(&home, &["--listen", "0.0.0.0", "--no-token"]);
    let port = served.port;
    let (status, head) = served.request("/", &[served.host()]);
    assert_eq!(status, 200, "an IP address, no token needed: {head}");
    let (status, _) = served.request("/", &[("Host", format!("localhost:{port}"))]);
    assert_eq!(status, 200, "the machine's own name");
    // DNS rebinding: an attacker's name pointed at this machine.
    let rebound = ("Host", format!("attacker.example:{port}"));
    let (status, _) = served.request("/", std::slice::from_ref(&rebound));
    assert_eq!(status, 403, "a rebound name");
    let (status, _) = served.request(
        "/ws",
        &upgrade(
            &format!("http://attacker.example:{port}"),
            String::new(),
            rebound,
        ),
    );
    assert_eq!(status, 403, "a rebound page's WebSocket");
    // A page of another site (another address) opening the WebSocket.
    let (status, _) = served.request(
        "/ws",
        &upgrade("http://192.0.2.7:8080", String::new(), served.host()),
    );
    assert_eq!(status, 403, "another site's page");
    let ours = format!("http://127.0.0.1:{port}");
    let (status, head) = served.request("/ws", &upgrade(&ours, String::new(), served.host()));
    assert_eq!(status, 101, "the dashboard's own page: {head}");
}

#[test]
fn a_listen_address_with_a_name_or_a_port_says_what_to_give() {
    let home = Home::new();
    for bad in ["localhost", "127.0.0.1:8080"] {
        let run = home.run(&["dashboard", "--listen", bad]);
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(
            run.stderr.contains("give an IP address") && run.stderr.contains("--port"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn a_person_launches_watches_and_switches_from_the_page() {
    let home = Home::new();
    home.add_secret_preset("ref", "sk-ant-ref-0123456789abcdef");
    home.run(&["use", "ref"]).ok();
    let anthropic = "[inject.anthropic]\n";
    common::reference::register(&home, "ref-b", &["--name", "ref-b"], anthropic);
    common::reference::register(
        &home,
        "ref-c",
        &["--name", "ref-c", "--think", "Where do notes go?"],
        anthropic,
    );
    common::reference::register(&home, "slow", &["--latency-ms", "20000"], anthropic);
    common::reference::register(&home, "crashy", &["--crash-after", "0"], anthropic);
    // The user's own Claude Code: a settings file that competes with presets (the
    // doctor shows it) and a log of two requests (imported from the Usage page).
    let claude = home.user_home().join(".claude");
    std::fs::create_dir_all(claude.join("projects/-work-app")).unwrap();
    std::fs::write(
        claude.join("settings.json"),
        r#"{"env": {"ANTHROPIC_BASE_URL": "https://proxy.example.com"}}"#,
    )
    .unwrap();
    let line = |msg: &str| {
        format!(
            r#"{{"type":"assistant","timestamp":"2026-11-25T00:10:59.742Z","requestId":"r-{msg}","sessionId":"s","message":{{"id":"{msg}","model":"claude-sonnet-4-5","usage":{{"input_tokens":10,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}}}}"#
        ) + "\n"
    };
    std::fs::write(
        claude.join("projects/-work-app/session.jsonl"),
        line("m1") + &line("m2"),
    )
    .unwrap();
    // One request through the gateway to a provider that reports its 5-hour window:
    // the overview shows the window.
    let provider = common::fake_provider::FakeProvider::start(Default::default());
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 7200)
        .to_string();
    provider.set_headers(&[
        ("anthropic-ratelimit-unified-5h-utilization", "0.62"),
        ("anthropic-ratelimit-unified-5h-reset", &reset),
    ]);
    home.call_through_gateway("claude-max", &provider.url());
    let _daemon = Daemon::start(&home, &[]);
    let served = Served::start(&home);
    let workdir = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("AISWITCH_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| home.root().join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/tests/dashboard.mjs");
    let mut node = std::process::Command::new("node");
    node.arg(script)
        .arg(&served.url)
        .arg(workdir.path())
        .arg(&shots)
        .arg(env!("CARGO_BIN_EXE_aiswitch"))
        .env("AISWITCH_HOME", home.aiswitch_home())
        .env("HOME", home.user_home());
    let run = common::run_to_end(node, Duration::from_secs(180));
    eprintln!("{}", run.stdout);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    for step in [
        "overview lists the installed reference agents",
        "the overview shows the quota window the gateway read",
        "a preset added on the page is the engine's",
        "a preset added in a terminal appears without a reload",
        "env show agrees",
        "a switch rolled back from its snapshot",
        "an isolated task on three agents shows each agent's run and diff",
        "each column shows the agent's reasoning and tool calls",
        "keep this one: that agent's file is in the working directory",
        "one agent of a running task is cancelled from its column, the other finishes",
        "a running task is cancelled from its page",
        "an alert from a crashing agent is acknowledged on the page",
        "the task history searches on the server",
        "usage totals equal tokens summary",
        "a budget set, changed and removed on the page is the engine's",
        "the doctor's findings are on the providers page",
        "claude logs imported from the page enter the ledger",
        "the page speaks Chinese",
    ] {
        assert!(run.stdout.contains(step), "{step}: {}", run.stdout);
    }
    // What the page did is the engine's: the CLI sees it.
    let shown = home
        .run(&["env", "show", "aiswitch-agent", "--json"])
        .ok()
        .json();
    assert_eq!(shown["preset"], "deepseek");
    let tasks = home.run(&["tasks", "list", "--json"]).ok().json();
    let states: Vec<&str> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "cancelled", "succeeded", "succeeded"]);
    let one_cancelled = &tasks["tasks"][2];
    let cancelled = home
        .run(&[
            "tasks",
            "show",
            one_cancelled["id"].as_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    let run_of = |agent: &str| {
        cancelled["task"]["result"]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["agent"] == agent)
            .map(|r| r["status"].clone())
    };
    assert_eq!(run_of("slow"), Some("cancelled".into()));
    assert_eq!(run_of("ref-c"), Some("succeeded".into()));
}
