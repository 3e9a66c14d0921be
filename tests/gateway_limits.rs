//! The provider gateway's limits, with real parts: quota headers become `aiswitch
//! limits` and alert once per threshold, a hard-stop budget refuses the request that
//! would cross it before it leaves, and an exhausted window moves the agent to its
//! fallback and back.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::Home;
use common::fake_provider::FakeProvider;
use common::gateway::{KEY, Session, add_preset, billed, check, get, ledger, post};
use serde_json::Value;

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
