//! The tray as a desktop shell sees it: the real app under Xvfb with a private D-Bus
//! session, its StatusNotifierItem and `com.canonical.dbusmenu` menu read and clicked
//! by `tray_shell.py` (which owns the StatusNotifierWatcher, as a panel does), against
//! a real daemon and the reference agent, with the `aiswitch` CLI in separate processes.
//!
//! Needs the `aiswitch` binaries beside the app (`cargo build -p aiswitch`), `xvfb-run`,
//! `dbus-launch` and `/usr/bin/python3` with `gi` (scripts/setup.sh installs them).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::Path;
use std::process::Command;

mod support;

use support::{APP, sibling};

fn cli(home: &Path, args: &[&str]) {
    let out = Command::new(sibling("aiswitch"))
        .args(args)
        .env("AISWITCH_HOME", home)
        .output()
        .unwrap();
    assert!(out.status.success(), "aiswitch {args:?}: {out:?}");
}

#[test]
fn the_tray_menu_switches_providers_and_follows_the_cli() {
    sibling("aiswitch-tray");
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for preset in ["one", "two"] {
        cli(
            home,
            &["add", preset, "--kind", "anthropic", "--model", "m"],
        );
    }
    // ref answers; crashy is killed; broken cannot start.
    for (id, args) in [
        ("ref", ""),
        ("crashy", ""),
        ("broken", "\"--no-such-flag\""),
    ] {
        let manifest = home.join(format!("{id}.toml"));
        std::fs::write(
            &manifest,
            format!(
                "id = \"{id}\"\nname = \"{id}\"\ncommand = \"{}\"\nargs = [{args}]\ndriver = \"acp\"\n[inject.anthropic]\n",
                sibling("aiswitch-agent").display()
            ),
        )
        .unwrap();
        cli(home, &["agents", "register", manifest.to_str().unwrap()]);
    }
    cli(home, &["env", "switch", "ref", "one"]);
    let work = home.join("work");
    std::fs::create_dir_all(&work).unwrap();

    let menu = home.join("menu.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tray_shell.py");
    let out = Command::new("xvfb-run")
        .args([
            "-a",
            "dbus-launch",
            "--exit-with-session",
            "/usr/bin/python3",
        ])
        .arg(&script)
        .arg(APP)
        .arg(sibling("aiswitch"))
        .arg(&work)
        .arg(&menu)
        .env("AISWITCH_HOME", home)
        .env("HOME", home.join("user"))
        .env_remove("XDG_BIN_HOME")
        .env("NO_AT_BRIDGE", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    // The app started a daemon for this home: stop it.
    let lock = home.join("run/daemon.lock");
    if let Ok(pid) = std::fs::read_to_string(&lock) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("OK"),
        "the tray check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = std::fs::read_to_string(&menu).unwrap();
    assert!(tree.contains("Provider"), "{tree}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/tray-menu.txt");
        std::fs::write(doc, tree).unwrap();
    }
}
