//! The `init` shell function in real bash, zsh and fish: switching presets in a shell
//! puts back what each variable was before aiswitch set it (the user's `PATH`, a key
//! of the user's own), instead of unsetting it.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::Home;

fn home_with_presets() -> Home {
    let home = Home::new();
    let bin = Path::new(common::BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    home.run(&[
        "add",
        "withpath",
        "PATH",
        &format!("/opt/withpath/bin:{bin}:/usr/bin:/bin"),
        "--allow-env",
        "PATH",
    ])
    .ok();
    home.run_with_stdin(
        &[
            "add",
            "openrouter",
            "--kind",
            "openai",
            "--base-url",
            "https://openrouter.ai/api/v1",
            "--api-key",
            "-",
        ],
        "sk-or-preset-key-0000",
    )
    .ok();
    home.run_with_stdin(
        &[
            "add",
            "deepseek",
            "--kind",
            "anthropic",
            "--base-url",
            "https://api.deepseek.com/anthropic",
            "--api-key",
            "-",
        ],
        "sk-ds-preset-key-0000",
    )
    .ok();
    home
}

/// Runs `script` in `shell` with the aiswitch binary on PATH, the user's own
/// `OPENAI_API_KEY` exported, and this home; returns stdout.
fn in_shell(home: &Home, shell: &str, script: &str) -> String {
    let bin = Path::new(common::BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(shell);
    if shell == "zsh" {
        cmd.arg("-f");
    }
    if shell == "fish" {
        cmd.args(["--no-config"]);
    }
    let out = cmd
        .args(["-c", script])
        .env("AISWITCH_HOME", home.aiswitch_home())
        .env("HOME", home.user_home())
        .env("XDG_CONFIG_HOME", home.user_home().join(".config"))
        .env("PATH", &path)
        .env("OPENAI_API_KEY", "user-own-key")
        .env_remove("AISWITCH_VARS")
        .env_remove("AISWITCH_PRESET")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shell} (scripts/setup.sh installs it): {e}"));
    assert!(out.status.success(), "{shell}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const POSIX: &str = r#"orig="$PATH"
eval "$(aiswitch init SHELL)"
aiswitch apply withpath 2>/dev/null
case "$PATH" in /opt/withpath/bin:*) echo "withpath: set" ;; esac
aiswitch apply deepseek 2>/dev/null
[ "$PATH" = "$orig" ] && echo "path: restored"
aiswitch apply openrouter 2>/dev/null
echo "openrouter key: $OPENAI_API_KEY"
aiswitch apply deepseek 2>/dev/null
echo "user key: $OPENAI_API_KEY"
echo "deepseek url: $ANTHROPIC_BASE_URL"
aiswitch apply withpath 2>/dev/null
echo "anthropic url: ${ANTHROPIC_BASE_URL-unset}"
"#;

const FISH: &str = r#"set -l orig (string join : $PATH)
aiswitch init fish | source
aiswitch apply withpath 2>/dev/null
if string match -q '/opt/withpath/bin*' -- $PATH[1]; echo "withpath: set"; end
aiswitch apply deepseek 2>/dev/null
if test (string join : $PATH) = $orig; echo "path: restored"; end
aiswitch apply openrouter 2>/dev/null
echo "openrouter key: $OPENAI_API_KEY"
aiswitch apply deepseek 2>/dev/null
echo "user key: $OPENAI_API_KEY"
echo "deepseek url: $ANTHROPIC_BASE_URL"
aiswitch apply withpath 2>/dev/null
if set -q ANTHROPIC_BASE_URL; echo "anthropic url: $ANTHROPIC_BASE_URL"; else; echo "anthropic url: unset"; end
"#;

const EXPECTED: &str = "withpath: set
path: restored
openrouter key: sk-or-preset-key-0000
user key: user-own-key
deepseek url: https://api.deepseek.com/anthropic
anthropic url: unset
";

#[test]
fn switching_presets_in_bash_restores_the_users_variables() {
    let home = home_with_presets();
    let out = in_shell(&home, "bash", &POSIX.replace("SHELL", "bash"));
    assert_eq!(out, EXPECTED);
}

#[test]
fn switching_presets_in_zsh_restores_the_users_variables() {
    let home = home_with_presets();
    let out = in_shell(&home, "zsh", &POSIX.replace("SHELL", "zsh"));
    assert_eq!(out, EXPECTED);
}

#[test]
fn switching_presets_in_fish_restores_the_users_variables() {
    let home = home_with_presets();
    let out = in_shell(&home, "fish", FISH);
    assert_eq!(out, EXPECTED);
}
