//! Argument parsing and dispatch. One file per command group; each command calls the
//! engine and prints through [`output::Output`]. No behaviour lives here.

mod agents;
mod apply;
mod budget;
mod daemon;
mod dashboard;
mod doctor;
mod env;
mod exchange;
mod limits;
mod metrics;
mod output;
mod presets;
mod run;
mod shell;
mod task_display;
mod task_history;
mod tasks;
mod tokens;
mod usage_import;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::{CliError, Output};

const EXAMPLES: &str = "\
Examples:
  echo \"$DEEPSEEK_KEY\" | aiswitch add deepseek --kind anthropic \\
      --base-url https://api.deepseek.com/anthropic --model deepseek-chat --api-key -
  aiswitch list
  aiswitch apply deepseek -- claude -p \"hello\"
  eval \"$(aiswitch init bash)\"; aiswitch apply deepseek   # this shell uses it

Files live under $AISWITCH_HOME when set, else the XDG config and data directories.";

/// aiswitch: one place for your AI coding-agent CLIs and the API providers they use.
///
/// For Claude Code, Codex, Gemini CLI, Qwen Code, OpenCode and others: it keeps
/// provider presets (base URL, API key, model, env vars), switches an agent's provider
/// without touching the agent's own config files, runs one task on several agents, and
/// counts every token and its cost. Everything stays in local files.
#[derive(Debug, Parser)]
#[command(name = "aiswitch", version, after_help = EXAMPLES, max_term_width = 100)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Add(presets::AddArgs),
    List(presets::ListArgs),
    Show(presets::ShowArgs),
    Remove(presets::RemoveArgs),
    Use(presets::UseArgs),
    Current(presets::CurrentArgs),
    Apply(apply::ApplyArgs),
    Run(run::RunArgs),
    Export(exchange::ExportArgs),
    Import(exchange::ImportArgs),
    Init(shell::InitArgs),
    Completions(shell::CompletionsArgs),
    Agents(agents::AgentsArgs),
    Daemon(daemon::DaemonArgs),
    Events(daemon::EventsArgs),
    Demo(tasks::DemoArgs),
    Tasks(task_history::TasksArgs),
    Tokens(tokens::TokensArgs),
    Budget(budget::BudgetArgs),
    Alerts(budget::AlertsArgs),
    Usage(usage_import::UsageArgs),
    Metrics(metrics::MetricsArgs),
    Limits(limits::LimitsArgs),
    Env(env::EnvArgs),
    Doctor(doctor::DoctorArgs),
    Dashboard(dashboard::DashboardArgs),
}

/// Parses the command line, runs the command, and turns its outcome into an exit
/// code: 0 success, 1 failure, 2 bad input.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let out = Output::new(cli.json);
    match run(cli.command, &out) {
        Ok(code) => code,
        Err(err) => out.error(&err),
    }
}

fn run(command: Command, out: &Output) -> Result<ExitCode, CliError> {
    match command {
        Command::Add(args) => presets::add(args, out),
        Command::List(args) => presets::list(args, out),
        Command::Show(args) => presets::show(args, out),
        Command::Remove(args) => presets::remove(args, out),
        Command::Use(args) => presets::use_preset(args, out),
        Command::Current(args) => presets::current(args, out),
        Command::Apply(args) => apply::apply(args, out),
        Command::Run(args) => run::run(args, out),
        Command::Export(args) => exchange::export(args, out),
        Command::Import(args) => exchange::import(args, out),
        Command::Init(args) => shell::init(args, out),
        Command::Completions(args) => shell::completions(args),
        Command::Agents(args) => agents::agents(args, out),
        Command::Daemon(args) => daemon::daemon(args, out),
        Command::Events(args) => daemon::events(args, out),
        Command::Demo(args) => tasks::demo(args, out),
        Command::Tasks(args) => task_history::tasks(args, out),
        Command::Tokens(args) => tokens::tokens(args, out),
        Command::Budget(args) => budget::budget(args, out),
        Command::Alerts(args) => budget::alerts(args, out),
        Command::Usage(args) => usage_import::usage(args, out),
        Command::Metrics(args) => metrics::metrics(args, out),
        Command::Limits(args) => limits::limits(args, out),
        Command::Env(args) => env::env(args, out),
        Command::Doctor(args) => doctor::doctor(args, out),
        Command::Dashboard(args) => dashboard::dashboard(args, out),
    }
}

/// Prints help and version as clap does, and any other parse error as one line:
/// clap's first line, the accepted values when it listed them, and where to look.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let text = err.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_owned();
    // "the following required arguments were not provided:" names them on the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    let values = text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("[possible values:"))
        .map(|line| format!(" {line}"))
        .unwrap_or_default();
    eprintln!("aiswitch: {first}{values}; see `aiswitch --help`");
    ExitCode::from(aiswitch::EXIT_USAGE)
}

/// The clap command tree, for completions.
fn command_tree() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
