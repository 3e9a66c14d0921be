//! `--project`: reports and exports narrowed to one working directory, whether the
//! usage came from an imported log (its `cwd`) or from a task aiswitch ran there.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod common;

use common::Home;
use serde_json::Value;

/// A Claude Code assistant line with `input` input tokens, run in `cwd`.
fn line(msg: &str, cwd: &str, input: u64) -> String {
    format!(
        r#"{{"type":"assistant","timestamp":"2026-11-20T10:00:00Z","requestId":"r-{msg}","sessionId":"s-{msg}","cwd":"{cwd}","message":{{"id":"{msg}","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":{input},"output_tokens":5}}}}}}"#
    ) + "\n"
}

fn input_of(report: &Value) -> u64 {
    report["total"]["tokens"]["input"].as_u64().unwrap_or(0)
}

#[test]
fn reports_and_exports_narrow_to_a_project() {
    let home = Home::new();
    let logs = home.user_home().join(".claude/projects");
    for (folder, text) in [
        (
            "-work-shop",
            line("m1", "/work/shop", 100) + &line("m2", "/work/shop", 20),
        ),
        ("-work-blog", line("m3", "/work/blog", 7)),
        // A folder whose name ends like another's is not that project.
        ("-work-myshop", line("m4", "/work/myshop", 3000)),
    ] {
        std::fs::create_dir_all(logs.join(folder)).unwrap();
        std::fs::write(logs.join(folder).join("s.jsonl"), text).unwrap();
    }
    home.run(&["usage", "import", "claude"]).ok();

    let summary = |project: &str| {
        home.run(&["tokens", "summary", "--all", "--project", project, "--json"])
            .ok()
            .json()
    };
    assert_eq!(input_of(&summary("shop")), 120, "a folder name");
    assert_eq!(input_of(&summary("/work/shop")), 120, "a full path");
    assert_eq!(input_of(&summary("/work/shop/")), 120, "a trailing slash");
    assert_eq!(input_of(&summary("blog")), 7);
    assert_eq!(input_of(&summary("nowhere")), 0);
    let everything = home
        .run(&["tokens", "summary", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(input_of(&everything), 3127);

    let daily = home
        .run(&["tokens", "daily", "--all", "--project", "shop", "--json"])
        .ok()
        .json();
    assert_eq!(input_of(&daily), 120, "{daily}");

    let export = home
        .run(&["tokens", "export", "--format", "jsonl", "--project", "shop"])
        .ok()
        .stdout;
    let rows: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r["project"] == "/work/shop"),
        "{export}"
    );
}

#[test]
fn a_task_counts_under_its_working_directory() {
    let home = Home::new();
    home.direct();
    home.run(&[
        "add",
        "p",
        "--kind",
        "anthropic",
        "--model",
        "claude-sonnet-4-5",
    ])
    .ok();
    common::reference::register(&home, "ref", &["--tokens-in", "40"], "[inject.anthropic]\n");
    let work = home.root().join("work/garden");
    std::fs::create_dir_all(&work).unwrap();
    let work = work.canonicalize().unwrap().display().to_string();
    home.run(&[
        "apply",
        "p",
        "--agents",
        "ref",
        "--task",
        "hi",
        "--workdir",
        &work,
        "--coordination-mode",
        "loose",
    ])
    .ok();
    let garden = home
        .run(&[
            "tokens",
            "summary",
            "--all",
            "--project",
            "garden",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(input_of(&garden), 40, "{garden}");
    // `.` is the directory the command runs in.
    let here = home
        .cmd(&["tokens", "summary", "--all", "--project", ".", "--json"])
        .current_dir(&work)
        .output()
        .unwrap();
    let here: Value = serde_json::from_slice(&here.stdout).unwrap();
    assert_eq!(input_of(&here), 40, "{here}");
}
