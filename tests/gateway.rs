//! The provider gateway with real parts: the reference agent (a real child process)
//! launched through aiswitch makes a real HTTP request to the provider its env
//! names; the gateway sits between them. The agent never sees the real key, the
//! provider never sees the token, the ledger holds exactly what the provider said
//! it used (not what the agent reported), quota headers become `aiswitch limits`,
//! and a token outlives neither its launch nor a forger's guess.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::Home;
use common::fake_provider::{Api, FakeProvider, Usage};
use serde_json::Value;

const KEY: &str = "sk-real-provider-key-0123456789";

/// What the fake provider bills per call: unlike the reference agent's own report
/// (11 in, 7 out), so the test can tell whose figures reached the ledger.
fn billed() -> Usage {
    Usage {
        input: 120,
        output: 45,
        cache_read: 30,
    }
}

fn add_preset(home: &Home, name: &str, kind: &str, url: &str) {
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

fn check(home: &Home, preset: &str, prompt: &str) -> Value {
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
fn ledger(home: &Home) -> Vec<Value> {
    let out = home.run(&["tokens", "export", "--format", "jsonl"]).ok();
    out.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|row| row["count_source"] == "gateway")
        .collect()
}

#[test]
fn every_api_streaming_or_not_is_metered_exactly_and_the_key_stays_in_aiswitch() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    // Anthropic's base URL has no /v1, OpenAI's does: the gateway keeps each as is.
    add_preset(&home, "anth", "anthropic", &provider.url());
    add_preset(&home, "oai", "openai", &format!("{}/v1", provider.url()));
    add_preset(&home, "gem", "gemini", &provider.url());
    let cases = [
        ("anth", "call", Api::AnthropicMessages),
        ("anth", "call stream", Api::AnthropicMessages),
        ("oai", "call", Api::OpenAiChat),
        ("oai", "call stream", Api::OpenAiChat),
        ("gem", "call", Api::Gemini),
        ("gem", "call stream", Api::Gemini),
    ];
    for (i, (preset, prompt, api)) in cases.iter().enumerate() {
        let report = check(&home, preset, prompt);
        assert_eq!(
            report["reply"], "HTTP/1.1 200 OK",
            "{preset} {prompt}: {report}"
        );
        let calls = provider.model_calls();
        assert_eq!(
            calls.len(),
            i + 1,
            "{preset} {prompt}: one call reached the provider"
        );
        let seen = calls.last().unwrap();
        assert_eq!(seen.api, *api);
        let auth = seen.auth.as_deref().unwrap();
        assert!(
            auth.ends_with(KEY),
            "the provider got the real key, not {auth}"
        );
        let rows = ledger(&home);
        assert_eq!(rows.len(), i + 1, "one ledger row per request: {rows:?}");
        let row = rows.last().unwrap();
        assert_eq!(row["count_source"], "gateway", "{row}");
        assert_eq!(row["preset"], *preset);
        assert_eq!(row["agent"], "aiswitch-agent");
        // Exactly what the provider billed, in aiswitch's split (cached apart).
        let (input, cached) = match api {
            Api::AnthropicMessages => (120, 30),
            _ => (90, 30), // OpenAI and Gemini count the cached part inside input
        };
        assert_eq!(
            (row["input"].as_u64(), row["cache_read"].as_u64()),
            (Some(input), Some(cached)),
            "{preset} {prompt}: {row}"
        );
        assert_eq!(row["output"], 45, "{preset} {prompt}: {row}");
        // The check says what the provider billed, not what the agent claimed.
        assert_eq!(report["usage"]["source"], "gateway", "{report}");
        assert_eq!(report["usage"]["input_tokens"], input, "{report}");
    }
    let by_source = home
        .run(&["--json", "tokens", "summary", "--by", "source"])
        .ok()
        .json();
    let groups = by_source["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "only the gateway's counts: {by_source}");
    assert_eq!(
        (groups[0]["key"].as_str(), groups[0]["runs"].as_u64()),
        (Some("gateway"), Some(6))
    );
    // The agent saw a token and the gateway's URL, never the key or the provider.
    let env = check(&home, "anth", "env ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL");
    let reply = env["reply"].as_str().unwrap();
    assert!(reply.contains("ANTHROPIC_AUTH_TOKEN=aiswitch-"), "{reply}");
    assert!(
        reply.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:"),
        "{reply}"
    );
    assert!(
        !reply.contains(KEY) && !reply.contains(&provider.url()),
        "{reply}"
    );
    // No file aiswitch wrote holds the real key except the preset itself.
    for (path, bytes) in home.snapshot() {
        let text = String::from_utf8_lossy(&bytes);
        if text.contains(KEY) {
            assert!(
                path.to_string_lossy().contains("presets"),
                "{} holds the key",
                path.display()
            );
        }
    }
}

#[test]
fn a_token_of_an_ended_launch_or_a_forged_one_is_refused_in_the_apis_own_format() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    add_preset(&home, "anth", "anthropic", &provider.url());
    // A task in the daemon: its agent reports the token and the gateway's URL.
    let _daemon = common::daemon::Daemon::start(&home, &[]);
    let work = home.root().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let task = home
        .run(&[
            "--json",
            "apply",
            "anth",
            "--agents",
            "aiswitch-agent",
            "--task",
            "env ANTHROPIC_AUTH_TOKEN ANTHROPIC_BASE_URL",
            "--workdir",
            work.to_str().unwrap(),
            "--coordination-mode",
            "loose",
        ])
        .ok()
        .json();
    let output = task["runs"][0]["output"].as_str().unwrap().to_owned();
    let value = |name: &str| {
        output
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let (token, url) = (value("ANTHROPIC_AUTH_TOKEN"), value("ANTHROPIC_BASE_URL"));
    assert!(token.starts_with("aiswitch-"), "{output}");
    // The task is over, so its token is dead; a guess never lived.
    for credential in [
        format!("Bearer {token}"),
        "Bearer aiswitch-0123".to_owned(),
        String::new(),
    ] {
        let (status, body) = post(&url, "/v1/messages", &credential);
        assert_eq!(status, 401, "{credential}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["type"], "error", "{body}");
        assert_eq!(error["error"]["type"], "authentication_error");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("aiswitch gateway"),
            "{body}"
        );
    }
    assert!(
        provider.model_calls().is_empty(),
        "nothing reached the provider"
    );
}

/// A bare HTTP/1.1 POST on loopback: (status, body).
fn post(base: &str, path: &str, credential: &str) -> (u16, String) {
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

#[test]
fn quota_headers_become_limits_and_alert_once_per_threshold() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    add_preset(&home, "max", "anthropic", &provider.url());
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    provider.set_headers(&[
        ("anthropic-ratelimit-unified-5h-utilization", "0.8"),
        ("anthropic-ratelimit-unified-5h-reset", &reset),
        ("anthropic-ratelimit-unified-5h-status", "allowed_warning"),
        ("anthropic-ratelimit-unified-7d-utilization", "0.25"),
        ("anthropic-ratelimit-unified-7d-reset", &reset),
    ]);
    check(&home, "max", "call");
    check(&home, "max", "call stream");
    let limits = home.run(&["--json", "limits"]).ok().json();
    let windows = limits["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{limits}");
    let five = windows.iter().find(|w| w["window"] == "5h").unwrap();
    assert_eq!(five["preset"], "max");
    assert!(
        (five["used_percent"].as_f64().unwrap() - 80.0).abs() < 1e-6,
        "{five}"
    );
    assert_eq!(
        five["resets_at_ms"].as_i64().unwrap(),
        reset.parse::<i64>().unwrap() * 1000
    );
    assert_eq!(five["status"], "allowed_warning");
    // Two responses at 80 %: one alert for crossing 75 %.
    let alerts = home.run(&["--json", "alerts", "list"]).ok().json();
    let quota: Vec<&Value> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "quota_threshold")
        .collect();
    assert_eq!(quota.len(), 1, "{alerts}");
    assert!(
        quota[0]["message"]
            .as_str()
            .unwrap()
            .contains("5h window is 80 % used"),
        "{alerts}"
    );
    let text = home.run(&["limits"]).ok().stdout;
    assert!(text.contains("5h") && text.contains("80 %"), "{text}");
    // The same windows on the engine host's Prometheus page.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _daemon = common::daemon::Daemon::start(&home, &[("AISWITCH_METRICS_LISTEN", &listen)]);
    let (status, page) = get(&listen, "/metrics");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(
            r#"aiswitch_quota_used_percent{preset="max",provider="127.0.0.1",window="5h"} 80"#
        ),
        "{page}"
    );
}

/// A bare HTTP/1.1 GET on loopback: (status, body).
fn get(host: &str, path: &str) -> (u16, String) {
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
fn env_of(pid: u64, name: &str) -> String {
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
struct Session {
    _daemon: common::daemon::Daemon,
    control: common::daemon::Control,
    pid: u64,
    url: String,
    token: String,
}

impl Session {
    fn start(home: &Home, preset: &str) -> Self {
        home.run(&["env", "switch", "aiswitch-agent", preset]).ok();
        let daemon = common::daemon::Daemon::start(home, &[]);
        let control = common::daemon::Control::connect(&daemon);
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
    fn post(&self) -> u16 {
        post(&self.url, "/v1/messages", &format!("Bearer {}", self.token)).0
    }
}

#[test]
fn a_switch_under_load_reaches_the_running_session_without_a_restart_or_a_failed_request() {
    let (a, b) = (FakeProvider::start(billed()), FakeProvider::start(billed()));
    let home = Home::new();
    add_preset(&home, "pa", "anthropic", &a.url());
    add_preset(&home, "pb", "anthropic", &b.url());
    let session = Session::start(&home, "pa");
    let follower = common::daemon::Follower::start(&home);
    let (control, pid) = (&session.control, session.pid);
    // The session's own credentials, as the CLI holds them.
    let (url, token) = (session.url.clone(), session.token.clone());
    assert!(token.starts_with("aiswitch-"));

    // 1,000 requests from 8 connections' worth of threads while the agent is
    // switched back and forth 100 times.
    let (url2, token2) = (url.clone(), token.clone());
    let load = std::thread::spawn(move || {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (url, token) = (url2.clone(), token2.clone());
                std::thread::spawn(move || {
                    (0..125)
                        .map(|_| post(&url, "/v1/messages", &format!("Bearer {token}")).0)
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect::<Vec<u16>>()
    });
    for i in 0..100 {
        let to = if i % 2 == 0 { "pb" } else { "pa" };
        home.run(&["env", "switch", "aiswitch-agent", to]).ok();
    }
    let statuses = load.join().unwrap();
    assert_eq!(statuses.len(), 1000);
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every request succeeded: {:?}",
        statuses.iter().filter(|s| **s != 200).count()
    );

    // Each request is in the ledger once, under the preset whose provider served it.
    let served = (a.model_calls().len(), b.model_calls().len());
    assert_eq!(served.0 + served.1, 1000);
    assert!(
        served.0 > 0 && served.1 > 0,
        "both upstreams served: {served:?}"
    );
    // Wait on the ledger's own events (each says how many rows it wrote); the
    // session's live switches come on the same stream.
    let (mut recorded, mut switched_live) = (0, 0);
    while recorded < 1000 {
        let event = follower.next();
        match event["event"].as_str() {
            Some("usage_recorded") => recorded += event["rows"].as_u64().unwrap(),
            Some("agent_env_switched_live") => {
                assert_eq!(event["agent"], "aiswitch-agent");
                switched_live += 1;
            }
            Some("agent_env_restarted") => panic!("the session was restarted: {event}"),
            _ => {}
        }
    }
    let rows = ledger(&home);
    let count = |p: &str| rows.iter().filter(|r| r["preset"] == p).count();
    assert_eq!(
        (count("pa"), count("pb"), rows.len()),
        (served.0, served.1, 1000),
        "ledger (pa, pb, all) against what each provider served"
    );

    // The session was moved, never restarted: same process, same conversation.
    assert!(
        switched_live > 0,
        "the switches reached the running session"
    );
    let status = control.call("agent.status", serde_json::json!({})).unwrap();
    let agents = status
        .as_array()
        .or_else(|| status["agents"].as_array())
        .unwrap();
    let agent = agents
        .iter()
        .find(|a| a["agent"] == "aiswitch-agent")
        .unwrap();
    assert_eq!(agent["pid"].as_u64(), Some(pid), "{agent}");
    assert_eq!(agent["preset"], "pa", "the last switch was to pa: {agent}");
}

#[test]
fn a_hard_stop_refuses_the_request_that_would_cross_it_before_it_leaves() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    home.run_with_stdin(
        &[
            "add",
            "pa",
            "--kind",
            "anthropic",
            "--base-url",
            &provider.url(),
            "--model",
            "fake-m",
            "--price",
            "input=100",
            "--price",
            "output=200",
            "--api-key",
            "-",
        ],
        KEY,
    )
    .ok();
    let session = Session::start(&home, "pa");
    let (url, bearer) = (session.url.clone(), format!("Bearer {}", session.token));
    // Two requests give the estimate its history: each costs the same.
    for _ in 0..2 {
        assert_eq!(post(&url, "/v1/messages", &bearer).0, 200);
    }
    let follower = common::daemon::Follower::start(&home);
    let spent = |home: &Home| -> f64 {
        ledger(home)
            .iter()
            .map(|r| r["cost_usd"].as_f64().unwrap())
            .sum()
    };
    // The ledger is written behind the responses: wait for both rows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ledger(&home).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the two requests reach the ledger"
        );
        let _ = follower.next();
    }
    let per_request = spent(&home) / 2.0;
    assert!(per_request > 0.0);
    let limit = spent(&home) + 5.5 * per_request;
    home.run(&[
        "budget",
        "set",
        "--scope",
        "preset:pa",
        "--period",
        "day",
        "--limit-usd",
        &format!("{limit}"),
        "--hard-stop",
        "--thresholds",
        "100",
    ])
    .ok();

    // 20 requests at once: the budget lets through what fits, refuses the rest.
    let workers: Vec<_> = (0..20)
        .map(|_| {
            let (url, bearer) = (url.clone(), bearer.clone());
            std::thread::spawn(move || post(&url, "/v1/messages", &bearer))
        })
        .collect();
    let answers: Vec<(u16, String)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let passed = answers.iter().filter(|(s, _)| *s == 200).count();
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 429, "{body}");
        let error: Value = serde_json::from_str(body).unwrap();
        assert_eq!(error["error"]["type"], "rate_limit_error", "{body}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("(preset:pa, day) would be exceeded")
                && message.contains("aiswitch budget set"),
            "{message}"
        );
    }
    assert!(
        (5..=6).contains(&passed),
        "5 or 6 of 20 fit the budget, {passed} passed"
    );
    assert_eq!(
        provider.model_calls().len(),
        2 + passed,
        "refused requests never reached the provider"
    );
    while ledger(&home).len() < 2 + passed {
        let _ = follower.next();
    }
    let spent = spent(&home);
    assert!(
        spent <= limit + per_request + 1e-9,
        "overspent by more than one request: {spent} of {limit}"
    );
}

/// A provider that misbehaves on a raw socket: each connection gets the next
/// canned answer, written as is, and the socket closed.
fn bad_provider(answers: Vec<&'static str>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for answer in answers {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            // Read the request head and body (the body is small; a short read is fine).
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn an_upstream_dying_mid_stream_ends_the_clients_stream_and_keeps_what_streamed() {
    // Headers and message_start (11 in, 1 out), then the connection drops.
    let cut = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
               7f\r\nevent: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m-cut\",\"usage\":{\"input_tokens\":11,\"output_tokens\":1}}}\n\n\r\n";
    let garbage =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{not json";
    let url = bad_provider(vec![cut, garbage]);
    let home = Home::new();
    add_preset(&home, "bad", "anthropic", &url);
    let report = check(&home, "bad", "call stream");
    assert_eq!(
        report["reply"], "HTTP/1.1 200 OK",
        "the stream had started: {report}"
    );
    let rows = ledger(&home);
    assert_eq!(
        rows.len(),
        1,
        "what streamed before the cut is recorded: {rows:?}"
    );
    assert_eq!(
        (rows[0]["input"].as_u64(), rows[0]["output"].as_u64()),
        (Some(11), Some(1))
    );
    assert_eq!(rows[0]["model"], "m-cut");
    // A malformed answer passes through untouched and is not made up into usage.
    let report = check(&home, "bad", "call");
    assert_eq!(report["reply"], "HTTP/1.1 200 OK", "{report}");
    assert_eq!(ledger(&home).len(), 1, "no usage is invented from garbage");
    // (the agent's own report stands for that call: the best count there is)
    // The upstream is gone now: the CLI gets a clear error in its API's format.
    let report = check(&home, "bad", "call");
    assert_eq!(report["reply"], "HTTP/1.1 502 Bad Gateway", "{report}");
}

#[test]
fn a_cli_with_its_own_login_passes_its_auth_through_and_its_windows_are_seen() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    // A preset without a key: the CLI's own login (a Claude subscription, say).
    home.run(&[
        "add",
        "sub",
        "--kind",
        "anthropic",
        "--base-url",
        &provider.url(),
        "--model",
        "fake-m",
    ])
    .ok();
    let login = home.user_home().join(".aiswitch-agent");
    std::fs::create_dir_all(&login).unwrap();
    std::fs::write(login.join("credentials"), "user-own-oauth-login").unwrap();
    provider.set_headers(&[
        ("anthropic-ratelimit-unified-5h-utilization", "0.5"),
        ("anthropic-ratelimit-unified-5h-status", "allowed"),
    ]);

    let env = check(&home, "sub", "env ANTHROPIC_BASE_URL ANTHROPIC_AUTH_TOKEN");
    let reply = env["reply"].as_str().unwrap();
    assert!(
        reply.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:") && reply.contains("/l/aiswitch-"),
        "{reply}"
    );
    assert!(reply.contains("ANTHROPIC_AUTH_TOKEN is unset"), "{reply}");
    let report = check(&home, "sub", "call");
    assert_eq!(report["reply"], "HTTP/1.1 200 OK", "{report}");
    // The CLI's own credential reached the provider untouched, at the provider's path.
    let seen = provider.model_calls();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].auth.as_deref(), Some("bearer:user-own-oauth-login"));
    assert_eq!(seen[0].uri, "/v1/messages");
    // Metered and its window seen like any other.
    let rows = ledger(&home);
    assert_eq!(
        (
            rows.len(),
            rows[0]["count_source"].as_str(),
            rows[0]["preset"].as_str()
        ),
        (1, Some("gateway"), Some("sub"))
    );
    assert_eq!(report["usage"]["source"], "gateway");
    let limits = home.run(&["--json", "limits"]).ok().json();
    assert_eq!(limits["windows"][0]["preset"], "sub", "{limits}");
    assert_eq!(limits["windows"][0]["used_percent"], 50.0, "{limits}");
}

#[test]
fn an_exhausted_window_moves_the_agent_to_the_fallback_and_back_after_the_reset() {
    let (main, spare) = (FakeProvider::start(billed()), FakeProvider::start(billed()));
    let home = Home::new();
    add_preset(&home, "spare", "anthropic", &spare.url());
    // Refused by name: an unknown fallback, and one of another kind.
    add_preset(&home, "oai", "openai", &spare.url());
    for (fallback, says) in [
        ("nope", "no preset has that name"),
        ("oai", "must speak the same API"),
    ] {
        let out = home.run_with_stdin(
            &[
                "add",
                "main",
                "--kind",
                "anthropic",
                "--base-url",
                &main.url(),
                "--api-key",
                "-",
                "--fallback",
                fallback,
            ],
            KEY,
        );
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(
            out.stderr.contains(says) && out.stderr.lines().count() == 1,
            "{}",
            out.stderr
        );
    }
    home.run_with_stdin(
        &[
            "add",
            "main",
            "--kind",
            "anthropic",
            "--base-url",
            &main.url(),
            "--model",
            "fake-m",
            "--api-key",
            "-",
            "--fallback",
            "spare",
            "--switch-back",
        ],
        KEY,
    )
    .ok();
    assert!(
        home.run(&["show", "main"])
            .ok()
            .stdout
            .contains("spare when a quota window runs out, back after the reset")
    );
    let session = Session::start(&home, "main");

    // The main provider says its 5-hour window is used up, resetting in a moment.
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    main.set_headers(&[
        ("anthropic-ratelimit-unified-5h-utilization", "1.0"),
        ("anthropic-ratelimit-unified-5h-status", "rejected"),
        ("anthropic-ratelimit-unified-5h-reset", &reset.to_string()),
    ]);
    assert_eq!(session.post(), 200);
    assert_eq!(session.post(), 200);
    assert_eq!(
        (main.model_calls().len(), spare.model_calls().len()),
        (1, 1),
        "the next request went to the fallback"
    );
    assert!(
        spare.model_calls()[0]
            .auth
            .as_deref()
            .unwrap()
            .ends_with(KEY)
    );
    let alerts = home.run(&["--json", "alerts", "list"]).ok().json();
    let fell: Vec<&Value> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "quota_fallback")
        .collect();
    assert_eq!(fell.len(), 1, "{alerts}");
    let message = fell[0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "the 5h window of preset main ran out; its requests go to spare now; back to main at"
        ),
        "{message}"
    );

    // After the reset the launch is back on its own preset. The reset is a moment
    // on the clock, not an event: the test waits for the clock to pass it. The
    // provider then reports a fresh window, and an event says the window reset.
    let next = (reset + 5 * 3600).to_string();
    main.set_headers(&[
        ("anthropic-ratelimit-unified-5h-utilization", "0.02"),
        ("anthropic-ratelimit-unified-5h-reset", &next),
    ]);
    let reset_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(reset + 1);
    if let Ok(left) = reset_at.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(left);
    }
    assert_eq!(session.post(), 200);
    assert_eq!(
        (main.model_calls().len(), spare.model_calls().len()),
        (2, 1),
        "back on main after the reset"
    );
    let follower = common::daemon::Follower::start_with(&home, &["--since", "0"]);
    let reset_event = follower.wait_for("quota_window_reset");
    assert_eq!(
        (
            reset_event["preset"].as_str(),
            reset_event["window"].as_str()
        ),
        (Some("main"), Some("5h"))
    );
}

/// A provider that answers every request with `503` and counts them.
fn failing_provider() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, count)
}

#[test]
fn a_failing_upstream_fails_over_to_the_next_and_its_breaker_opens() {
    let provider = FakeProvider::start(billed());
    let (failing, attempts) = failing_provider();
    // Nothing listens here: connecting fails at once.
    let dead = format!(
        "http://{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    );
    let home = Home::new();
    home.run_with_stdin(
        &[
            "add",
            "ha",
            "--kind",
            "anthropic",
            "--base-url",
            &dead,
            "--upstream",
            &failing,
            "--upstream",
            &provider.url(),
            "--model",
            "fake-m",
            "--api-key",
            "-",
        ],
        KEY,
    )
    .ok();
    for i in 0..5 {
        let report = check(&home, "ha", "call");
        assert_eq!(report["reply"], "HTTP/1.1 200 OK", "request {i}: {report}");
    }
    // Every request reached the provider that answers, metered under its host.
    assert_eq!(provider.model_calls().len(), 5);
    let rows = ledger(&home);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["provider"], "127.0.0.1");
    // Each check runs its own gateway (its own breakers), so the 503 upstream is
    // tried once per check.
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 5);

    // In one engine host, three failures in a row open the breaker: later requests
    // skip the failing upstream.
    let session = Session::start(&home, "ha");
    for _ in 0..10 {
        assert_eq!(session.post(), 200);
    }
    assert_eq!(
        attempts.load(std::sync::atomic::Ordering::SeqCst),
        5 + 3,
        "the breaker opened after three failures"
    );
}

#[test]
fn bodies_are_written_only_when_asked_and_never_with_the_key() {
    use std::os::unix::fs::PermissionsExt;
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    add_preset(&home, "anth", "anthropic", &provider.url());
    let bodies = home.aiswitch_home().join("data/gateway-bodies");
    check(&home, "anth", "call");
    assert!(!bodies.exists(), "no body is kept unless asked");

    let logged = common::run_to_end(
        {
            let mut cmd = home.cmd(&[
                "--json",
                "agents",
                "check",
                "aiswitch-agent",
                "--preset",
                "anth",
                "--prompt",
                "call",
            ]);
            cmd.env("AISWITCH_GATEWAY_LOG_BODIES", "true");
            cmd
        },
        std::time::Duration::from_secs(30),
    );
    assert_eq!(logged.code, Some(0), "{logged:?}");
    let files: Vec<_> = std::fs::read_dir(&bodies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one exchange, one file: {files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with("POST /v1/messages"), "{text}");
    assert!(
        text.contains("\"messages\"") && text.contains("FAKE_REPLY_2"),
        "request and response bodies: {text}"
    );
    assert!(text.contains("authorization: <redacted>"), "{text}");
    assert!(!text.contains(KEY), "the key is never written: {text}");
}

#[test]
fn a_live_switch_to_another_model_sends_the_new_presets_model() {
    let (a, b) = (FakeProvider::start(billed()), FakeProvider::start(billed()));
    let home = Home::new();
    for (name, provider, model) in [("pa", &a, "model-a"), ("pb", &b, "model-b")] {
        home.run_with_stdin(
            &[
                "add",
                name,
                "--kind",
                "anthropic",
                "--base-url",
                &provider.url(),
                "--model",
                model,
                "--api-key",
                "-",
            ],
            KEY,
        )
        .ok();
    }
    let session = Session::start(&home, "pa");
    let follower = common::daemon::Follower::start(&home);
    assert_eq!(session.post(), 200);
    home.run(&["env", "switch", "aiswitch-agent", "pb"]).ok();
    let moved = follower.wait_for("agent_env_switched_live");
    assert_eq!(
        (moved["from"].as_str(), moved["to"].as_str()),
        (Some("pa"), Some("pb"))
    );
    // The CLI still asks for the model it started with; the provider gets pb's.
    assert_eq!(session.post(), 200);
    let seen = b.model_calls();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].model.as_deref(), Some("model-b"));
    assert_eq!(
        a.model_calls()[0].model.as_deref(),
        Some("m"),
        "before the switch, as asked"
    );
    let status = session
        .control
        .call("agent.status", serde_json::json!({}))
        .unwrap();
    let agents = status
        .as_array()
        .or_else(|| status["agents"].as_array())
        .unwrap();
    let agent = agents
        .iter()
        .find(|x| x["agent"] == "aiswitch-agent")
        .unwrap();
    assert_eq!(
        agent["pid"].as_u64(),
        Some(session.pid),
        "the same process: its conversation is kept"
    );
}
