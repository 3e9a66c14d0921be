//! Shell integration: `export` lines for `eval`, and the `init` function that lets
//! `aiswitch apply <preset>` change the current shell, as the original tool did.
//!
//! The exported block also sets `AISWITCH_PRESET` and `AISWITCH_VARS` (the names it
//! set), so the next apply first unsets what the previous one set.

use std::collections::BTreeSet;
use std::fmt::Write;

/// The env var naming the preset applied in this shell.
pub const PRESET_VAR: &str = "AISWITCH_PRESET";
/// The env var listing, colon-separated, the names the last apply set.
pub const VARS_VAR: &str = "AISWITCH_VARS";

/// A shell aiswitch can emit code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

impl Shell {
    /// The shell's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bash => "bash",
            Self::Zsh => "zsh",
            Self::Fish => "fish",
        }
    }

    /// Quotes `value` so the shell reads it back verbatim.
    pub fn quote(self, value: &str) -> String {
        match self {
            Self::Bash | Self::Zsh => format!("'{}'", value.replace('\'', r"'\''")),
            Self::Fish => format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'")),
        }
    }

    fn set(self, name: &str, value: &str) -> String {
        match self {
            Self::Bash | Self::Zsh => format!("export {name}={}", self.quote(value)),
            Self::Fish => format!("set -gx {name} {}", self.quote(value)),
        }
    }

    fn unset(self, name: &str) -> String {
        match self {
            Self::Bash | Self::Zsh => format!("unset {name}"),
            Self::Fish => format!("set -e {name}"),
        }
    }
}

/// The lines that make a shell hold `vars` for `preset`, after unsetting what the
/// previous apply set (`previous` is the old `AISWITCH_VARS` value) and this one does
/// not.
pub fn export_lines(
    shell: Shell,
    preset: &str,
    vars: &[(String, String)],
    previous: Option<&str>,
) -> String {
    let names: BTreeSet<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    let mut out = String::new();
    for old in previous.unwrap_or_default().split(':') {
        if !old.is_empty() && !names.contains(old) && crate::presets::EnvVarName::parse(old).is_ok()
        {
            let _ = writeln!(out, "{}", shell.unset(old));
        }
    }
    for (name, value) in vars {
        let _ = writeln!(out, "{}", shell.set(name, value));
    }
    let list: Vec<&str> = names.into_iter().collect();
    let _ = writeln!(out, "{}", shell.set(PRESET_VAR, preset));
    let _ = writeln!(out, "{}", shell.set(VARS_VAR, &list.join(":")));
    out
}

/// The shell function to put in the shell's rc file with
/// `eval "$(aiswitch init bash)"` (or `aiswitch init fish | source`).
pub fn init_script(shell: Shell) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!(
            r#"# aiswitch shell integration: `aiswitch apply PRESET` changes this shell.
aiswitch() {{
  if [ "$#" -eq 2 ] && [ "$1" = "apply" ] && [ "${{2#-}}" = "$2" ]; then
    local __aiswitch_out
    __aiswitch_out="$(command aiswitch apply "$2" --export --shell {name})" || return $?
    eval "$__aiswitch_out"
    echo "aiswitch: this shell now uses preset $2" >&2
  else
    command aiswitch "$@"
  fi
}}
"#,
            name = shell.as_str()
        ),
        Shell::Fish => r#"# aiswitch shell integration: `aiswitch apply PRESET` changes this shell.
function aiswitch
    if test (count $argv) -eq 2; and test "$argv[1]" = apply; and not string match -q -- '-*' $argv[2]
        set -l out (command aiswitch apply $argv[2] --export --shell fish); or return $status
        printf '%s\n' $out | source
        echo "aiswitch: this shell now uses preset $argv[2]" >&2
    else
        command aiswitch $argv
    end
end
"#
        .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(Shell::Bash.quote("it's"), r"'it'\''s'");
        assert_eq!(Shell::Fish.quote(r"a\'b"), r"'a\\\'b'");
    }

    #[test]
    fn previous_vars_are_unset() {
        let vars = vec![("B".to_owned(), "2".to_owned())];
        let text = export_lines(Shell::Bash, "p", &vars, Some("A:B"));
        assert!(text.starts_with("unset A\nexport B='2'\n"), "{text}");
        assert!(text.contains("export AISWITCH_VARS='B'"));
    }
}
