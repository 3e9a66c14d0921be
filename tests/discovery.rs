//! Agent discovery: versions from the cache, from a Node CLI's package.json, or from
//! the program started with a deadline; what is still being found shows as probing.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Home;
use common::daemon::{Control, Daemon, Follower};
use serde_json::{Value, json};

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Registers agent `id` running `command`.
fn register(home: &Home, id: &str, command: &Path) {
    let manifest = home.root().join(format!("{id}.toml"));
    std::fs::write(
        &manifest,
        format!(
            "id = \"{id}\"\nname = \"{id}\"\ncommand = \"{}\"\ndriver = \"claude-stream-json\"\nlifetime = \"per-task\"\n[inject.anthropic]\n",
            command.display()
        ),
    )
    .unwrap();
    home.run(&["agents", "register", manifest.to_str().unwrap()])
        .ok();
}

/// The listing's entry for `id`.
fn entry(list: &Value, id: &str) -> Value {
    list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is listed: {list}"))
}

fn starts(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_cli_that_hangs_on_its_version_is_probing_and_leaves_no_process_behind() {
    let home = Home::new();
    let pid_file = home.root().join("pid");
    let cli = home.root().join("bin/hangs");
    script(
        &cli,
        &format!("echo $$ > '{}'\nexec /bin/sleep 600", pid_file.display()),
    );
    register(&home, "hangs", &cli);
    let list = common::run_to_end(
        home.cmd(&["agents", "list", "--json"]),
        Duration::from_secs(30),
    )
    .ok()
    .json();
    let hangs = entry(&list, "hangs");
    assert_eq!(hangs["probing"], true, "{hangs}");
    assert_eq!(hangs["version"], Value::Null);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the probe {pid} was killed and reaped when the listing returned"
    );
    let text = home.run(&["agents", "list"]).ok().stdout;
    let line = text.lines().find(|l| l.contains("bin/hangs")).unwrap();
    assert!(line.contains("probing"), "{line}");
}

#[test]
fn a_node_cli_is_versioned_from_its_package_json_without_being_started() {
    let home = Home::new();
    let counter = home.root().join("starts");
    let package = home.root().join("npm/lib/node_modules/@acme/coder");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{"name": "@acme/coder", "version": "3.14.15", "bin": {"coder": "bin/cli.js"}}"#,
    )
    .unwrap();
    script(
        &package.join("bin/cli.js"),
        &format!("echo started >> '{}'\necho 3.14.15", counter.display()),
    );
    let bin = home.root().join("npm/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        "../lib/node_modules/@acme/coder/bin/cli.js",
        bin.join("coder"),
    )
    .unwrap();
    register(&home, "coder", &bin.join("coder"));

    let list = home.run(&["agents", "list", "--json"]).ok().json();
    assert_eq!(entry(&list, "coder")["version"], "3.14.15");
    assert_eq!(starts(&counter), 0, "read, not started");
    // What the program prints agrees with its package.
    let printed = std::process::Command::new(bin.join("coder"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), "3.14.15");
}

#[test]
fn refresh_finds_every_version_again() {
    let home = Home::new();
    let counter = home.root().join("starts");
    let cli = home.root().join("bin/countme");
    script(
        &cli,
        &format!(
            "echo started >> '{}'\necho 'countme 1.0'",
            counter.display()
        ),
    );
    register(&home, "countme", &cli);
    home.run(&["agents", "list"]).ok();
    home.run(&["agents", "list"]).ok();
    assert_eq!(starts(&counter), 1, "the second listing reads the cache");
    let list = home
        .run(&["agents", "list", "--refresh", "--json"])
        .ok()
        .json();
    assert_eq!(entry(&list, "countme")["version"], "countme 1.0");
    assert_eq!(starts(&counter), 2, "--refresh starts it again");
}

#[test]
fn the_daemon_finishes_a_slow_probe_and_publishes_the_version() {
    let home = Home::new();
    let cli: PathBuf = home.root().join("bin/slow");
    // Slower than a listing waits, quicker than a probe's deadline.
    script(&cli, "/bin/sleep 1.5\necho 'slow 2.0'");
    register(&home, "slow", &cli);
    let daemon = Daemon::start(&home, &[]);
    let follower = Follower::start(&home);
    let control = Control::connect(&daemon);
    let list = control.call("agent.list", json!({})).unwrap();
    assert_eq!(entry(&list, "slow")["probing"], true, "{list}");
    let probed = follower.wait_for("agent_probed");
    assert_eq!(probed["agent"], "slow");
    assert_eq!(probed["version"], "slow 2.0");
    // The host cached it: the next listing, anywhere, has it at once.
    let list = home.run(&["agents", "list", "--json"]).ok().json();
    let slow = entry(&list, "slow");
    assert_eq!(
        (slow["version"].clone(), slow["probing"].clone()),
        (json!("slow 2.0"), json!(false))
    );
}
