//! `apply`: run one command with a preset's env, or print `export` lines for `eval`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use aiswitch::agents::{AgentError, Launch, stale_provider_vars};
use aiswitch::presets::{PresetName, Secrets};
use aiswitch::shell::{Shell, VARS_VAR, export_lines};
use clap::Args;

use super::output::{CliError, Output, engine};
use super::run::{exec, shell_from_env};

/// Run a command with a preset's env on top of the current env, print the env as
/// `export` lines, or run a task on several agents.
///
/// When CMD is a known agent CLI (claude, codex, gemini, qwen, opencode, ...), the
/// preset is injected the way `aiswitch run` does (env vars, flags, files aiswitch
/// owns); --env-only sets the env vars alone. Without PRESET: the nearest
/// .aiswitch.toml's, else the global current one. The command replaces aiswitch
/// (exec), so it gets signals and its exit code directly. Examples:
///   aiswitch apply deepseek -- claude -p "hello"
///   eval "$(aiswitch apply deepseek --export)"
///   aiswitch apply deepseek --agents claude,codex:openai --task "add tests"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ApplyArgs {
    /// The preset (default: the nearest .aiswitch.toml's, else the current one).
    preset: Option<String>,
    /// Set only the preset's env vars, even for a known agent CLI.
    #[arg(long, conflicts_with_all = ["export", "agents"])]
    env_only: bool,
    /// Print `export` lines for `eval` instead of running a command.
    #[arg(long, conflicts_with = "command")]
    export: bool,
    /// Shell syntax for --export (default: from $SHELL, else bash).
    #[arg(long, value_enum, requires = "export")]
    shell: Option<Shell>,
    /// For a known agent CLI: give it the preset's URL and key as they are, not the
    /// provider gateway's URL and a launch token (its requests are then not metered).
    #[arg(long, conflicts_with_all = ["export", "agents"])]
    direct: bool,
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
    /// writes, all or nothing (when an agent fails, every file the task changed is
    /// put back as it was, uncommitted edits included; files git ignores are not
    /// backed up).
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
    let flag = args.preset.as_deref().map(PresetName::parse).transpose()?;
    if !args.export && args.command.is_empty() {
        let name = flag.as_ref().map_or("PRESET", PresetName::as_str);
        return Err(CliError::Usage(format!(
            "apply needs a command after `--` (aiswitch apply {name} -- CMD) or --export; to switch this shell, run `eval \"$(aiswitch init bash)\"` once, then `aiswitch apply {name}`"
        )));
    }
    let engine = engine()?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let program = args.command.first().map(String::as_str);
    let agent = program
        .filter(|_| !args.env_only)
        .and_then(|p| engine.agent_for_command(p, None));
    let choice = engine
        .choose_command_preset(agent.as_ref().map(|m| m.id.as_str()), flag.as_ref(), &cwd)?
        .ok_or_else(|| {
            CliError::Usage(
                "apply needs a preset: name one (aiswitch apply PRESET -- CMD), put one in .aiswitch.toml (`aiswitch use --here PRESET`), or set a current one (`aiswitch use PRESET`)".into(),
            )
        })?;
    let name = choice.preset.clone();
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
        let body =
            serde_json::json!({ "preset": name.as_str(), "shell": shell.as_str(), "script": text });
        if to_terminal {
            out.emit(&body, || text.clone());
        } else {
            // For `eval`: exactly what the shell must run.
            out.emit_exact(&body, || text.clone());
        }
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
    // A known agent CLI gets the manifest's full injection, as `aiswitch run` does.
    let agent = match engine.agent_for_command(program, Some(preset.kind)) {
        Some(manifest) if !args.env_only => {
            if engine.client_kind(&manifest, &preset).is_none() {
                let err = AgentError::wrong_kind(&manifest, name.as_str(), preset.kind);
                return Err(aiswitch::Error::from(err).into());
            }
            Some(manifest)
        }
        _ => None,
    };
    let launch = match &agent {
        Some(manifest) => {
            // Through the engine host's gateway unless asked otherwise.
            let route = match args.direct {
                true => None,
                false => super::run::gateway_route(&engine, manifest.id.as_str(), &name, out)?,
            };
            let injection = match &route {
                Some(route) => {
                    let kind = engine.client_kind(manifest, &preset).unwrap_or(preset.kind);
                    engine.routed_injection(manifest, &preset, kind, route)?.0
                }
                None => engine.injection(manifest, &name)?,
            };
            let (mut launch_args, dropped) = manifest.user_flags_win(&injection.args, rest);
            launch_args.extend(rest.iter().cloned());
            Launch {
                program: program.into(),
                args: launch_args,
                env_remove: stale_provider_vars(&injection.env),
                env: injection.env,
                files: injection.files,
                dropped,
            }
        }
        None => Launch {
            program: program.into(),
            args: rest.to_vec(),
            env_remove: stale_provider_vars(&vars),
            env: vars,
            files: Vec::new(),
            dropped: Vec::new(),
        },
    };
    let names: Vec<&str> = launch.env.iter().map(|(k, _)| k.as_str()).collect();
    let names = names.join(":");
    let agent_id = agent.as_ref().map_or(program.as_str(), |m| m.id.as_str());
    Ok(exec(
        &engine,
        agent_id,
        Some(&choice),
        launch,
        &[(VARS_VAR.to_owned(), names)],
        out,
    ))
}
