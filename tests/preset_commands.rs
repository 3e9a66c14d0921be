//! Every preset command, in text and in `--json`, against a real temp home.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

#[test]
fn add_list_show_use_current_remove() {
    let home = Home::new();
    home.add_secret_preset("deepseek", "sk-test-0123456789-a1b2");
    let added = home
        .run(&[
            "add",
            "local",
            "OLLAMA_HOST",
            "127.0.0.1",
            "--tag",
            "offline",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["action"], "added");
    assert_eq!(added["preset"]["kind"], "custom");
    assert_eq!(added["preset"]["env"]["OLLAMA_HOST"], "127.0.0.1");

    let list = home.run(&["list", "--json"]).ok().json();
    let names: Vec<&str> = list["presets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deepseek", "local"], "sorted by name");
    assert_eq!(list["current"], serde_json::Value::Null);
    assert_eq!(list["problems"].as_array().unwrap().len(), 0);
    assert_eq!(list["presets"][0]["api_key"], "sk-…a1b2");

    let text = home.run(&["list"]).ok().stdout;
    assert!(
        text.contains("deepseek") && text.contains("anthropic"),
        "{text}"
    );

    home.run(&["use", "deepseek"]).ok();
    assert_eq!(home.run(&["current"]).ok().stdout.trim(), "deepseek");
    let current = home.run(&["current", "--json"]).ok().json();
    assert_eq!(current["current"], "deepseek");
    assert_eq!(current["exists"], true);
    let list = home.run(&["list", "--json"]).ok().json();
    assert_eq!(list["presets"][0]["current"], true);

    let shown = home.run(&["show", "deepseek", "--json"]).ok().json();
    assert_eq!(shown["base_url"], "https://api.example.com/anthropic");
    assert_eq!(shown["model"], "m-1");
    assert_eq!(shown["applies"]["ANTHROPIC_MODEL"], "m-1");
    assert_eq!(shown["applies"]["ANTHROPIC_AUTH_TOKEN"], "sk-…a1b2");
    let revealed = home
        .run(&["show", "deepseek", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(revealed["api_key"], "sk-test-0123456789-a1b2");

    let refused = home.run(&["remove", "deepseek"]);
    assert_eq!(refused.code, Some(1), "the current preset needs --force");
    let removed = home
        .run(&["remove", "deepseek", "--force", "--json"])
        .ok()
        .json();
    assert_eq!(removed["action"], "removed");
    assert_eq!(
        home.run(&["current", "--json"]).ok().json()["current"],
        serde_json::Value::Null
    );
    home.run(&["remove", "local"]).ok();
    let text = home.run(&["list"]).ok().stdout;
    assert!(text.contains("no presets yet"), "{text}");
}

#[test]
fn add_force_replaces_and_is_recorded() {
    let home = Home::new();
    home.run(&["add", "p", "A", "1"]).ok();
    let replaced = home
        .run(&["add", "p", "A", "2", "--force", "--json"])
        .ok()
        .json();
    assert_eq!(replaced["action"], "replaced");
    let shown = home.run(&["show", "p", "--json"]).ok().json();
    assert_eq!(shown["env"]["A"], "2");

    let db = rusqlite::Connection::open(home.aiswitch_home().join("data/aiswitch.db")).unwrap();
    let kinds: Vec<String> = db
        .prepare("SELECT kind FROM events ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds, ["preset_added", "preset_changed"]);
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    home.add_secret_preset("p", "sk-private-000000000");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = home.aiswitch_home();
    assert_eq!(mode(&root.join("config")), 0o700);
    assert_eq!(mode(&root.join("config/presets")), 0o700);
    assert_eq!(mode(&root.join("data")), 0o700);
    assert_eq!(mode(&root.join("config/presets/p.toml")), 0o600);
}

#[test]
fn settings_layer_file_then_env() {
    let home = Home::new();
    home.run(&["add", "p", "A", "1"]).ok();
    let config = home.aiswitch_home().join("config/config.toml");
    std::fs::write(&config, "reveal_chars = 2\n").unwrap();
    home.add_secret_preset("k", "sk-abcdefghijklmnop-wxyz");
    let shown = home.run(&["show", "k", "--json"]).ok().json();
    assert_eq!(shown["api_key"], "sk…yz", "config.toml sets reveal_chars");
    let shown: common::Run = home
        .cmd(&["show", "k", "--json"])
        .env("AISWITCH_REVEAL_CHARS", "4")
        .output()
        .unwrap()
        .into();
    assert_eq!(
        shown.json()["api_key"],
        "sk-…wxyz",
        "the env var beats the file"
    );

    std::fs::write(&config, "reveal_chars = \"many\"\n").unwrap();
    let bad = home.run(&["list"]);
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("config.toml"), "{}", bad.stderr);
}

#[test]
fn init_and_completions_print_scripts() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = home.run(&["init", shell]).ok().stdout;
        assert!(script.contains("--export --shell"), "{shell}: {script}");
        let json = home.run(&["init", shell, "--json"]).ok().json();
        assert_eq!(json["shell"], shell);
        let completion = home.run(&["completions", shell]).ok().stdout;
        assert!(
            completion.contains("apply"),
            "{shell} completion names commands"
        );
    }
}

#[test]
fn init_function_changes_the_current_shell() {
    let home = Home::new();
    home.run(&["add", "one", "ONLY_ONE", "1", "SHARED", "a"])
        .ok();
    home.run(&["add", "two", "SHARED", "b c'd"]).ok();
    let bin_dir = std::path::Path::new(common::BIN).parent().unwrap();
    let script = r#"eval "$(aiswitch init bash)"
aiswitch apply one 2>/dev/null
aiswitch apply two 2>/dev/null
echo "shared=$SHARED only_one=${ONLY_ONE-unset} preset=$AISWITCH_PRESET""#;
    let out: common::Run = home
        .cmd(&[])
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env_remove("AISWITCH_VARS")
        .output_of_bash(script);
    assert_eq!(
        out.stdout.trim(),
        "shared=b c'd only_one=unset preset=two",
        "{out:?}"
    );
}

trait BashExt {
    fn output_of_bash(&mut self, script: &str) -> common::Run;
}

impl BashExt for std::process::Command {
    /// Runs `script` in bash with this command's environment.
    fn output_of_bash(&mut self, script: &str) -> common::Run {
        let mut bash = std::process::Command::new("bash");
        bash.args(["--noprofile", "--norc", "-c", script]);
        for (key, value) in self.get_envs() {
            match value {
                Some(value) => bash.env(key, value),
                None => bash.env_remove(key),
            };
        }
        bash.output().expect("bash runs").into()
    }
}
