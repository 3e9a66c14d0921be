//! Every bad input gets one clear line on stderr, exit 2 (usage) or 1 (failure), and
//! leaves every file under the home byte-identical.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

/// Runs `args` and checks exit code, a one-line message containing `says`, and that
/// no file changed.
fn refused(home: &Home, args: &[&str], code: i32, says: &str) {
    let before = home.snapshot();
    let run = home.run(args);
    assert_eq!(run.code, Some(code), "{args:?}: {run:?}");
    let message = run.stderr.trim_end();
    assert_eq!(
        message.lines().count(),
        1,
        "{args:?}: one line, got {message:?}"
    );
    assert!(
        message.contains(says),
        "{args:?}: {message:?} should say {says:?}"
    );
    assert!(
        run.stdout.is_empty(),
        "{args:?}: nothing on stdout: {run:?}"
    );
    assert_eq!(before, home.snapshot(), "{args:?} changed files");
}

fn seeded() -> Home {
    let home = Home::new();
    home.add_secret_preset("existing", "sk-existing-000000000000");
    home.run(&["use", "existing"]).ok();
    home
}

#[test]
fn invalid_preset_names() {
    let home = seeded();
    let long = "x".repeat(65);
    for name in ["", "a/b", "..", "../x", "has space", long.as_str()] {
        refused(&home, &["add", name, "A", "1"], 2, "invalid preset name");
        refused(&home, &["show", name], 2, "invalid preset name");
    }
}

#[test]
fn invalid_env_pairs() {
    let home = seeded();
    refused(&home, &["add", "p", "1BAD", "v"], 2, "invalid env var name");
    refused(&home, &["add", "p", "A-B", "v"], 2, "invalid env var name");
    refused(
        &home,
        &["add", "p", "A", "1", "LONELY"],
        2,
        "LONELY has no value",
    );
    refused(
        &home,
        &["add", "p", "A", "1", "A", "2"],
        2,
        "A is given twice",
    );
    refused(
        &home,
        &["add", "p", "--kind", "openai", "--base-url", "ftp://x"],
        2,
        "invalid base URL",
    );
    refused(
        &home,
        &["add", "p", "--base-url", "https://x.example.com"],
        2,
        "need --kind",
    );
    refused(
        &home,
        &["add", "p", "--kind", "openai", "--price", "input=-3"],
        2,
        "invalid price",
    );
    refused(
        &home,
        &["add", "p", "--kind", "nope"],
        2,
        "invalid value 'nope'",
    );
}

#[test]
fn missing_and_existing_presets() {
    let home = seeded();
    refused(&home, &["show", "ghost"], 1, "preset ghost does not exist");
    refused(&home, &["use", "ghost"], 1, "preset ghost does not exist");
    refused(
        &home,
        &["remove", "ghost"],
        1,
        "preset ghost does not exist",
    );
    refused(
        &home,
        &["apply", "ghost", "--", "true"],
        1,
        "preset ghost does not exist",
    );
    refused(
        &home,
        &["export", "ghost"],
        1,
        "preset ghost does not exist",
    );
    refused(
        &home,
        &["add", "existing", "A", "1"],
        1,
        "already exists: use --force",
    );
    refused(&home, &["remove", "existing"], 1, "use --force");
    refused(&home, &["apply", "existing"], 2, "needs a command");
}

#[test]
fn json_errors_are_one_json_line() {
    let home = seeded();
    let before = home.snapshot();
    let run = home.run(&["show", "ghost", "--json"]);
    assert_eq!(run.code, Some(1));
    let err: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
    assert_eq!(err["error"]["kind"], "preset_not_found");
    assert_eq!(before, home.snapshot());
}

#[test]
fn corrupt_preset_file_is_named_and_others_list() {
    let home = seeded();
    let bad = home.aiswitch_home().join("config/presets/broken.toml");
    std::fs::write(&bad, "name = \"broken\"\nkind = [").unwrap();
    let before = home.snapshot();
    let run = home.run(&["list", "--json"]);
    assert_eq!(
        run.code,
        Some(1),
        "a corrupt file fails the listing: {run:?}"
    );
    let list = run.json();
    assert_eq!(
        list["presets"].as_array().unwrap().len(),
        1,
        "the good one still lists"
    );
    assert!(
        list["problems"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.toml")
    );
    let text = home.run(&["list"]);
    assert!(text.stdout.contains("existing"));
    assert!(
        text.stderr.contains("broken.toml") && text.stderr.contains("corrupt"),
        "{text:?}"
    );
    refused(&home, &["show", "broken"], 1, "broken.toml is corrupt");
    assert_eq!(before, home.snapshot());
}

#[test]
fn unreadable_config_directory() {
    use std::os::unix::fs::PermissionsExt;
    let home = seeded();
    let config = home.aiswitch_home().join("config");
    // Root reads everything, so as root the command runs as `nobody` instead.
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap();
    let set_mode = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set_mode(&config, 0o000);
    let before = home.snapshot();
    let run: common::Run = if as_root {
        for dir in [home.root().to_path_buf(), home.aiswitch_home()] {
            set_mode(&dir, 0o755);
        }
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            common::BIN,
            "list",
        ]);
        cmd.env("AISWITCH_HOME", home.aiswitch_home())
            .env("HOME", home.user_home());
        cmd.output().unwrap().into()
    } else {
        home.run(&["list"])
    };
    set_mode(&config, 0o700);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stderr.trim().lines().count(), 1, "{run:?}");
    assert!(
        run.stderr.contains("config"),
        "names the directory: {run:?}"
    );
    assert!(run.stderr.contains("ermission denied"), "{run:?}");
    assert_eq!(before, home.snapshot());
}

#[test]
fn malformed_import_files_write_nothing() {
    let home = seeded();
    let dir = home.root().join("imports");
    std::fs::create_dir(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let not_toml = write("garbage.toml", "this is [ not toml");
    refused(&home, &["import", &not_toml], 1, "cannot import");
    let wrong = write("wrong.toml", "format = \"something-else\"\n");
    refused(
        &home,
        &["import", &wrong],
        1,
        "not an aiswitch presets file",
    );
    let one_bad = write(
        "one-bad.toml",
        "format = \"aiswitch-presets\"\nversion = 1\n\
         [[preset]]\nname = \"good1\"\nkind = \"openai\"\n\
         [[preset]]\nname = \"bad one\"\nkind = \"openai\"\n\
         [[preset]]\nname = \"good2\"\nkind = \"gemini\"\n",
    );
    refused(
        &home,
        &["import", &one_bad],
        1,
        "invalid preset name \"bad one\"",
    );
    let bad_env = write(
        "bad-env.toml",
        "format = \"aiswitch-presets\"\nversion = 1\n\
         [[preset]]\nname = \"good1\"\nkind = \"openai\"\n\
         [[preset]]\nname = \"envy\"\nkind = \"custom\"\nenv = { \"1X\" = \"v\" }\n",
    );
    refused(&home, &["import", &bad_env], 1, "preset \"envy\"");
    let twice = write(
        "twice.toml",
        "format = \"aiswitch-presets\"\nversion = 1\n\
         [[preset]]\nname = \"a\"\nkind = \"openai\"\n[[preset]]\nname = \"a\"\nkind = \"openai\"\n",
    );
    refused(&home, &["import", &twice], 1, "appears twice");
    let clash = write(
        "clash.toml",
        "format = \"aiswitch-presets\"\nversion = 1\n\
         [[preset]]\nname = \"fresh\"\nkind = \"openai\"\n[[preset]]\nname = \"existing\"\nkind = \"openai\"\n",
    );
    refused(&home, &["import", &clash], 1, "existing already exists");
    refused(
        &home,
        &["import", "/nonexistent/file.toml"],
        1,
        "cannot read /nonexistent/file.toml",
    );
    let legacy = dir.join("legacy");
    std::fs::create_dir(&legacy).unwrap();
    std::fs::write(legacy.join("ok.yaml"), "name: ok\nvariables:\n  A: b\n").unwrap();
    std::fs::write(legacy.join("bad.yaml"), "name: bad\nvariables: [oops\n").unwrap();
    refused(
        &home,
        &["import", "--legacy", &legacy.display().to_string()],
        1,
        "bad.yaml",
    );
}
