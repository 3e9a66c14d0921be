//! The provider gateway's routing, with real parts: `env switch` reaching a running
//! session under load without a restart or a failed request, the new preset's model
//! in the requests, and failover between a preset's upstreams with a breaker.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::Home;
use common::fake_provider::FakeProvider;
use common::gateway::{KEY, Session, add_preset, billed, check, ledger, post};

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

/// One raw HTTP/1.0 exchange (so the answer is not chunked): (status, body).
fn exchange(base: &str, token: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "POST /v1/messages HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nanthropic-version: 2023-06-01\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (
        status,
        response.split_once("\r\n\r\n").unwrap().1.to_owned(),
    )
}

#[test]
fn an_agent_that_speaks_anthropic_uses_a_chat_completions_provider_through_translation() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    add_preset(&home, "oai", "openai", &format!("{}/v1", provider.url()));
    // An agent that speaks only Anthropic Messages, as Claude Code does.
    common::reference::register(
        &home,
        "claudeish",
        &[],
        "[inject.anthropic]\nenv = { ANTHROPIC_BASE_URL = \"{base_url}\", ANTHROPIC_AUTH_TOKEN = \"{api_key}\", ANTHROPIC_MODEL = \"{model}\" }\n",
    );
    home.run(&["env", "switch", "claudeish", "oai"]).ok();
    let daemon = common::daemon::Daemon::start(&home, &[]);
    let control = common::daemon::Control::connect(&daemon);
    let pid = control
        .call("agent.start", serde_json::json!({"agent": "claudeish"}))
        .unwrap()["pid"]
        .as_u64()
        .unwrap();
    let url = common::gateway::env_of(pid, "ANTHROPIC_BASE_URL");
    let token = common::gateway::env_of(pid, "ANTHROPIC_AUTH_TOKEN");

    let (status, body) = exchange(
        &url,
        &token,
        r#"{"model":"claude-x","max_tokens":64,"system":"be brief","messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["type"], "message", "{answer}");
    assert_eq!(answer["content"][0]["type"], "text", "{answer}");
    assert!(
        answer["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("FAKE_REPLY")
    );
    // The provider's bill, in Anthropic's split: 120 in of which 30 cached.
    assert_eq!(answer["usage"]["input_tokens"], 90, "{answer}");
    assert_eq!(answer["usage"]["cache_read_input_tokens"], 30, "{answer}");
    assert_eq!(answer["usage"]["output_tokens"], 45, "{answer}");
    let call = provider.model_calls().pop().unwrap();
    assert_eq!(call.api, common::fake_provider::Api::OpenAiChat);
    assert_eq!(call.uri, "/v1/chat/completions");
    assert_eq!(call.auth.as_deref(), Some(&format!("bearer:{KEY}")[..]));
    assert_eq!(call.model.as_deref(), Some("fake-m"), "the preset's model");

    let (status, stream) = exchange(
        &url,
        &token,
        r#"{"model":"claude-x","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(status, 200, "{stream}");
    let events: Vec<&str> = stream
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(events.first(), Some(&"message_start"), "{stream}");
    assert_eq!(events.last(), Some(&"message_stop"), "{stream}");
    assert!(events.contains(&"content_block_delta"), "{stream}");
    assert!(stream.contains("FAKE_REPLY"), "{stream}");
    assert!(stream.contains(r#""output_tokens":45"#), "{stream}");

    // Both metered from the provider's answers, in the ledger as gateway rows.
    let rows = ledger(&home);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(
            (row["input"].as_u64(), row["output"].as_u64()),
            (Some(90), Some(45)),
            "{row}"
        );
    }
}
