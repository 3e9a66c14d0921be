//! The daemon and its control socket: many clients, hostile clients, other users,
//! a second daemon, kill -9 and restart, SIGTERM.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use aiswitch::control::ControlClient;
use common::daemon::Daemon;
use common::{Home, procs};
use serde_json::{Value, json};

/// Sends raw bytes and reads one reply line (or "" when the daemon closed).
fn raw(socket: &std::path::Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let mut line = String::new();
    let _ = BufReader::new(stream).read_line(&mut line);
    line
}

fn code(reply: &str) -> i64 {
    let value: Value = serde_json::from_str(reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"));
    value["error"]["code"].as_i64().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_hundred_clients_times_a_hundred_requests() {
    let home = Home::new();
    home.run(&["add", "p", "A", "1"]).ok();
    home.run(&["use", "p"]).ok();
    let daemon = Daemon::start(&home, &[]);
    runtime().block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let socket = daemon.socket.clone();
                tokio::spawn(async move {
                    let client = ControlClient::connect(&socket).await.unwrap();
                    for j in 0..100 {
                        if (i + j) % 2 == 0 {
                            assert_eq!(
                                client.call("system.ping", None).await.unwrap(),
                                json!("pong")
                            );
                        } else {
                            let current = client.call("preset.current", None).await.unwrap();
                            assert_eq!(current["current"], "p");
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn hostile_clients_get_errors_or_are_dropped_while_others_are_served() {
    let home = Home::new();
    let daemon = Daemon::start(&home, &[("AISWITCH_CONTROL_FIRST_MESSAGE_MS", "300")]);
    let socket = daemon.socket.clone();
    let rt = runtime();
    let good = rt.block_on(ControlClient::connect(&socket)).unwrap();
    let ping = |rt: &tokio::runtime::Runtime| {
        assert_eq!(
            rt.block_on(good.call("system.ping", None)).unwrap(),
            json!("pong")
        )
    };

    assert_eq!(code(&raw(&socket, b"this is not json\n")), -32700);
    ping(&rt);
    assert_eq!(
        code(&raw(
            &socket,
            b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"system.ping\"}\n"
        )),
        -32600
    );
    ping(&rt);
    assert_eq!(
        code(&raw(
            &socket,
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.explode\"}\n"
        )),
        -32601
    );
    ping(&rt);
    let wrong = raw(
        &socket,
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"agent.start\",\"params\":{\"bogus\":1}}\n",
    );
    assert_eq!(code(&wrong), -32602, "{wrong}");
    ping(&rt);

    // 100 MB in one message: the connection is closed, nothing is answered.
    let mut big = UnixStream::connect(&socket).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let writer = {
        let mut big = big.try_clone().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..100 {
                if big.write_all(&chunk).is_err() {
                    return;
                }
            }
        })
    };
    let mut rest = Vec::new();
    let _ = big.read_to_end(&mut rest);
    writer.join().unwrap();
    assert!(rest.is_empty(), "no answer to a 100 MB message");
    ping(&rt);

    // A client that says nothing is disconnected after the timeout.
    let mut silent = UnixStream::connect(&socket).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(silent.read(&mut buf).unwrap(), 0, "closed by the daemon");
    ping(&rt);
}

#[test]
fn a_second_daemon_names_the_first() {
    let home = Home::new();
    let daemon = Daemon::start(&home, &[]);
    let second = home.run(&["daemon"]);
    assert_eq!(second.code, Some(1));
    assert_eq!(second.stderr.trim().lines().count(), 1, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("pid {}", daemon.pid)),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("-40301"), "{}", second.stderr);
}

#[test]
fn another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let daemon = Daemon::start(&home, &[]);
    let mode = std::fs::metadata(&daemon.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "only the owner can connect");
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap();
    if !as_root {
        return; // dropping to another uid needs root; the mode check above holds
    }
    // Open the path to everyone so the daemon's own SO_PEERCRED check is what refuses.
    for dir in [
        home.root().to_path_buf(),
        home.aiswitch_home(),
        home.aiswitch_home().join("run"),
    ] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let client = "const c=require('net').createConnection(process.argv[1]);let d='';\
        c.on('data',x=>d+=x);c.on('close',()=>process.stdout.write(d||'no reply'));c.on('error',()=>{});\
        c.write('{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.ping\"}\\n');";
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "node",
            "-e",
            client,
        ])
        .arg(&daemon.socket)
        .output()
        .unwrap();
    let reply = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(reply.trim()), -40302, "{reply}");
    assert!(reply.contains("refused"), "{reply}");
}

#[test]
fn kill_9_then_restart_keeps_store_and_registry_and_sigterm_stops_every_agent() {
    let home = Home::new();
    home.run(&["add", "p", "A", "1"]).ok();
    common::reference::register(
        &home,
        "stubborn",
        &["--grandchild", "--ignore-stdin-close"],
        "",
    );

    let mut daemon = Daemon::start(&home, &[]);
    home.run(&["agents", "start", "stubborn", "--no-daemon"])
        .ok();
    let status = daemon.signal_and_wait("KILL");
    assert!(!status.success());
    assert!(
        daemon.socket.exists(),
        "a killed daemon leaves its socket behind"
    );

    // Restart: the stale socket and lock are recovered, presets and agents intact.
    let mut daemon = Daemon::start(&home, &[]);
    let list = home.run(&["list", "--json"]).ok().json();
    assert_eq!(list["presets"][0]["name"], "p");
    let agents = home.run(&["agents", "list", "--json"]).ok().json();
    assert!(
        agents["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "stubborn")
    );

    let mut groups = Vec::new();
    for agent in ["stubborn", "aiswitch-agent"] {
        let started = home
            .run(&["agents", "start", agent, "--no-daemon", "--json"])
            .ok()
            .json();
        groups.push(u32::try_from(started["pid"].as_u64().unwrap()).unwrap());
    }
    let status = home
        .run(&["agents", "status", "--json", "--no-daemon"])
        .ok()
        .json();
    assert_eq!(status["agents"].as_array().unwrap().len(), 2);
    assert!(
        procs::eventually(Duration::from_secs(5), || procs::in_group(groups[0]).len()
            >= 2),
        "grandchild runs"
    );
    let status = daemon.signal_and_wait("TERM");
    assert!(status.success(), "a clean stop");
    for pgid in groups {
        assert!(
            procs::eventually(Duration::from_secs(1), || procs::in_group(pgid).is_empty()),
            "group {pgid} stopped with the daemon"
        );
    }
    assert!(!daemon.socket.exists(), "the socket is removed");
}

#[test]
fn a_daemon_whose_socket_directory_is_deleted_stops_with_its_agents() {
    let home = Home::new();
    let mut daemon = Daemon::start(&home, &[]);
    let started = home
        .run(&["agents", "start", "aiswitch-agent", "--no-daemon", "--json"])
        .ok()
        .json();
    let group = u32::try_from(started["pid"].as_u64().unwrap()).unwrap();
    assert!(!procs::in_group(group).is_empty(), "the agent runs");

    // The runtime directory goes (a temporary home removed, a logout's cleanup).
    std::fs::remove_dir_all(daemon.socket.parent().unwrap()).unwrap();
    let status = common::wait_with_deadline(daemon.child.take().unwrap(), Duration::from_secs(20));
    assert!(status.success(), "a clean stop: {status:?}");
    assert!(
        procs::eventually(Duration::from_secs(1), || procs::in_group(group).is_empty()),
        "the agent stopped with the daemon"
    );
    // The next command starts a daemon of its own, the only one.
    let second = Daemon::start(&home, &[]);
    assert!(second.socket.exists());
}

#[test]
fn cli_output_is_the_same_with_and_without_a_daemon() {
    let home = Home::new();
    home.add_secret_preset("p", "sk-same-0000000000-0000");
    home.run(&["use", "p"]).ok();
    let commands: &[&[&str]] = &[
        &["list", "--json"],
        &["show", "p", "--json"],
        &["current", "--json"],
        &[
            "agents",
            "check",
            "aiswitch-agent",
            "--prompt",
            "hi",
            "--json",
        ],
    ];
    let strip = |v: Value| {
        let mut v = v;
        for key in ["duration_ms", "initialized_ms"] {
            if let Some(obj) = v.as_object_mut() {
                obj.remove(key);
            }
        }
        v
    };
    let without: Vec<Value> = commands
        .iter()
        .map(|c| strip(home.run(c).ok().json()))
        .collect();
    let _daemon = Daemon::start(&home, &[]);
    let with: Vec<Value> = commands
        .iter()
        .map(|c| strip(home.run(c).ok().json()))
        .collect();
    assert_eq!(without, with);
}

#[test]
fn a_client_that_stops_reading_events_is_dropped_and_others_are_served() {
    let home = Home::new();
    common::reference::register(&home, "chatty", &["--stderr-lines", "300000"], "");
    let daemon = Daemon::start(&home, &[]);
    // Subscribes, then never reads.
    let mut stuck = UnixStream::connect(&daemon.socket).unwrap();
    stuck
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"event.subscribe\"}\n")
        .unwrap();
    let rt = runtime();
    let good = rt.block_on(ControlClient::connect(&daemon.socket)).unwrap();
    rt.block_on(good.call("agent.start", Some(json!({ "agent": "chatty" }))))
        .unwrap();
    // The daemon gives up on the stuck client: reading what it queued ends at EOF.
    stuck
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut drained = Vec::new();
    let read = stuck.read_to_end(&mut drained);
    assert!(
        read.is_ok(),
        "the daemon closed the stuck client's connection: {read:?}"
    );
    assert!(
        drained.len() > 100_000,
        "it had been sent events before: {} bytes",
        drained.len()
    );
    assert_eq!(
        rt.block_on(good.call("system.ping", None)).unwrap(),
        json!("pong")
    );
    let status = rt.block_on(good.call("agent.status", None)).unwrap();
    assert_eq!(status["agents"][0]["state"], "idle");
}

#[test]
fn presets_can_be_added_over_the_socket_without_leaking_the_key() {
    let home = Home::new();
    let daemon = Daemon::start(&home, &[]);
    let rt = runtime();
    let client = rt.block_on(ControlClient::connect(&daemon.socket)).unwrap();
    let preset = json!({ "name": "kimi", "kind": "anthropic", "api_key": "sk-socket-000000000-abcd", "model": "kimi-k2" });
    let added = rt
        .block_on(client.call("preset.add", Some(json!({ "preset": preset }))))
        .unwrap();
    assert_eq!(added["action"], "added");
    assert_eq!(added["preset"]["api_key"], "sk-…abcd");
    let bad = rt.block_on(client.call(
        "preset.add",
        Some(json!({ "preset": { "name": "bad name", "kind": "openai" } })),
    ));
    assert!(bad.unwrap_err().to_string().contains("-32602"));
    let shown = home
        .run(&["show", "kimi", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(shown["api_key"], "sk-socket-000000000-abcd");
}

#[test]
fn usage_budgets_and_alerts_over_the_socket() {
    let home = Home::new();
    home.run(&[
        "add",
        "p",
        "--kind",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
    ])
    .ok();
    home.run(&[
        "agents",
        "check",
        "aiswitch-agent",
        "--preset",
        "p",
        "--prompt",
        "hi",
    ])
    .ok();
    let daemon = Daemon::start(&home, &[]);
    let rt = runtime();
    let client = rt.block_on(ControlClient::connect(&daemon.socket)).unwrap();
    let call = |method: &str, params: Value| rt.block_on(client.call(method, Some(params)));
    let summary = call("tokens.summary", json!({ "by": "model" })).unwrap();
    assert_eq!(summary["groups"][0]["key"], "claude-sonnet-4-5");
    assert_eq!(summary["total"]["tokens"]["input"], 11);
    assert!(
        call("tokens.summary", json!({ "by": "weather" }))
            .unwrap_err()
            .to_string()
            .contains("-32602")
    );
    let id = call(
        "budget.set",
        json!({ "period": "month", "limit_usd": 0.0001, "thresholds": "50" }),
    )
    .unwrap()["id"]
        .clone();
    assert!(
        call("budget.set", json!({ "period": "month", "limit_usd": -1 }))
            .unwrap_err()
            .to_string()
            .contains("above zero")
    );
    let budgets = call("budget.list", json!({})).unwrap();
    assert_eq!(budgets["budgets"][0]["id"], id);
    // The next recorded run crosses the threshold.
    home.run(&[
        "agents",
        "check",
        "aiswitch-agent",
        "--preset",
        "p",
        "--prompt",
        "hi",
    ])
    .ok();
    let alerts = call("alert.list", json!({})).unwrap();
    assert_eq!(alerts["alerts"][0]["kind"], "budget_threshold");
    assert_eq!(
        call("alert.ack", json!({ "all": true })).unwrap()["acknowledged"],
        1
    );
    assert_eq!(
        call("budget.remove", json!({ "id": id })).unwrap()["removed"],
        id
    );
}
