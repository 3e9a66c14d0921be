//! `aiswitch run`, `apply -- CMD` for a known agent CLI, per-directory presets
//! (`.aiswitch.toml`, `use --here`, `current`), `doctor`, and their bad input. The
//! agent CLI here is a real program (a shell script on PATH) that prints the
//! arguments and environment it was started with.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::Home;

/// A home with an agent `echoer` (command `echo-cli`) that takes anthropic presets
/// by env, flag and file, and two presets.
/// These tests check what a launch injects, so the CLI is given the presets'
/// URLs and keys directly (the real-CLI suite runs `run` through the gateway).
fn setup() -> (Home, PathBuf) {
    let home = Home::new();
    home.direct();
    let bin = home.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("echo-cli");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"args: $*\"\necho \"url: $ECHO_URL\"\necho \"key: $ECHO_KEY\"\necho \"preset: $AISWITCH_PRESET\"\nfor a in \"$@\"; do [ -f \"$a\" ] && echo \"file: $(cat \"$a\")\"; done\nexit ${ECHO_EXIT:-0}\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest = home.root().join("echoer.toml");
    std::fs::write(
        &manifest,
        r#"id = "echoer"
name = "Echo CLI"
command = "echo-cli"
install = "npm install -g echo-cli"
args = ["--headless"]
driver = "acp"
[inject.anthropic]
env = { ECHO_URL = "{base_url}", ECHO_KEY = "{api_key}" }
args = [["--config", "{file:cfg.json}"], ["--model", "{model}"]]
[inject.anthropic.files."cfg.json"]
url = "{base_url}"
"#,
    )
    .unwrap();
    home.run(&["agents", "register", manifest.to_str().unwrap()])
        .ok();
    for (name, url) in [
        ("one", "https://one.example"),
        ("two", "https://two.example"),
    ] {
        home.run_with_stdin(
            &[
                "add",
                name,
                "--kind",
                "anthropic",
                "--base-url",
                url,
                "--model",
                "m-1",
                "--api-key",
                "-",
            ],
            &format!("sk-{name}-secret-0000"),
        )
        .ok();
    }
    (home, bin)
}

fn run_in(home: &Home, bin: &Path, dir: &Path, args: &[&str]) -> common::Run {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    home.cmd(args)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap()
        .into()
}

#[test]
fn run_injects_env_flags_and_files_and_passes_the_exit_code_through() {
    let (home, bin) = setup();
    let out = run_in(
        &home,
        &bin,
        home.root(),
        &["run", "echoer", "--preset", "one", "--", "hello"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.contains("url: https://one.example"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("key: sk-one-secret-0000"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("preset: one"), "{}", out.stdout);
    // Injected flags first, then the user's; not the manifest's headless `--headless`.
    let file = home.aiswitch_home().join("data/inject/echoer/one/cfg.json");
    assert!(
        out.stdout.contains(&format!(
            "args: --config {} --model m-1 hello",
            file.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\"url\": \"https://one.example\""),
        "{}",
        out.stdout
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "an injected file may hold a secret");

    let code = home
        .cmd(&["run", "echoer", "--preset", "one"])
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("ECHO_EXIT", "7")
        .status()
        .unwrap();
    assert_eq!(code.code(), Some(7), "the CLI's exit code is aiswitch's");
}

#[test]
fn print_command_hides_secrets_names_the_file_and_writes_nothing() {
    let (home, bin) = setup();
    let before = home.snapshot();
    let out = run_in(
        &home,
        &bin,
        home.root(),
        &["run", "echoer", "--preset", "one", "--print-command"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!out.stdout.contains("sk-one-secret"), "{}", out.stdout);
    assert!(
        out.stdout.contains("ECHO_KEY=\"$ECHO_KEY\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("data/inject/echoer/one/cfg.json"),
        "{}",
        out.stdout
    );
    assert_eq!(home.snapshot(), before, "--print-command wrote something");
}

#[test]
fn a_directory_file_picks_the_preset_and_current_says_why() {
    let (home, bin) = setup();
    home.run(&["use", "one"]).ok();
    let project = home.root().join("project");
    let deep = project.join("src/deep");
    std::fs::create_dir_all(&deep).unwrap();
    let set = home
        .cmd(&["use", "--here", "two", "--agent", "echoer"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(set.status.success(), "{set:?}");

    let out = run_in(&home, &bin, &deep, &["run", "echoer"]);
    assert!(out.stdout.contains("url: https://two.example"), "{out:?}");
    let flag = run_in(&home, &bin, &deep, &["run", "echoer", "--preset", "one"]);
    assert!(
        flag.stdout.contains("url: https://one.example"),
        "the flag wins: {flag:?}"
    );

    let current: common::Run = home
        .cmd(&["current", "--agent", "echoer", "--json"])
        .current_dir(&deep)
        .output()
        .unwrap()
        .into();
    let current = current.json();
    assert_eq!(current["current"], "two");
    assert_eq!(current["source"], "directory");
    assert_eq!(
        current["file"],
        project.join(".aiswitch.toml").display().to_string()
    );
    // Another agent has no entry and the file no default: the global one applies.
    let other: common::Run = home
        .cmd(&["current", "--json"])
        .current_dir(&deep)
        .output()
        .unwrap()
        .into();
    assert_eq!(other.json()["current"], "one");
    assert_eq!(other.json()["source"], "global");
}

#[test]
fn apply_injects_into_a_known_agent_cli_unless_env_only() {
    let (home, bin) = setup();
    let out = run_in(
        &home,
        &bin,
        home.root(),
        &["apply", "one", "--", "echo-cli", "x"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("--model m-1 x"), "{}", out.stdout);
    let plain = run_in(
        &home,
        &bin,
        home.root(),
        &["apply", "one", "--env-only", "--", "echo-cli", "x"],
    );
    assert!(plain.stdout.contains("args: x\n"), "{}", plain.stdout);
}

#[test]
fn bad_input_is_one_line_and_launches_and_writes_nothing() {
    let (home, bin) = setup();
    home.run_with_stdin(
        &[
            "add",
            "oa",
            "--kind",
            "openai",
            "--base-url",
            "https://o.example/v1",
            "--api-key",
            "-",
        ],
        "sk-oa-0000000000",
    )
    .ok();
    let project = home.root().join("bad");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join(".aiswitch.toml"),
        "preset = \"one\"\n[agents]\necho = 3\n",
    )
    .unwrap();
    let before = home.snapshot();
    let cases: [(&[&str], &Path, i32, &str); 5] = [
        (&["run", "nobody"], home.root(), 1, "agents list"),
        (
            &["run", "echoer", "--preset", "oa"],
            home.root(),
            2,
            "cannot use preset oa",
        ),
        (&["run", "echoer"], &project, 2, "line 3"),
        (
            &["run", "echoer", "--preset", "ghost"],
            home.root(),
            1,
            "ghost",
        ),
        (
            &["use", "--here", "oa", "--agent", "echoer"],
            home.root(),
            2,
            "cannot use",
        ),
    ];
    for (args, dir, code, says) in cases {
        let out = run_in(&home, &bin, dir, args);
        assert_eq!(out.code, Some(code), "{args:?}: {out:?}");
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(!out.stdout.contains("args:"), "{args:?} launched the CLI");
    }
    // Not installed: what to install, and where to look.
    let out = home.run(&["run", "echoer", "--preset", "one"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("npm install -g echo-cli") && out.stderr.contains("aiswitch doctor"),
        "{}",
        out.stderr
    );
    assert_eq!(home.snapshot(), before, "bad input wrote something");
}

#[test]
fn doctor_finds_competing_user_settings_and_says_which_win() {
    let (home, bin) = setup();
    let claude = home.user_home().join(".claude");
    std::fs::create_dir_all(&claude).unwrap();
    std::fs::write(
        claude.join("settings.json"),
        r#"{"env": {"ANTHROPIC_BASE_URL": "http://corp.example"}}"#,
    )
    .unwrap();
    let base_url_override = || {
        let out = run_in(&home, &bin, home.root(), &["doctor", "--json"]);
        let report = out.json();
        report["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["setting"] == "env.ANTHROPIC_BASE_URL")
            .cloned()
            .unwrap_or_else(|| panic!("not found: {report}"))
    };
    // What Claude Code would really get: no preset applies, so the user's URL wins.
    let found = base_url_override();
    assert_eq!(found["beaten"], false, "{found}");
    assert!(
        found["note"]
            .as_str()
            .unwrap()
            .contains("no preset applies")
    );
    // A preset with a URL beats it.
    home.run(&["use", "one"]).ok();
    assert_eq!(base_url_override()["beaten"], true);
    // A preset with a key and no URL leaves the user's URL in force: doctor says so.
    home.run_with_stdin(
        &["add", "keyonly", "--kind", "anthropic", "--api-key", "-"],
        "sk-keyonly-0000000000",
    )
    .ok();
    home.run(&["use", "keyonly"]).ok();
    let found = base_url_override();
    assert_eq!(found["beaten"], false, "{found}");
    home.run(&["use", "one"]).ok();
    let out = run_in(&home, &bin, home.root(), &["doctor", "--json"]);
    let report = out.json();
    let echoer = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "echoer")
        .cloned()
        .unwrap();
    assert_eq!(
        echoer["presets"],
        serde_json::json!(["keyonly", "one", "two"])
    );
    assert!(echoer["path"].as_str().unwrap().ends_with("echo-cli"));

    let gemini = home.user_home().join(".gemini");
    std::fs::create_dir_all(&gemini).unwrap();
    std::fs::write(
        gemini.join("settings.json"),
        r#"{"security": {"auth": {"enforcedType": "oauth-personal"}}}"#,
    )
    .unwrap();
    let out = run_in(&home, &bin, home.root(), &["doctor"]);
    assert_eq!(
        out.code,
        Some(1),
        "a setting that wins needs fixing: {out:?}"
    );
    assert!(
        out.stdout.contains("FIX  security.auth.enforcedType"),
        "{}",
        out.stdout
    );
}

#[test]
fn agents_check_resolves_the_preset_as_run_does() {
    let (home, bin) = setup();
    home.run(&["use", "one"]).ok();
    let project = home.root().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let check = |dir: &Path| {
        run_in(
            &home,
            &bin,
            dir,
            &[
                "agents",
                "check",
                "aiswitch-agent",
                "--prompt",
                "env ANTHROPIC_BASE_URL",
            ],
        )
    };
    let global = check(&project);
    assert!(
        global
            .stdout
            .contains("ANTHROPIC_BASE_URL=https://one.example"),
        "{global:?}"
    );
    assert!(global.stdout.contains("preset: one"), "{}", global.stdout);
    home.cmd(&["use", "--here", "two"])
        .current_dir(&project)
        .output()
        .unwrap();
    let here = check(&project);
    assert!(
        here.stdout
            .contains("ANTHROPIC_BASE_URL=https://two.example"),
        "{here:?}"
    );
    assert!(here.stdout.contains("preset: two"), "{}", here.stdout);
}

#[test]
fn a_nearer_directory_file_overrides_field_by_field() {
    let (home, _bin) = setup();
    let project = home.root().join("project");
    let sub = project.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    for (dir, args) in [
        (&project, &["use", "--here", "one"][..]),
        (&sub, &["use", "--here", "two", "--agent", "echoer"][..]),
    ] {
        let out = home.cmd(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let current: common::Run = home
        .cmd(&["current", "--agent", "claude", "--json"])
        .current_dir(&sub)
        .output()
        .unwrap()
        .into();
    let current = current.json();
    assert_eq!(
        current["current"], "one",
        "the parent's default stays: {current}"
    );
    assert_eq!(
        current["file"],
        project.join(".aiswitch.toml").display().to_string()
    );
    let echoer: common::Run = home
        .cmd(&["current", "--agent", "echoer", "--json"])
        .current_dir(&sub)
        .output()
        .unwrap()
        .into();
    assert_eq!(echoer.json()["current"], "two");
}

#[test]
fn a_stored_presets_raw_url_is_what_every_part_of_the_launch_gets() {
    let (home, bin) = setup();
    // A preset saved by an older aiswitch: the raw env says B, the field says A.
    std::fs::write(
        home.aiswitch_home().join("config/presets/mixed.toml"),
        "name = \"mixed\"\nkind = \"anthropic\"\nbase_url = \"https://a.example\"\n\n[env]\nANTHROPIC_BASE_URL = \"https://b.example\"\n",
    )
    .unwrap();
    let shown = home.run(&["show", "mixed", "--json"]).ok().json();
    assert_eq!(shown["base_url"], "https://b.example");
    assert_eq!(shown["applies"]["ANTHROPIC_BASE_URL"], "https://b.example");
    let out = run_in(
        &home,
        &bin,
        home.root(),
        &["run", "echoer", "--preset", "mixed"],
    );
    assert!(
        out.stdout.contains("url: https://b.example"),
        "env: {out:?}"
    );
    assert!(
        out.stdout.contains(r#""url": "https://b.example""#),
        "the settings file says the same: {out:?}"
    );
}

#[test]
fn the_users_own_flag_replaces_the_injected_one() {
    let (home, bin) = setup();
    let qwen = bin.join("qwen");
    std::fs::write(&qwen, "#!/bin/sh\necho \"args: $*\"\n").unwrap();
    std::fs::set_permissions(&qwen, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_in(
        &home,
        &bin,
        home.root(),
        &[
            "run",
            "qwen",
            "--preset",
            "one",
            "--",
            "--auth-type=openai",
            "--model",
            "mine",
            "-p",
            "hi",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        "args: --auth-type=openai --model mine -p hi",
        "once each, the user's: {out:?}"
    );
    let printed = run_in(
        &home,
        &bin,
        home.root(),
        &[
            "run",
            "qwen",
            "--preset",
            "one",
            "--print-command",
            "--",
            "--auth-type",
            "openai",
        ],
    );
    assert!(
        printed
            .stdout
            .contains("# your own arguments replace aiswitch's --auth-type anthropic"),
        "{}",
        printed.stdout
    );
    let applied = run_in(
        &home,
        &bin,
        home.root(),
        &[
            "apply",
            "one",
            "--",
            "qwen",
            "--auth-type",
            "openai",
            "-p",
            "hi",
        ],
    );
    assert_eq!(
        applied.stdout.trim(),
        "args: -m m-1 --auth-type openai -p hi",
        "{applied:?}"
    );
}

#[test]
fn an_acp_manifest_without_a_lifetime_runs_as_a_session() {
    let home = Home::new();
    let agent = std::path::Path::new(common::BIN)
        .with_file_name("aiswitch-agent")
        .display()
        .to_string();
    let manifest = home.root().join("plain.toml");
    std::fs::write(
        &manifest,
        format!("id = \"plain\"\nname = \"Plain\"\ncommand = \"{agent}\"\ndriver = \"acp\"\n"),
    )
    .unwrap();
    home.run(&["agents", "register", manifest.to_str().unwrap()])
        .ok();
    let check = home.run(&["agents", "check", "plain", "--prompt", "hi"]);
    assert_eq!(check.code, Some(0), "{check:?}");
    assert!(check.stdout.contains("echo: hi"), "{}", check.stdout);
}
