//! What the CLI says of itself: `--help` examples keep their lines, and `agents
//! status` only looks (it starts no daemon).
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::Home;

#[test]
fn help_examples_keep_their_lines() {
    let home = Home::new();
    for (args, line) in [
        (
            &["import", "--help"][..],
            "  aiswitch import presets.toml --dry-run",
        ),
        (
            &["apply", "--help"],
            "  aiswitch apply deepseek -- claude -p \"hello\"",
        ),
        (&["use", "--help"], "  aiswitch use --here kimi"),
        (&["current", "--help"], "  aiswitch current --agent codex"),
    ] {
        let help = home.run(args).ok().stdout;
        assert!(
            help.lines().any(|l| l == line),
            "`{}` lost the line {line:?}:\n{help}",
            args.join(" ")
        );
    }
}

#[test]
fn agents_status_starts_no_daemon() {
    let home = Home::new();
    let run = home.run(&["agents", "status"]).ok();
    assert!(
        run.stdout.contains("no daemon is running"),
        "{}",
        run.stdout
    );
    let json = home.run(&["agents", "status", "--json"]).ok().json();
    assert_eq!(json["daemon"], false);
    assert!(
        !home.aiswitch_home().join("run/control.sock").exists(),
        "no daemon was started"
    );
    assert!(!home.aiswitch_home().join("data/daemon.log").exists());
}
