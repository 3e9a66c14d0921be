//! `run`: launch an agent CLI interactively with a preset injected the way its
//! manifest says (env vars, flags, files aiswitch owns), or print the equivalent
//! shell command.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use aiswitch::agents::Launch;
use aiswitch::agents::launch::write_files;
use aiswitch::engine::{Engine, Installed, PresetChoice, Route};
use aiswitch::presets::PresetName;
use aiswitch::shell::{PRESET_VAR, Shell};
use clap::Args;
use serde_json::json;

use super::output::{CliError, Output, engine};

/// Exit code when the command cannot be found, as env(1) and shells use.
const EXIT_NOT_FOUND: u8 = 127;
/// Exit code when the command exists but cannot be run.
const EXIT_CANNOT_RUN: u8 = 126;

/// Launch an agent CLI in this terminal with a preset.
///
/// The preset is the one given with --preset, else the nearest .aiswitch.toml's (see
/// `aiswitch use --here`), else the agent's switched one (`aiswitch env switch`), else
/// the global current one (`aiswitch use`). aiswitch injects it the way the agent's
/// manifest says: env vars, flags (`claude --settings FILE`, `codex -c ...`, `qwen -m`)
/// and config files it writes under its own data directory, never yours. The CLI
/// replaces aiswitch, so it gets signals and its exit code directly.
///
/// Examples:
///   aiswitch run claude --preset deepseek
///   aiswitch run codex -- exec "fix the tests"
///   aiswitch run qwen --print-command >> my-script.sh
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// The agent (see `aiswitch agents list`).
    agent: String,
    /// The preset (default: see above).
    #[arg(long)]
    preset: Option<String>,
    /// Print the equivalent shell command instead (secrets as "$VAR" references)
    /// and launch nothing.
    #[arg(long)]
    print_command: bool,
    /// Quoting for --print-command (default: from $SHELL, else bash).
    #[arg(long, value_enum, requires = "print_command")]
    shell: Option<Shell>,
    /// Give the CLI the preset's URL and key as they are, not the provider
    /// gateway's URL and a launch token (its requests are then not metered).
    #[arg(long)]
    direct: bool,
    /// Arguments for the agent CLI, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    extra: Vec<String>,
}

pub fn run(args: RunArgs, out: &Output) -> Result<ExitCode, CliError> {
    let flag = args.preset.as_deref().map(PresetName::parse).transpose()?;
    let engine = engine()?;
    engine
        .agent_registry()
        .get(&args.agent)
        .map_err(aiswitch::Error::from)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let choice = engine.choose_preset(Some(&args.agent), flag.as_ref(), &cwd)?;
    if args.print_command {
        let launch = engine.interactive_launch(
            &args.agent,
            choice.as_ref(),
            &args.extra,
            Installed::NotRequired,
            None,
        )?;
        print_command(&launch, args.shell.unwrap_or_else(shell_from_env), out);
        return Ok(ExitCode::SUCCESS);
    }
    let route = match &choice {
        Some(c) if !args.direct => gateway_route(&engine, &args.agent, &c.preset, out)?,
        _ => None,
    };
    let launch = engine.interactive_launch(
        &args.agent,
        choice.as_ref(),
        &args.extra,
        Installed::Required,
        route.as_ref(),
    )?;
    if std::io::stderr().is_terminal() {
        out.note(&match &choice {
            Some(c) => format!(
                "aiswitch: {} with preset {} ({})",
                args.agent,
                c.preset,
                c.source.describe()
            ),
            None => format!(
                "aiswitch: no preset applies here; {} runs with its own settings",
                args.agent
            ),
        });
    }
    Ok(exec(
        &engine,
        &args.agent,
        choice.as_ref(),
        launch,
        &[],
        out,
    ))
}

/// The engine host's gateway route for a launch of `agent` with `preset` by this
/// process, which is about to exec the CLI: the daemon holds the launch's token
/// until this process (then the CLI) exits; it is started in the background when
/// none runs. `None` when the preset goes direct (no key, or `gateway = "direct"`).
pub fn gateway_route(
    engine: &Engine,
    agent: &str,
    preset: &PresetName,
    out: &Output,
) -> Result<Option<Route>, CliError> {
    // A preset the agent cannot take is refused by the launch itself, before a
    // daemon is started for it.
    let fits = engine
        .agent_registry()
        .get(agent)
        .ok()
        .zip(engine.preset(preset).ok())
        .is_some_and(|(manifest, preset)| engine.client_kind(&manifest, &preset).is_some());
    if !fits || !engine.gateway_routes(Some(preset.as_str())) {
        return Ok(None);
    }
    let rt = super::daemon::runtime()?;
    let route = rt.block_on(async {
        let client = super::daemon::connect(engine, true, out).await?;
        let params =
            json!({ "agent": agent, "preset": preset.as_str(), "pid": std::process::id() });
        client
            .call("gateway.lease", Some(params))
            .await
            .map_err(super::daemon::remote)
    })?;
    serde_json::from_value(route)
        .map_err(|e| CliError::Failed(format!("the daemon's gateway answered oddly: {e}")))
}

/// Writes the launch's files, records it, and replaces this process with it; returns
/// only when the program could not be started (127 or 126, as env(1)).
pub fn exec(
    engine: &Engine,
    agent: &str,
    choice: Option<&PresetChoice>,
    launch: Launch,
    extra_env: &[(String, String)],
    out: &Output,
) -> ExitCode {
    if let Err((path, e)) = write_files(&launch.files) {
        return out.error(&CliError::Failed(format!(
            "cannot write {}: {e}; check the permissions of aiswitch's data directory",
            path.display()
        )));
    }
    if let Err(e) = engine.record_launch(agent, choice) {
        return out.error(&e.into());
    }
    let mut command = std::process::Command::new(&launch.program);
    for name in &launch.env_remove {
        command.env_remove(name);
    }
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .envs(extra_env.iter().map(|(k, v)| (k, v)));
    if let Some(choice) = choice {
        command.env(PRESET_VAR, choice.preset.as_str());
    }
    let err = command.exec();
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_RUN
    };
    out.error(&CliError::Failed(format!(
        "cannot run {}: {err}; check that it is installed and on PATH",
        launch.program.display()
    )));
    ExitCode::from(code)
}

fn print_command(launch: &Launch, shell: Shell, out: &Output) {
    let command = launch.shell_command(shell);
    let files: Vec<String> = launch
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let secrets = launch.secret_names();
    out.emit(
        &json!({ "command": command, "files": files, "secrets": secrets, "dropped": launch.dropped }),
        || {
            let mut text = String::new();
            if !launch.dropped.is_empty() {
                text.push_str(&format!(
                    "# your own arguments replace aiswitch's {}\n",
                    launch.dropped.join(" ")
                ));
            }
            for file in &files {
                text.push_str(&format!(
                    "# needs {file}: aiswitch writes it when it launches this agent with this preset (`aiswitch run`)\n"
                ));
            }
            if !secrets.is_empty() {
                text.push_str(&format!(
                    "# the shell must hold {}\n",
                    secrets.join(", ")
                ));
            }
            text.push_str(&command);
            text
        },
    );
}

/// The shell named by $SHELL (bash when unknown).
pub fn shell_from_env() -> Shell {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or_default() {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    }
}
