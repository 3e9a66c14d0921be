//! `export`, `import` and `import --legacy` between real homes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;

#[test]
fn export_all_then_import_into_a_fresh_home() {
    let from = Home::new();
    from.add_secret_preset("a", "sk-export-1111111111-aaaa");
    from.run(&[
        "add",
        "b",
        "PLAIN",
        "v",
        "HIDDEN_TOKEN",
        "tok-22222222222222",
        "--tag",
        "t1",
    ])
    .ok();
    let file = from.root().join("presets.toml");
    let file_arg = file.display().to_string();
    let summary = from
        .run(&[
            "export",
            "--all",
            "-o",
            &file_arg,
            "--include-secrets",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(summary["presets"], serde_json::json!(["a", "b"]));

    let to = Home::new();
    let dry = to
        .run(&["import", &file_arg, "--dry-run", "--json"])
        .ok()
        .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["presets"][0]["action"], "added");
    assert!(
        !to.aiswitch_home().join("config/presets").exists(),
        "dry run writes nothing"
    );

    to.run(&["import", &file_arg]).ok();
    let shown = to
        .run(&["show", "a", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(shown["api_key"], "sk-export-1111111111-aaaa");
    let b = to
        .run(&["show", "b", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(b["env"]["HIDDEN_TOKEN"], "tok-22222222222222");
    assert_eq!(b["tags"], serde_json::json!(["t1"]));

    let again = to.run(&["import", &file_arg]);
    assert_eq!(again.code, Some(1), "existing presets need --force");
    let forced = to
        .run(&["import", &file_arg, "--force", "--json"])
        .ok()
        .json();
    assert_eq!(forced["presets"][0]["action"], "replaced");
}

#[test]
fn export_without_secrets_says_what_is_missing_on_import() {
    let from = Home::new();
    from.add_secret_preset("a", "sk-export-3333333333-cccc");
    let bundle = from.run(&["export", "a"]).ok();
    assert!(!bundle.stdout.contains("sk-export"), "secret left out");
    assert!(bundle.stderr.contains("--include-secrets"));
    let file = from.root().join("a.toml");
    std::fs::write(&file, &bundle.stdout).unwrap();

    let to = Home::new();
    let run = to.run(&["import", &file.display().to_string()]).ok();
    assert!(run.stderr.contains("without api_key"), "{run:?}");
    let shown = to.run(&["show", "a", "--json"]).ok().json();
    assert_eq!(
        shown["api_key"],
        serde_json::Value::Null,
        "no placeholder stored as a key"
    );
    assert_eq!(shown["base_url"], "https://api.example.com/anthropic");
}

#[test]
fn legacy_yaml_presets_import() {
    let home = Home::new();
    let dir = home.user_home().join(".config/aiswitch/presets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("glm.yaml"),
        "name: glm\ndescription: Zhipu GLM via Anthropic API\nvariables:\n  ANTHROPIC_BASE_URL: https://open.bigmodel.cn/api/anthropic\n  ANTHROPIC_AUTH_TOKEN: legacy-token-0000000000\n  API_TIMEOUT_MS: 3000000\ntags:\n  - cn\n  - glm\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("openrouter.yml"),
        "name: openrouter\ndescription: ''\nvariables:\n  OPENAI_BASE_URL: https://openrouter.ai/api/v1\n  OPENAI_API_KEY: sk-or-legacy-00000000\ntags: []\n",
    )
    .unwrap();
    let imported = home.run(&["import", "--legacy", "--json"]).ok().json();
    assert_eq!(imported["presets"].as_array().unwrap().len(), 2);
    let glm = home
        .run(&["show", "glm", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(glm["kind"], "anthropic");
    assert_eq!(glm["description"], "Zhipu GLM via Anthropic API");
    assert_eq!(
        glm["env"]["API_TIMEOUT_MS"], "3000000",
        "numbers become strings"
    );
    assert_eq!(
        glm["applies"]["ANTHROPIC_AUTH_TOKEN"],
        "legacy-token-0000000000"
    );
    assert_eq!(glm["tags"], serde_json::json!(["cn", "glm"]));
    let or = home.run(&["show", "openrouter", "--json"]).ok().json();
    assert_eq!(or["kind"], "openai");

    let run = home
        .run(&["apply", "glm", "--", "sh", "-c", "echo $ANTHROPIC_BASE_URL"])
        .ok();
    assert_eq!(
        run.stdout.trim(),
        "https://open.bigmodel.cn/api/anthropic",
        "sets what it set before"
    );
    // The URL became the preset's field, so Claude Code's settings file gets it too.
    assert_eq!(glm["base_url"], "https://open.bigmodel.cn/api/anthropic");
}

#[test]
fn legacy_import_looks_in_the_config_directory_and_says_where_it_looked() {
    let home = Home::new();
    let config = home.root().join("old-aiswitch");
    std::fs::create_dir_all(config.join("presets")).unwrap();
    std::fs::write(
        config.join("presets/kimi.yaml"),
        "name: kimi
variables:
  ANTHROPIC_BASE_URL: https://api.moonshot.ai/anthropic
",
    )
    .unwrap();
    let run = home
        .run(&["import", "--legacy", config.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(run["presets"][0]["name"], "kimi", "{run}");

    let empty = home.root().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = home
        .run(&["import", "--legacy", empty.to_str().unwrap()])
        .ok();
    assert!(
        run.stdout.contains(&format!(
            "no *.yaml presets in {} or {}",
            empty.display(),
            empty.join("presets").display()
        )),
        "{}",
        run.stdout
    );
}
