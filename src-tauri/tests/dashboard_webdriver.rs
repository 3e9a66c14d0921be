//! The dashboard inside the real app (WebKitGTK) as a person uses it, over WebDriver:
//! `ui/tests/app_webdriver.mjs` runs tauri-driver (with Debian's WebKitWebDriver),
//! which starts the app under Xvfb; the app attaches to a real daemon with the
//! reference agent; a task launched on the page streams its output and succeeds.
//!
//! Needs the `aiswitch` binaries beside the app (`cargo build -p aiswitch`), Node,
//! `WebKitWebDriver` and tauri-driver (scripts/setup.sh installs both; tauri-driver
//! into `.cache/tools`, or set `AISWITCH_TAURI_DRIVER`).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{APP, sibling};

fn tauri_driver() -> PathBuf {
    let path = std::env::var_os("AISWITCH_TAURI_DRIVER").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/tools/bin/tauri-driver"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "tauri-driver is missing at {}: run scripts/setup.sh",
        path.display()
    );
    path
}

fn cli(home: &Path, args: &[&str], stdin: &str) {
    let mut child = Command::new(sibling("aiswitch"))
        .args(args)
        .env("AISWITCH_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "aiswitch {args:?}");
}

#[test]
fn a_task_launched_in_the_apps_dashboard_streams_and_succeeds() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let add = [
        "add",
        "ref",
        "--kind",
        "anthropic",
        "--base-url",
        "https://api.example.com/anthropic",
        "--api-key",
        "-",
    ];
    cli(home, &add, "sk-ant-app-0123456789abcdef");
    cli(home, &["use", "ref"], "");
    let work = home.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut daemon = Command::new(sibling("aiswitch"))
        .arg("daemon")
        .env("AISWITCH_HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = home.join("run/control.sock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let shots =
        std::env::var_os("AISWITCH_SCREENSHOTS").map_or_else(|| home.to_path_buf(), PathBuf::from);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/tests/app_webdriver.mjs");
    let out = Command::new("xvfb-run")
        .args(["-a", "dbus-launch", "--exit-with-session", "node"])
        .arg(&script)
        .arg(tauri_driver())
        .arg(APP)
        .arg(&work)
        .arg(shots.join("app-task.png"))
        .env("AISWITCH_HOME", home)
        .env("HOME", home.join("user"))
        .env("NO_AT_BRIDGE", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success()
            && stdout.contains("a task launched in the app streams its output and succeeds"),
        "the app's dashboard failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
