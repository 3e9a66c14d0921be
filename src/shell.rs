//! Shell integration: `export` lines for `eval`, and the `init` function that lets
//! `aiswitch apply <preset>` change the current shell, as the original tool did.
//!
//! The exported block also sets `AISWITCH_PRESET` and `AISWITCH_VARS` (the names it
//! set). A variable the shell held before aiswitch first set it is saved (in a shell
//! variable `__aiswitch_saved_NAME`), so the next apply that no longer sets it puts
//! the user's value back instead of unsetting it (`PATH`, a key of the user's own).

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

    /// Saves the shell's value of `name`, if it has one, before aiswitch sets it.
    fn save(self, name: &str) -> String {
        let saved = format!("{SAVED_PREFIX}{name}");
        match self {
            Self::Bash | Self::Zsh => format!(
                "if [ -n \"${{{name}+x}}\" ]; then {saved}=\"${name}\"; else unset {saved}; fi"
            ),
            Self::Fish => {
                format!("if set -q {name}; set -g {saved} ${name}; else; set -e {saved}; end")
            }
        }
    }

    /// Puts back the value saved for `name`, or unsets it when there was none.
    fn restore(self, name: &str) -> String {
        let saved = format!("{SAVED_PREFIX}{name}");
        match self {
            Self::Bash | Self::Zsh => format!(
                "if [ -n \"${{{saved}+x}}\" ]; then export {name}=\"${saved}\"; unset {saved}; else unset {name}; fi"
            ),
            Self::Fish => format!(
                "if set -q {saved}; set -gx {name} ${saved}; set -e {saved}; else; set -e {name}; end"
            ),
        }
    }
}

/// The shell variables holding what a variable was before aiswitch set it.
const SAVED_PREFIX: &str = "__aiswitch_saved_";

/// The lines that make a shell hold `vars` for `preset`: what the previous apply set
/// (`previous` is the old `AISWITCH_VARS` value) and this one does not goes back to
/// what it was before aiswitch set it; what this one sets for the first time is saved
/// first.
pub fn export_lines(
    shell: Shell,
    preset: &str,
    vars: &[(String, String)],
    previous: Option<&str>,
) -> String {
    let names: BTreeSet<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    let previous: BTreeSet<&str> = previous
        .unwrap_or_default()
        .split(':')
        .filter(|old| crate::presets::EnvVarName::parse(old).is_ok())
        .collect();
    let mut out = String::new();
    for old in previous.iter().filter(|old| !names.contains(*old)) {
        let _ = writeln!(out, "{}", shell.restore(old));
    }
    for (name, value) in vars {
        if !previous.contains(name.as_str()) {
            let _ = writeln!(out, "{}", shell.save(name));
        }
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
    fn previous_vars_are_restored_and_new_ones_saved() {
        let vars = vec![
            ("B".to_owned(), "2".to_owned()),
            ("C".to_owned(), "3".to_owned()),
        ];
        let text = export_lines(Shell::Bash, "p", &vars, Some("A:B"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("export A=\"$__aiswitch_saved_A\""),
            "{text}"
        );
        assert_eq!(
            lines[1], "export B='2'",
            "B was aiswitch's: not saved again"
        );
        assert!(lines[2].contains("__aiswitch_saved_C=\"$C\""), "{text}");
        assert!(text.contains("export AISWITCH_VARS='B:C'"));
    }
}
