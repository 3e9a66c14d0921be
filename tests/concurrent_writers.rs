//! Concurrent `aiswitch` processes never lose an update.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use std::process::Stdio;

use common::Home;

#[test]
fn twenty_concurrent_adds_leave_twenty_presets() {
    let home = Home::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let name = format!("p{i:02}");
            home.cmd(&["add", &name, "INDEX", &i.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list = home.run(&["list", "--json"]).ok().json();
    let presets = list["presets"].as_array().unwrap();
    assert_eq!(presets.len(), 20);
    for (i, preset) in presets.iter().enumerate() {
        assert_eq!(
            preset["env"]["INDEX"],
            i.to_string(),
            "each kept its own content"
        );
    }
    let db = rusqlite::Connection::open(home.aiswitch_home().join("data/aiswitch.db")).unwrap();
    let events: i64 = db
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'preset_added'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        events, 20,
        "every add was recorded despite concurrent writers"
    );
}

#[test]
fn concurrent_forced_replaces_leave_one_whole_preset() {
    let home = Home::new();
    home.run(&["add", "shared", "WRITER", "none"]).ok();
    let children: Vec<_> = (0..12)
        .map(|i| {
            let value = format!("writer-{i}");
            home.cmd(&["add", "shared", "WRITER", &value, "SAME", &value, "--force"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let shown = home.run(&["show", "shared", "--json"]).ok().json();
    assert_eq!(
        shown["env"]["WRITER"], shown["env"]["SAME"],
        "one writer's whole content"
    );
    assert_ne!(shown["env"]["WRITER"], "none");
}
