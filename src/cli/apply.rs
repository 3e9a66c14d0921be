//! `apply`: run one command with a preset's env, or print `export` lines for `eval`.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use aiswitch::presets::{PresetName, Secrets};
use aiswitch::shell::{PRESET_VAR, Shell, VARS_VAR, export_lines};
use clap::Args;

use super::output::{CliError, Output, engine};

/// Exit code when the command cannot be found, as env(1) and shells use.
const EXIT_NOT_FOUND: u8 = 127;
/// Exit code when the command exists but cannot be run.
const EXIT_CANNOT_RUN: u8 = 126;

/// Run a command with a preset's env on top of the current env, print the env as
/// `export` lines, or run a task on several agents.
///
/// The command replaces aiswitch (exec), so it gets signals and its exit code
/// directly. Examples:
///   aiswitch apply deepseek -- claude -p "hello"
///   eval "$(aiswitch apply deepseek --export)"
///   aiswitch apply deepseek --agents claude,codex:openai --task "add tests"
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The preset.
    preset: String,
    /// Print `export` lines for `eval` instead of running a command.
    #[arg(long, conflicts_with = "command")]
    export: bool,
    /// Shell syntax for --export (default: from $SHELL, else bash).
    #[arg(long, value_enum, requires = "export")]
    shell: Option<Shell>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
    /// Run a task on these agents instead: `a,b:other-preset,c` (the positional preset
    /// is the default).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["export", "command"])]
    agents: Vec<String>,
    /// Agents work at once (the default).
    #[arg(long, conflicts_with = "sequential", requires = "agents")]
    parallel: bool,
    /// Agents work one after another.
    #[arg(long, requires = "agents")]
    sequential: bool,
    /// Each agent gets the task plus the previous agent's output (with --sequential).
    #[arg(long, requires = "agents")]
    chain: bool,
    /// isolated: a git worktree (or copy) per agent, diffs in the result; loose:
    /// shared workdir, independent agents; strict: shared workdir, serialized
    /// writes, all or nothing.
    #[arg(long, value_enum, default_value = "isolated", requires = "agents")]
    coordination_mode: aiswitch::coordinator::Coordination,
    /// Seconds each agent may take.
    #[arg(long, default_value_t = 600, requires = "agents")]
    timeout: u64,
    /// Where the agents work (default: the current directory).
    #[arg(long, requires = "agents")]
    workdir: Option<std::path::PathBuf>,
    /// The task.
    #[arg(long, conflicts_with = "task_file", requires = "agents")]
    task: Option<String>,
    /// A file holding the task.
    #[arg(long, requires = "agents")]
    task_file: Option<std::path::PathBuf>,
}

pub fn apply(args: ApplyArgs, out: &Output) -> Result<ExitCode, CliError> {
    if !args.agents.is_empty() {
        let _ = args.parallel;
        return super::tasks::run(
            super::tasks::TaskArgs {
                preset: args.preset,
                agents: args.agents,
                sequential: args.sequential,
                chain: args.chain,
                coordination: args.coordination_mode,
                timeout: args.timeout,
                workdir: args.workdir,
                task: args.task,
                task_file: args.task_file,
            },
            out,
        );
    }
    let name = PresetName::parse(&args.preset)?;
    if !args.export && args.command.is_empty() {
        return Err(CliError::Usage(format!(
            "apply needs a command after `--` (aiswitch apply {name} -- CMD) or --export; to switch this shell, run `eval \"$(aiswitch init bash)\"` once, then `aiswitch apply {name}`"
        )));
    }
    let engine = engine()?;
    let preset = engine.preset(&name)?;
    let vars = preset.env_vars();

    if args.export {
        let shell = args.shell.unwrap_or_else(shell_from_env);
        let previous = std::env::var(VARS_VAR).ok();
        let to_terminal = std::io::stdout().is_terminal();
        let shown: Vec<(String, String)> = if to_terminal {
            // Secrets are for `eval`, not for a screen someone may be looking at.
            let secrets = Secrets::Redact(engine.settings().reveal_chars);
            let view = aiswitch::presets::PresetView::new(&preset, false, secrets);
            view.with_applies(&preset)
                .applies
                .unwrap_or_default()
                .into_iter()
                .collect()
        } else {
            vars
        };
        let text = export_lines(shell, name.as_str(), &shown, previous.as_deref());
        out.emit(&serde_json::json!({ "preset": name.as_str(), "shell": shell.as_str(), "script": text }), || text.clone());
        if to_terminal {
            out.note(&format!(
                "aiswitch: secrets hidden on a terminal; run `eval \"$(aiswitch apply {name} --export)\"` to apply"
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| CliError::Usage("apply needs a command after `--`".into()))?;
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    let names = names.join(":");
    let err = std::process::Command::new(program)
        .args(rest)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .env(PRESET_VAR, name.as_str())
        .env(VARS_VAR, names)
        .exec();
    // exec only returns on failure.
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_RUN
    };
    out.error(&CliError::Failed(format!(
        "cannot run {program}: {err}; check that it is installed and on PATH"
    )));
    Ok(ExitCode::from(code))
}

fn shell_from_env() -> Shell {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or_default() {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    }
}
