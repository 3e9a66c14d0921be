//! `init` (shell function) and `completions`.

use std::process::ExitCode;

use aiswitch::shell::{Shell, init_script};
use clap::Args;

use super::output::{CliError, Output};

/// Print a shell function so `aiswitch apply PRESET` changes the current shell.
///
/// Switching to another preset puts back what each variable was before aiswitch
/// set it (your own PATH or OPENAI_API_KEY), and unsets only what aiswitch added.
///
/// Add to ~/.bashrc:  eval "$(aiswitch init bash)"
/// Add to ~/.zshrc:   eval "$(aiswitch init zsh)"
/// Add to fish:       aiswitch init fish | source
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Print a shell completion script.
///
/// Example: aiswitch completions bash > ~/.local/share/bash-completion/completions/aiswitch
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn init(args: InitArgs, out: &Output) -> Result<ExitCode, CliError> {
    let script = init_script(args.shell);
    out.emit_exact(
        &serde_json::json!({ "shell": args.shell.as_str(), "script": script }),
        || script.clone(),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode, CliError> {
    let mut command = super::command_tree();
    clap_complete::generate(args.shell, &mut command, "aiswitch", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
