//! `aiswitch agents list | register | check | logs` against a temp home, with the
//! shipped reference agent.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

fn manifest(home: &Home, name: &str, text: &str) -> String {
    let path = home.root().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn list_shows_builtins_install_state_and_version() {
    let home = Home::new();
    let list = home.run(&["agents", "list", "--json"]).ok().json();
    let agents = list["agents"].as_array().unwrap();
    let ids: Vec<&str> = agents.iter().map(|a| a["id"].as_str().unwrap()).collect();
    for id in [
        "aiswitch-agent",
        "claude",
        "claude-acp",
        "codex",
        "codex-acp",
        "cursor",
        "gemini",
        "goose",
        "opencode",
        "qwen",
    ] {
        assert!(ids.contains(&id), "built-in {id} listed");
    }
    let reference = agents.iter().find(|a| a["id"] == "aiswitch-agent").unwrap();
    assert_eq!(reference["driver"], "acp");
    assert!(
        reference["path"]
            .as_str()
            .unwrap()
            .ends_with("aiswitch-agent"),
        "found beside aiswitch"
    );
    assert!(
        reference["version"]
            .as_str()
            .unwrap()
            .starts_with("aiswitch-agent ")
    );
    let claude = agents.iter().find(|a| a["id"] == "claude").unwrap();
    assert_eq!(claude["driver"], "claude-stream-json");
    assert_eq!(claude["accepts"], serde_json::json!(["anthropic"]));
    let text = home.run(&["agents", "list"]).ok().stdout;
    assert!(
        text.contains("aiswitch-agent") && text.contains("INSTALLED"),
        "{text}"
    );
}

#[test]
fn check_injects_the_preset_and_reports_reply_and_usage() {
    let home = Home::new();
    home.add_secret_preset("p", "sk-check-0000000000-9999");
    let report = home
        .run(&[
            "agents",
            "check",
            "aiswitch-agent",
            "--preset",
            "p",
            "--prompt",
            "env ANTHROPIC_BASE_URL",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(report["agent"], "aiswitch-agent");
    assert_eq!(report["preset"], "p");
    // Through the provider gateway: the agent is pointed at it, never at the
    // provider itself (tests/gateway.rs follows the requests).
    let reply = report["reply"].as_str().unwrap();
    assert!(
        reply.starts_with("ANTHROPIC_BASE_URL=http://127.0.0.1:"),
        "{reply}"
    );
    assert_eq!(report["stop_reason"], "end_turn");
    assert_eq!(report["usage"]["input_tokens"], 11);
    assert_eq!(report["usage"]["output_tokens"], 7);
    assert_eq!(report["usage"]["cache_read_tokens"], 0);
    assert_eq!(report["usage"]["cache_write_tokens"], 0);
    assert_eq!(report["usage"]["source"], "agent");
    assert!(report["duration_ms"].is_u64() && report["initialized_ms"].is_u64());
    let text = home
        .run(&["agents", "check", "aiswitch-agent", "--prompt", "hello"])
        .ok()
        .stdout;
    assert!(
        text.starts_with("echo: hello\n"),
        "the reply streams first: {text}"
    );
    assert!(text.contains("usage: 11 in, 7 out"), "{text}");
}

#[test]
fn check_refuses_a_preset_of_the_wrong_kind() {
    let home = Home::new();
    home.run(&["add", "oa", "--kind", "openai", "--model", "gpt-x"])
        .ok();
    let run = home.run(&["agents", "check", "claude", "--preset", "oa"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(
            "agent claude cannot use preset oa (kind openai): it takes anthropic presets"
        ),
        "{}",
        run.stderr
    );
    let missing = home.run(&["agents", "check", "nope"]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("agent nope does not exist"),
        "{}",
        missing.stderr
    );
}

#[test]
fn register_validates_and_writes_nothing_when_bad() {
    let home = Home::new();
    let before = home.snapshot();
    let cases = [
        (
            "unknown-driver.toml",
            "id = \"x\"\nname = \"X\"\ncommand = \"x\"\ndriver = \"telepathy\"\n",
            "telepathy",
        ),
        (
            "no-command.toml",
            "id = \"x\"\nname = \"X\"\ndriver = \"acp\"\n",
            "command",
        ),
        (
            "bad-env.toml",
            "id = \"x\"\nname = \"X\"\ncommand = \"x\"\ndriver = \"acp\"\n[inject.openai.env]\n\"BAD-NAME\" = \"{base_url}\"\n",
            "inject.openai.env",
        ),
        (
            "key-in-args.toml",
            "id = \"x\"\nname = \"X\"\ncommand = \"x\"\ndriver = \"acp\"\n[inject.openai]\nargs = [[\"--key\", \"{api_key}\"]]\n",
            "may not appear in arguments",
        ),
        (
            "jsonl-without-spec.toml",
            "id = \"x\"\nname = \"X\"\ncommand = \"x\"\ndriver = \"jsonl\"\n",
            "jsonl",
        ),
    ];
    for (file, text, says) in cases {
        let path = manifest(&home, file, text);
        let before_case = home.snapshot();
        let run = home.run(&["agents", "register", &path]);
        assert_eq!(run.code, Some(1), "{file}: {run:?}");
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{file}: one line: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(says),
            "{file}: {} should name {says}",
            run.stderr
        );
        assert_eq!(before_case, home.snapshot(), "{file}: nothing written");
    }
    drop(before);

    let good = manifest(
        &home,
        "mine.toml",
        &format!(
            "id = \"mine\"\nname = \"My agent\"\ncommand = \"{}\"\ndriver = \"acp\"\nlifetime = \"session\"\n",
            common::reference::AGENT
        ),
    );
    let registered = home
        .run(&["agents", "register", &good, "--json"])
        .ok()
        .json();
    assert_eq!(registered["agent"], "mine");
    let again = home.run(&["agents", "register", &good]);
    assert_eq!(again.code, Some(1));
    assert!(again.stderr.contains("use --force"));
    home.run(&["agents", "register", &good, "--force"]).ok();
    let list = home.run(&["agents", "list", "--json"]).ok().json();
    let mine = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "mine")
        .unwrap()
        .clone();
    assert_eq!(mine["origin"], "registered");
    let report = home
        .run(&["agents", "check", "mine", "--prompt", "hi", "--json"])
        .ok()
        .json();
    assert_eq!(report["reply"], "echo: hi");
}

#[test]
fn logs_show_the_agents_stderr() {
    let home = Home::new();
    let crash = manifest(
        &home,
        "crashy.toml",
        &format!(
            "id = \"crashy\"\nname = \"crashy\"\ncommand = \"{}\"\nargs = [\"--crash-after\", \"0\"]\ndriver = \"acp\"\nlifetime = \"session\"\nrestart = {{ mode = \"never\" }}\n",
            common::reference::AGENT
        ),
    );
    home.run(&["agents", "register", &crash]).ok();
    let run = home.run(&["agents", "check", "crashy", "--prompt", "hi"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("crashy exited during a prompt"),
        "{}",
        run.stderr
    );
    let logs = home.run(&["agents", "logs", "crashy"]).ok().stdout;
    assert!(logs.contains("crashing on prompt 1 as asked"), "{logs}");
}

/// A directory with `claude` printing a version and `codex` that never answers.
fn fake_clis(home: &Home) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = home.root().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, body) in [
        ("claude", "echo '2.0.99 (Claude Code)'"),
        ("codex", "exec /bin/sleep 30"),
    ] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn check_never_says_ok_for_what_it_did_not_check() {
    let home = Home::new();
    let list = home.run(&["agents", "list", "--json"]).ok().json();
    // Every built-in agent whose CLI is missing: exit 1, with the install hint.
    for agent in list["agents"].as_array().unwrap() {
        let id = agent["id"].as_str().unwrap();
        if id == "aiswitch-agent" {
            continue; // shipped beside aiswitch: always there
        }
        let run = common::Run::from(
            home.cmd(&["agents", "check", id])
                .env("PATH", "/nonexistent")
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, Some(1), "{id}: {run:?}");
        assert!(
            run.stderr.contains("is not installed") && run.stderr.contains("install it with"),
            "{id}: {}",
            run.stderr
        );
    }
    // A per-task CLI without --prompt is started with its version flag, and says so.
    let bin = fake_clis(&home);
    let checked = common::Run::from(
        home.cmd(&["agents", "check", "claude", "--json"])
            .env("PATH", &bin)
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(checked["checked"], "version");
    assert_eq!(checked["version"], "2.0.99 (Claude Code)");
    let text = common::Run::from(
        home.cmd(&["agents", "check", "claude"])
            .env("PATH", &bin)
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        text.stdout
            .contains("claude ok: installed and runs: 2.0.99 (Claude Code) (no prompt sent"),
        "{}",
        text.stdout
    );
    // One that prints nothing in time is not ok.
    let hung = common::Run::from(
        home.cmd(&["agents", "check", "codex"])
            .env("PATH", &bin)
            .output()
            .unwrap(),
    );
    assert_eq!(hung.code, Some(1), "{hung:?}");
    assert!(
        hung.stderr
            .contains("`codex --version` printed no version within 3 s"),
        "{}",
        hung.stderr
    );
}

#[test]
fn list_probes_a_cli_once_and_again_only_when_it_changes() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let counter = home.root().join("starts");
    let cli = home.root().join("countme");
    let install = |version: &str| {
        std::fs::write(
            &cli,
            format!(
                "#!/bin/sh\necho started >> '{}'\necho '{version}'\n",
                counter.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    install("countme 1.0.0");
    let path = manifest(
        &home,
        "countme.toml",
        &format!(
            "id = \"countme\"\nname = \"Count me\"\ncommand = \"{}\"\ndriver = \"claude-stream-json\"\nlifetime = \"per-task\"\n[inject.anthropic]\n",
            cli.display()
        ),
    );
    home.run(&["agents", "register", &path]).ok();
    let starts = || {
        std::fs::read_to_string(&counter)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let version = || {
        let list = home.run(&["agents", "list", "--json"]).ok().json();
        let agent = list["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "countme")
            .cloned()
            .unwrap();
        agent["version"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(version(), "countme 1.0.0");
    assert_eq!(starts(), 1);
    assert_eq!(version(), "countme 1.0.0", "from the cache");
    home.run(&["doctor", "--json"]);
    assert_eq!(
        starts(),
        1,
        "neither a second listing nor doctor starts it again"
    );
    install("countme 1.1.0-upgraded");
    assert_eq!(version(), "countme 1.1.0-upgraded");
    assert_eq!(starts(), 2, "upgraded in place: probed again");
}
