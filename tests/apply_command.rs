//! `apply -- cmd`: the child gets the preset's env on top of ours, its exit code,
//! and the signals sent to aiswitch.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{Home, send_signal, wait_with_deadline};

fn home_with_preset() -> Home {
    let home = Home::new();
    home.add_secret_preset("p", "sk-apply-0000000000-zz99");
    home
}

#[test]
fn child_gets_env_on_top_of_the_current_env() {
    let home = home_with_preset();
    let run = home
        .cmd(&[
            "apply",
            "p",
            "--",
            "sh",
            "-c",
            "echo $ANTHROPIC_BASE_URL $ANTHROPIC_AUTH_TOKEN $ANTHROPIC_MODEL $KEEP $AISWITCH_PRESET",
        ])
        .env("KEEP", "kept")
        .env("ANTHROPIC_MODEL", "overridden")
        .output()
        .unwrap();
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "https://api.example.com/anthropic sk-apply-0000000000-zz99 m-1 kept p"
    );
}

#[test]
fn exit_code_passes_through() {
    let home = home_with_preset();
    for code in [0, 1, 3, 42, 255] {
        let run = home.run(&["apply", "p", "--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(run.code, Some(code));
    }
    let missing = home.run(&["apply", "p", "--", "no-such-command-xyz"]);
    assert_eq!(missing.code, Some(127), "as env(1) does");
    assert!(
        missing.stderr.contains("cannot run no-such-command-xyz"),
        "{missing:?}"
    );
}

/// Starts `apply` with a child that traps `signal`, waits until it is ready, sends
/// the signal to the aiswitch process, and returns the exit code.
fn signal_exit_code(signal: &str, trap_code: i32) -> Option<i32> {
    let home = home_with_preset();
    let script =
        format!("trap 'exit {trap_code}' {signal}; echo ready; while :; do sleep 0.05; done");
    let mut child = home
        .cmd(&["apply", "p", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    send_signal(child.id(), signal);
    wait_with_deadline(child, Duration::from_secs(10)).code()
}

#[test]
fn sigterm_reaches_the_child() {
    assert_eq!(signal_exit_code("TERM", 42), Some(42));
}

#[test]
fn sigint_reaches_the_child() {
    assert_eq!(signal_exit_code("INT", 43), Some(43));
}

#[test]
fn death_by_signal_is_reported_as_such() {
    use std::os::unix::process::ExitStatusExt;
    let home = home_with_preset();
    let status = home
        .cmd(&["apply", "p", "--", "sh", "-c", "kill -KILL $$"])
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(9));
}

#[test]
fn export_lines_round_trip_through_a_shell() {
    let home = Home::new();
    home.run(&["add", "q", "WEIRD", "a 'quoted' $value\\n", "PLAIN", "x"])
        .ok();
    for (shell, reader) in [("bash", "bash"), ("zsh", "bash")] {
        let lines = home
            .cmd(&["apply", "q", "--export", "--shell", shell])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let script = format!(
            "{}\nprintf '%s|%s' \"$WEIRD\" \"$PLAIN\"",
            String::from_utf8_lossy(&lines.stdout)
        );
        let out = std::process::Command::new(reader)
            .args(["-c", &script])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "a 'quoted' $value\\n|x",
            "{shell}"
        );
    }
}
