//! The provider gateway with real parts: the reference agent (a real child process)
//! launched through aiswitch makes a real HTTP request to the provider its env
//! names; the gateway sits between them. Metering and tokens: the agent never sees the
//! real key, the provider never sees the token, the ledger holds exactly what the
//! provider said it used (not what the agent reported), a token outlives neither its
//! launch nor a forger's guess, and bodies are kept only when asked.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::Home;
use common::fake_provider::{Api, FakeProvider};
use common::gateway::{KEY, add_preset, billed, check, ledger, post};
use serde_json::Value;

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
fn checks_at_the_same_time_each_report_their_own_requests() {
    let provider = FakeProvider::start(billed());
    let home = Home::new();
    add_preset(&home, "anth", "anthropic", &provider.url());
    let checks: Vec<_> = (0..3)
        .map(|_| {
            home.cmd(&[
                "--json",
                "agents",
                "check",
                "aiswitch-agent",
                "--preset",
                "anth",
                "--prompt",
                "call",
                "--timeout",
                "30",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in checks {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        // One request each: 120 billed, never another check's requests added in.
        assert_eq!(report["usage"]["input_tokens"], 120, "{report}");
    }
    let rows = ledger(&home);
    let launches: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["launch"].as_str()).collect();
    assert_eq!((rows.len(), launches.len()), (3, 3), "{rows:?}");
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
