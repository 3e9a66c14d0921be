//! No secret appears in any output, log, export or the database unless asked for.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

const KEY: &str = "sk-leakcheck-9f8e7d6c5b4a-a1b2";
const TOKEN: &str = "tok-leakcheck-0a1b2c3d4e5f";

#[test]
fn secrets_stay_out_of_every_output_and_the_database() {
    let home = Home::new();
    home.add_secret_preset("p", KEY);
    home.run(&["add", "q", "SERVICE_TOKEN", TOKEN, "PLAIN", "visible"])
        .ok();
    home.run(&["use", "p"]).ok();
    home.run(&["add", "p", "--kind", "openai", "--api-key", KEY, "--force"])
        .ok();

    let mut outputs = Vec::new();
    let commands: &[&[&str]] = &[
        &["list"],
        &["list", "--verbose"],
        &["list", "--json"],
        &["list", "--verbose", "--json"],
        &["show", "p"],
        &["show", "p", "--json"],
        &["show", "q"],
        &["show", "q", "--json"],
        &["current"],
        &["export", "--all"],
        &["export", "--all", "--json"],
        &["export", "p"],
        &["add", "p", "--kind", "nope"],
        &["add", "p", "SERVICE_TOKEN"],
        &["remove", "p"],
    ];
    for args in commands {
        let run = home.run(args);
        outputs.push((args.join(" "), run.stdout + &run.stderr));
    }
    let file = home.root().join("out.toml");
    home.run(&["export", "--all", "-o", &file.display().to_string()])
        .ok();
    outputs.push((
        "export file".into(),
        std::fs::read_to_string(&file).unwrap(),
    ));
    for (what, text) in &outputs {
        for secret in [KEY, TOKEN] {
            assert!(!text.contains(secret), "`{what}` printed a secret:\n{text}");
        }
    }
    let visible = home.run(&["show", "q"]).ok().stdout;
    assert!(
        visible.contains("PLAIN=visible"),
        "non-secret values stay visible"
    );

    // The database and every other file except the preset files themselves.
    for (path, bytes) in home.snapshot() {
        if path.starts_with(home.aiswitch_home().join("config/presets")) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for secret in [KEY, TOKEN] {
            assert!(!text.contains(secret), "{} holds a secret", path.display());
        }
    }
}

#[test]
fn secrets_appear_when_asked_for() {
    let home = Home::new();
    home.add_secret_preset("p", KEY);
    assert!(
        home.run(&["show", "p", "--show-secrets"])
            .ok()
            .stdout
            .contains(KEY)
    );
    assert!(
        home.run(&["export", "p", "--include-secrets"])
            .ok()
            .stdout
            .contains(KEY)
    );
    let piped = home.run(&["apply", "p", "--export"]).ok().stdout;
    assert!(
        piped.contains(KEY),
        "export lines for eval carry the real key"
    );
}
