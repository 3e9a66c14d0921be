//! aiswitch never destroys a user's work: `tasks clean` leaves running tasks alone,
//! `import --force` keeps the keys an export withheld, and a strict task is all or
//! nothing in the user's own workdir.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Home, procs};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A git repository with `a.txt` committed and then edited (uncommitted).
fn repo_with_uncommitted_edit(home: &Home) -> std::path::PathBuf {
    let repo = home.root().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "--quiet"]);
    std::fs::write(repo.join("a.txt"), "committed\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "--quiet", "-m", "init"]);
    std::fs::write(repo.join("a.txt"), "the user's uncommitted edit\n").unwrap();
    repo
}

#[test]
fn tasks_clean_leaves_a_running_tasks_worktree_alone() {
    let home = Home::new();
    home.run(&["add", "p", "FOO", "bar"]).ok();
    common::reference::register(
        &home,
        "slow",
        &["--latency-ms", "3000"],
        "[inject.custom]\n",
    );
    let repo = repo_with_uncommitted_edit(&home);
    let child = home
        .cmd(&[
            "apply",
            "p",
            "--agents",
            "slow",
            "--task",
            "write NOTE.md written while clean ran",
            "--workdir",
            repo.to_str().unwrap(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut id = String::new();
    assert!(procs::eventually(Duration::from_secs(10), || {
        let list = home
            .run(&["tasks", "list", "--status", "running", "--json"])
            .ok()
            .json();
        match list["tasks"][0]["id"].as_str() {
            Some(found) => {
                id = found.to_owned();
                true
            }
            None => false,
        }
    }));
    let worktree = home
        .aiswitch_home()
        .join("data/worktrees")
        .join(&id)
        .join("slow");
    assert!(procs::eventually(Duration::from_secs(10), || worktree.is_dir()));

    let clean = home.run(&["tasks", "clean"]).ok();
    assert!(
        clean
            .stdout
            .contains(&format!("left those of {id} (still running)")),
        "{}",
        clean.stdout
    );
    assert!(worktree.is_dir(), "the running task's worktree stays");
    let one = home.run(&["tasks", "clean", &id]);
    assert_eq!(one.code, Some(1), "{one:?}");
    assert!(one.stderr.contains("still running"), "{}", one.stderr);
    let missing = home.run(&["tasks", "clean", "t-no-such-task"]);
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );

    let out = child.wait_with_output().unwrap();
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(
        result["runs"][0]["changed_files"],
        serde_json::json!(["NOTE.md"]),
        "{result}"
    );
    // Finished, it can be cleaned.
    let cleaned = home.run(&["tasks", "clean", &id, "--json"]).ok().json();
    assert_eq!(cleaned["cleaned"], serde_json::json!([id]));
    assert!(!worktree.exists());
}

#[test]
fn import_force_keeps_the_keys_an_export_withheld() {
    let home = Home::new();
    home.add_secret_preset("a", "sk-stored-key-0000000000");
    let file = home.root().join("p.toml");
    home.run(&["export", "--all", "-o", file.to_str().unwrap()])
        .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("redacted = [\"api_key\"]"), "{text}");
    // A colleague changed the model in the shared file.
    std::fs::write(&file, text.replace("m-1", "m-2")).unwrap();

    let dry = home.run(&["import", file.to_str().unwrap(), "--force", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert!(
        dry.stdout.contains("model     m-2  (changed, was m-1)"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("(kept: withheld by the export)"),
        "{}",
        dry.stdout
    );

    home.run(&["import", file.to_str().unwrap(), "--force"])
        .ok();
    let shown = home
        .run(&["show", "a", "--show-secrets", "--json"])
        .ok()
        .json();
    assert_eq!(
        shown["api_key"], "sk-stored-key-0000000000",
        "the key stays"
    );
    assert_eq!(shown["model"], "m-2", "the rest is imported");
}

#[test]
fn a_dry_run_goes_on_past_the_first_conflict() {
    let home = Home::new();
    home.run(&["add", "x", "A", "1"]).ok();
    home.run(&["add", "y", "B", "1"]).ok();
    let file = home.root().join("both.toml");
    std::fs::write(
        &file,
        "format = \"aiswitch-presets\"\nversion = 1\n[[preset]]\nname = \"x\"\nkind = \"custom\"\n[preset.env]\nA = \"2\"\n[[preset]]\nname = \"y\"\nkind = \"custom\"\n[preset.env]\nB = \"1\"\nC = \"3\"\n",
    )
    .unwrap();
    let dry = home.run(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(dry.code, Some(2), "{dry:?}");
    for line in [
        "would be refused x: preset x already exists",
        "env.A  2  (changed, was 1)",
        "would be refused y: preset y already exists",
        "env.B  1  (unchanged)",
        "env.C  3  (new)",
    ] {
        assert!(dry.stdout.contains(line), "{line}: {}", dry.stdout);
    }
}

fn register_writer_and_broken(home: &Home) {
    common::reference::register(home, "writer", &[], "[inject.custom]\n");
    common::reference::register(home, "broken", &["--error-every", "1"], "[inject.custom]\n");
}

#[test]
fn a_failed_strict_task_puts_the_workdir_back() {
    let home = Home::new();
    home.run(&["add", "p", "FOO", "bar"]).ok();
    register_writer_and_broken(&home);
    let repo = repo_with_uncommitted_edit(&home);
    let run = home.run(&[
        "apply",
        "p",
        "--agents",
        "writer,broken",
        "--sequential",
        "--coordination-mode",
        "strict",
        "--task",
        "write a.txt overwritten by the agent",
        "--workdir",
        repo.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let result = run.json();
    assert_eq!(result["status"], "failed");
    assert_eq!(
        result["runs"][0]["changed_files"],
        serde_json::json!(["a.txt"]),
        "what the first agent wrote is listed"
    );
    assert_eq!(result["restored"], serde_json::json!(["a.txt"]));
    assert_eq!(
        std::fs::read_to_string(repo.join("a.txt")).unwrap(),
        "the user's uncommitted edit\n",
        "all or nothing: the user's edit is back"
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]), " M a.txt\n");
}

#[test]
fn loose_and_strict_tasks_list_what_they_changed() {
    let home = Home::new();
    home.run(&["add", "p", "FOO", "bar"]).ok();
    register_writer_and_broken(&home);
    let repo = repo_with_uncommitted_edit(&home);
    for mode in ["loose", "strict"] {
        let result = home
            .run(&[
                "apply",
                "p",
                "--agents",
                "writer",
                "--coordination-mode",
                mode,
                "--task",
                &format!("write {mode}.txt hello"),
                "--workdir",
                repo.to_str().unwrap(),
                "--json",
            ])
            .ok()
            .json();
        assert_eq!(
            result["runs"][0]["changed_files"],
            serde_json::json!([format!("{mode}.txt")]),
            "{mode}: {result}"
        );
        assert!(repo.join(format!("{mode}.txt")).exists(), "{mode}: kept");
    }
}
