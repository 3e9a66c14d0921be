//! The real agent CLIs, installed from the npm registry (scripts/install-real-clis.sh,
//! pinned versions, cached), driven through aiswitch against the fake provider:
//! `aiswitch run` and `agents check` with a preset; the provider saw the preset's URL,
//! key and model (never the user's); the reply and the usage arrive; the user's own
//! config files, full of competing settings, are byte-identical afterwards; and no
//! process of the CLI is left. Prints one summary row per CLI.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fake_provider::{FakeProvider, Usage};
use home::CliHome;

/// One CLI package and how the suite drives it.
struct Case {
    /// The npm package (as in scripts/install-real-clis.sh).
    package: &'static str,
    /// The aiswitch agent for it.
    agent: &'static str,
    /// The preset kind it takes.
    kind: &'static str,
    /// Arguments for a one-shot `aiswitch run`; `None` for ACP adapters, which only
    /// speak ACP on stdio.
    run: Option<&'static [&'static str]>,
    /// Whether the agent reports token usage per turn.
    reports_usage: bool,
    /// The recorded outputs the driver tests read (`tests/fixtures/agent-output/`):
    /// file name and the arguments of `aiswitch run` after `--`.
    fixtures: &'static [(&'static str, &'static [&'static str])],
}

const CASES: [Case; 7] = [
    Case {
        package: "@anthropic-ai/claude-code",
        agent: "claude",
        kind: "anthropic",
        run: Some(&["-p", "hi", "--output-format", "json"]),
        reports_usage: true,
        fixtures: &[
            (
                "claude-stream-json.jsonl",
                &["-p", "hi", "--output-format", "stream-json", "--verbose"],
            ),
            (
                "claude-stream-json-tool.jsonl",
                &[
                    "-p",
                    "USE_BASH_TOOL",
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--allowedTools",
                    "Bash(echo:*)",
                ],
            ),
        ],
    },
    Case {
        package: "@openai/codex",
        agent: "codex",
        kind: "openai",
        run: Some(&["exec", "--json", "--skip-git-repo-check", "hi"]),
        reports_usage: true,
        fixtures: &[(
            "codex-exec-json.jsonl",
            &["exec", "--json", "--skip-git-repo-check", "hi"],
        )],
    },
    Case {
        package: "@google/gemini-cli",
        agent: "gemini",
        kind: "gemini",
        run: Some(&["-p", "hi", "--output-format", "json"]),
        reports_usage: true,
        fixtures: &[(
            "gemini-stream-json.jsonl",
            &["-p", "hi", "--output-format", "stream-json"],
        )],
    },
    Case {
        package: "@qwen-code/qwen-code",
        agent: "qwen",
        kind: "openai",
        run: Some(&["-p", "hi", "--output-format", "json"]),
        reports_usage: true,
        fixtures: &[(
            "qwen-stream-json.jsonl",
            &["-p", "hi", "--output-format", "stream-json"],
        )],
    },
    Case {
        package: "opencode-ai",
        agent: "opencode",
        kind: "openai",
        run: Some(&["run", "--format", "json", "hi"]),
        reports_usage: true,
        fixtures: &[(
            "opencode-run-json.jsonl",
            &["run", "--format", "json", "hi"],
        )],
    },
    Case {
        package: "@zed-industries/claude-agent-acp",
        agent: "claude-acp",
        kind: "anthropic",
        run: None,
        reports_usage: true,
        fixtures: &[],
    },
    Case {
        package: "@zed-industries/codex-acp",
        agent: "codex-acp",
        kind: "openai",
        run: None,
        // It sends only `usage_update {used, size}` (the context window), no
        // per-turn input/output split.
        reports_usage: false,
        fixtures: &[],
    },
];

/// The user's own settings, each competing with the preset: a different URL, key
/// and model everywhere. None may change.
const USER_FILES: [(&str, &str); 5] = [
    (
        ".claude/settings.json",
        r#"{
  "env": {
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/user-url",
    "ANTHROPIC_AUTH_TOKEN": "user-secret-token",
    "ANTHROPIC_API_KEY": "user-secret-key",
    "ANTHROPIC_MODEL": "user-model"
  },
  "hooks": {},
  "permissions": { "allow": ["Bash(ls:*)"] }
}
"#,
    ),
    (
        ".codex/config.toml",
        r#"model = "user-model"
model_provider = "user"

[model_providers.user]
name = "user"
base_url = "http://127.0.0.1:9/user-url"
env_key = "USER_SECRET_KEY"
wire_api = "responses"

[mcp_servers.mine]
command = "true"
"#,
    ),
    (
        ".gemini/settings.json",
        r#"{
  "security": { "auth": { "selectedType": "oauth-personal" } },
  "model": { "name": "user-model" }
}
"#,
    ),
    (
        ".qwen/settings.json",
        r#"{
  "$version": 4,
  "security": { "auth": { "selectedType": "qwen-oauth" } },
  "model": { "name": "user-model" }
}
"#,
    ),
    (
        ".config/opencode/opencode.json",
        r#"{
  "$schema": "https://opencode.ai/config.json",
  "model": "user/user-model",
  "provider": {
    "user": {
      "npm": "@ai-sdk/openai-compatible",
      "options": { "baseURL": "http://127.0.0.1:9/user-url", "apiKey": "user-secret-key" },
      "models": { "user-model": {} }
    }
  }
}
"#,
    ),
];

/// Provider variables left in the user's shell, each pointing at the user's own
/// account, another provider or another cloud. A run with a preset must carry none
/// of them (the checks below: only the preset's key and model reach the provider).
const STALE_SHELL: [(&str, &str); 10] = [
    ("ANTHROPIC_API_KEY", "user-secret-stale-anthropic"),
    ("ANTHROPIC_SMALL_FAST_MODEL", "user-model"),
    ("CLAUDE_CODE_USE_BEDROCK", "1"),
    ("OPENAI_API_KEY", "user-secret-stale-openai"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:9/stale-url"),
    ("OPENAI_MODEL", "user-model"),
    ("GOOGLE_API_KEY", "user-secret-stale-google"),
    ("GOOGLE_GENAI_USE_VERTEXAI", "true"),
    ("GEMINI_MODEL", "user-model"),
    ("AISWITCH_VARS", "ANTHROPIC_API_KEY:OPENAI_BASE_URL"),
];

/// What one CLI did.
struct Row {
    agent: &'static str,
    version: String,
    outcome: Result<(), String>,
    seconds: f64,
}

#[path = "real_cli/home.rs"]
mod home;
#[path = "real_cli/login.rs"]
mod login;
#[path = "real_cli/translate.rs"]
mod translate;

/// Installs the CLIs and runs `exercise` on `agent`'s case; fails with its reason.
fn with_cli(agent: &str, exercise: fn(&Case) -> Result<(), String>) {
    install();
    let case = CASES.iter().find(|c| c.agent == agent).unwrap();
    if let Err(why) = exercise(case) {
        panic!("{why}");
    }
}

/// Installs the pinned CLIs into the cache (quick when they are there).
fn install() {
    let install = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/install-real-clis.sh"
        ))
        .env("AISWITCH_REAL_CLI_CACHE", cache_dir())
        .status()
        .unwrap();
    assert!(install.success(), "installing the real CLIs failed");
}

#[test]
fn real_cli_suite() {
    install();

    let mut rows = Vec::new();
    let mut recorded = Vec::new();
    for case in &CASES {
        let started = Instant::now();
        let mut version = String::from("?");
        let outcome = exercise(case, &mut version, &mut recorded);
        rows.push(Row {
            agent: case.agent,
            version,
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    let mut summary = String::from("\nreal-CLI suite\n");
    summary.push_str(&format!(
        "{:<12} {:<42} {:<5} {:>7}\n",
        "agent", "version", "ok", "seconds"
    ));
    for row in &rows {
        summary.push_str(&format!(
            "{:<12} {:<42} {:<5} {:>7.1}\n",
            row.agent,
            row.version,
            if row.outcome.is_ok() { "ok" } else { "FAIL" },
            row.seconds
        ));
    }
    for row in &rows {
        if let Err(why) = &row.outcome {
            summary.push_str(&format!("{}: {why}\n", row.agent));
        }
    }
    eprintln!("{summary}");
    let passed = rows.iter().filter(|r| r.outcome.is_ok()).count();
    eprintln!("real-cli: {passed} passed, {} failed", rows.len() - passed);
    assert_eq!(passed, rows.len(), "{summary}");
    if let Some(dir) = std::env::var_os("AISWITCH_RECORD_FIXTURES") {
        write_fixtures(Path::new(&dir), &recorded);
    }
}

/// One CLI output recorded for the driver tests.
struct Recorded {
    file: &'static str,
    version: String,
    /// The `aiswitch run` command that produced it.
    command: String,
    /// What aiswitch started (`--print-command`), secrets as `"$VAR"`.
    started: String,
    output: String,
}

/// Writes the recorded outputs and their README (`scripts/record-fixtures.sh`).
fn write_fixtures(dir: &Path, recorded: &[Recorded]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut readme = String::from(
        "# Real agent CLI output\n\n\
         Recorded by `scripts/record-fixtures.sh` (the real-CLI suite, `tests/real_cli.rs`):\n\
         each CLI at the version pinned in `scripts/install-real-clis.sh`, started by\n\
         `aiswitch run` with a preset pointing at the suite's fake provider on 127.0.0.1\n\
         (`tests/common/fake_provider.rs`). Each file is the CLI's stdout, one JSON object a\n\
         line; the only edits are the temporary home shortened to `/home/user` and the\n\
         provider's port shown as `PORT`.\n\n\
         The fake provider answers every model call with the text `FAKE_REPLY_<n>` and\n\
         usage of 11 input and 7 output tokens, so usage fields in these files are exact.\n\
         A prompt containing `USE_BASH_TOOL` makes it call the agent's `Bash` tool once.\n\n\
         Refresh after bumping a pinned version: `./scripts/record-fixtures.sh`, then fix\n\
         what `cargo test fixture_tests` says changed.\n\n\
         | file | CLI and version | command | what aiswitch started |\n|---|---|---|---|\n",
    );
    for r in recorded {
        std::fs::write(dir.join(r.file), &r.output).unwrap();
        readme.push_str(&format!(
            "| {} | {} | `{}` | `{}` |\n",
            r.file,
            r.version,
            r.command,
            r.started.replace('|', "\\|")
        ));
    }
    std::fs::write(dir.join("README.md"), readme).unwrap();
    eprintln!(
        "recorded {} fixture file(s) into {}",
        recorded.len(),
        dir.display()
    );
}

fn cache_dir() -> PathBuf {
    std::env::var_os("AISWITCH_REAL_CLI_CACHE").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".cache/aiswitch/real-cli")
        },
        PathBuf::from,
    )
}

/// The `.bin` directory of an installed package, at the version
/// scripts/install-real-clis.sh pins.
fn bin_dir(package: &str) -> PathBuf {
    let script = include_str!("../scripts/install-real-clis.sh");
    let spec = script
        .lines()
        .map(str::trim)
        .find(|line| {
            line.strip_prefix(package)
                .is_some_and(|rest| rest.starts_with('@'))
        })
        .unwrap_or_else(|| panic!("{package} is not pinned in scripts/install-real-clis.sh"));
    cache_dir()
        .join(spec.replace(['/', '@'], "_"))
        .join("node_modules/.bin")
}

/// The installed version, from the package's own package.json.
fn package_version(package: &str) -> String {
    let manifest = bin_dir(package)
        .parent()
        .unwrap()
        .join(package)
        .join("package.json");
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(|v| format!("{package}@{v}")))
        .unwrap_or_else(|| "?".into())
}

fn exercise(case: &Case, version: &mut String, recorded: &mut Vec<Recorded>) -> Result<(), String> {
    let home = CliHome::new(case);
    let provider = FakeProvider::start(Usage::default());
    let before = home.user_files();
    let key = format!("sk-preset-{}", case.agent);
    let model = format!("{}-preset-model", case.agent);
    let base_url = match case.kind {
        "openai" => format!("{}/v1", provider.url()),
        _ => provider.url(),
    };

    let (code, _, err) = home.run(
        &[
            "add",
            "p",
            "--kind",
            case.kind,
            "--base-url",
            &base_url,
            "--model",
            &model,
            "--api-key",
            "-",
        ],
        Some(&key),
    )?;
    check(code == 0, || format!("add failed: {err}"))?;

    let (_, list, _) = home.run(&["agents", "list", "--json"], None)?;
    let list: serde_json::Value = serde_json::from_str(&list).map_err(|e| e.to_string())?;
    let found = list["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["id"] == case.agent))
        .is_some_and(|a| a["path"].is_string());
    check(found, || {
        format!("aiswitch does not find {} on PATH", case.agent)
    })?;
    *version = package_version(case.package);
    // The listed version is the package's, and agrees with what `--version` prints
    // (the ACP adapters print none: the package is their only source).
    let entry = list["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["id"] == case.agent))
        .cloned()
        .unwrap_or_default();
    let listed = entry["version"].as_str().unwrap_or_default().to_owned();
    check(version.ends_with(&format!("@{listed}")), || {
        format!("agents list says version {listed:?}, the package is {version}")
    })?;
    let printed = Command::new(entry["path"].as_str().unwrap_or_default())
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let printed = String::from_utf8_lossy(&printed.stdout);
    check(
        printed.trim().is_empty() || printed.contains(&listed),
        || format!("`--version` prints {printed:?}, agents list says {listed:?}"),
    )?;

    if let Some(args) = case.run {
        let mut full = vec!["run", case.agent, "--preset", "p", "--"];
        full.extend_from_slice(args);
        let (code, out, err) = home.run(&full, None)?;
        check(code == 0, || {
            format!("`aiswitch run` exited {code}: {}", tail(&err))
        })?;
        check(out.contains("FAKE_REPLY_"), || {
            format!("`aiswitch run` printed no reply: {}", tail(&out))
        })?;
    }
    if let Some(args) = case.run {
        // `apply PRESET -- CLI` reaches the CLI the same way, through the gateway.
        let program = entry["path"].as_str().unwrap_or(case.agent).to_owned();
        let mut full = vec!["apply", "p", "--", program.as_str()];
        full.extend_from_slice(args);
        let (code, out, err) = home.run(&full, None)?;
        check(code == 0, || {
            format!("`aiswitch apply -- CLI` exited {code}: {}", tail(&err))
        })?;
        check(out.contains("FAKE_REPLY_"), || {
            format!("`aiswitch apply -- CLI` printed no reply: {}", tail(&out))
        })?;
    }
    for (file, args) in case.fixtures {
        recorded.push(record(&home, case, &provider, file, args, version)?);
    }

    let (code, out, err) = home.run(
        &[
            "agents", "check", case.agent, "--preset", "p", "--prompt", "hi", "--json",
        ],
        None,
    )?;
    check(code == 0, || {
        format!("`agents check` exited {code}: {}{}", tail(&out), tail(&err))
    })?;
    let report: serde_json::Value =
        serde_json::from_str(&out).map_err(|e| format!("check --json: {e}: {out}"))?;
    check(
        report["reply"]
            .as_str()
            .is_some_and(|r| r.contains("FAKE_REPLY_")),
        || format!("no reply in {report}"),
    )?;
    check(
        report["preset"] == "p" && report["agent"] == case.agent,
        || format!("wrong agent/preset in {report}"),
    )?;
    if case.reports_usage {
        let input = report["usage"]["input_tokens"].as_u64().unwrap_or(0);
        let output = report["usage"]["output_tokens"].as_u64().unwrap_or(0);
        // 11 input and 7 output tokens per provider call, possibly several calls.
        check(
            input > 0 && input.is_multiple_of(11) && output > 0 && output.is_multiple_of(7),
            || format!("usage is not the provider's: {}", report["usage"]),
        )?;
    }

    let calls = provider.model_calls();
    check(!calls.is_empty(), || {
        "the provider saw no model call".into()
    })?;
    for call in &calls {
        check(
            call.auth.as_deref().is_some_and(|a| a.ends_with(&key)),
            || {
                format!(
                    "{} {} came with auth {:?}",
                    call.method, call.uri, call.auth
                )
            },
        )?;
        check(
            call.headers.iter().all(|(_, v)| !v.contains("user-secret")),
            || format!("{} {} carried the user's own key", call.method, call.uri),
        )?;
    }
    check(
        calls
            .iter()
            .any(|c| c.model.as_deref().is_some_and(|m| m.contains(&model))),
        || {
            let models: Vec<_> = calls.iter().map(|c| c.model.clone()).collect();
            format!("no call asked for the preset's model {model}: {models:?}")
        },
    )?;
    check(
        calls
            .iter()
            .all(|c| !c.model.as_deref().is_some_and(|m| m.contains("user-model"))),
        || "a call asked for the user's own model".into(),
    )?;

    let after = home.user_files();
    for ((file, old), (_, new)) in before.iter().zip(&after) {
        check(old == new, || format!("~/{file} changed"))?;
    }

    // Every launch went through the gateway (`agents check` in its own process,
    // `run` through the daemon it started, stopped here so all is recorded): the
    // ledger holds every call the provider answered, the CLI's extra calls too,
    // with the provider's figures (11 in, 7 out per call), whatever the CLI
    // itself reported.
    home.stop_daemon();
    let answered = provider.model_calls().len() as u64;
    let (_, jsonl, _) = home.run(&["tokens", "export", "--format", "jsonl"], None)?;
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &serde_json::Value| r["count_source"] == "gateway")
        .collect();
    let sum = |field: &str| {
        rows.iter()
            .map(|r| r[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    check(
        rows.len() as u64 == answered
            && sum("input") == 11 * answered
            && sum("output") == 7 * answered,
        || {
            format!(
                "the ledger has {} gateway rows ({} in, {} out) for {answered} provider calls",
                rows.len(),
                sum("input"),
                sum("output")
            )
        },
    )?;
    // The real key is in the preset's own file and nowhere else aiswitch wrote: not
    // in the files the CLIs read, the logs, the database.
    let config = home.dir.path().join("aiswitch");
    for path in walk(&config) {
        let holds =
            std::fs::read(&path).is_ok_and(|b| b.windows(key.len()).any(|w| w == key.as_bytes()));
        check(!holds || path.ends_with("config/presets/p.toml"), || {
            format!("{} holds the real key", path.display())
        })?;
    }
    // Nothing of the CLI is left (the codex-acp wrapper's native grandchild included).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = home.processes();
        if left.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let names: Vec<String> = left
                .iter()
                .map(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                        .unwrap_or_default()
                        .replace('\0', " ")
                })
                .collect();
            for pid in &left {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            return Err(format!("processes left behind: {names:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Runs one fixture command and checks its output is what the drivers read: JSON
/// lines carrying the provider's reply.
fn record(
    home: &CliHome,
    case: &Case,
    provider: &FakeProvider,
    file: &'static str,
    args: &[&str],
    version: &str,
) -> Result<Recorded, String> {
    let mut full = vec!["run", case.agent, "--preset", "p", "--"];
    full.extend_from_slice(args);
    let (code, out, err) = home.run(&full, None)?;
    check(code == 0, || {
        format!("{file}: `aiswitch run` exited {code}: {}", tail(&err))
    })?;
    let output = home.anonymise(&out, provider);
    check(output.contains("FAKE_REPLY_"), || {
        format!("{file}: no reply in {}", tail(&output))
    })?;
    if let Some(bad) = output
        .lines()
        .find(|line| serde_json::from_str::<serde_json::Value>(line).is_err())
    {
        return Err(format!("{file}: not a JSON line: {bad}"));
    }
    let mut print = vec!["run", case.agent, "--preset", "p", "--print-command", "--"];
    print.extend_from_slice(args);
    let (_, started, _) = home.run(&print, None)?;
    Ok(Recorded {
        file,
        version: version.to_owned(),
        command: format!("aiswitch {}", full.join(" ")),
        // The command itself (the comment lines before it name files and secrets),
        // without the `-u NAME` of the suite's deliberately stale shell.
        started: STALE_SHELL.iter().fold(
            home.anonymise(started.trim().lines().last().unwrap_or_default(), provider),
            |line, (name, _)| line.replace(&format!("-u {name} "), ""),
        ),
        output,
    })
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join(" | ")
}
