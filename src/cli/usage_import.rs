//! `usage import [claude|codex|all] [--path P]`.

use std::process::ExitCode;

use aiswitch::engine::SourceReport;
use aiswitch::usage::LogSource;
use clap::{Args, Subcommand, ValueEnum};

use super::output::{CliError, Output, engine};

/// The agents' own usage logs, in the ledger.
#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(subcommand)]
    command: UsageCommand,
}

#[derive(Debug, Subcommand)]
enum UsageCommand {
    Import(ImportArgs),
}

/// Which logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Claude,
    Codex,
    Gemini,
    Qwen,
    Opencode,
    All,
}

/// Import the agents' own usage logs (Claude Code, Codex, Gemini CLI, Qwen Code,
/// OpenCode), incrementally: a second run reads only what was added, counts nothing
/// twice, and what was imported stays after the agents delete their logs. Sessions
/// that aiswitch ran itself (tasks, agents check) are already in the ledger and are
/// skipped, matched by the CLI's session id.
///
/// Example: aiswitch usage import all
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct ImportArgs {
    /// claude (~/.claude/projects), codex (~/.codex/sessions), gemini
    /// (~/.gemini/tmp/*/chats), qwen (~/.qwen/usage, every API request including the
    /// background ones), opencode (~/.local/share/opencode/opencode.db, read-only) or
    /// all.
    #[arg(value_enum, default_value = "all")]
    which: Which,
    /// Read this file or directory instead (with one source).
    #[arg(long)]
    path: Option<std::path::PathBuf>,
}

pub fn usage(args: UsageArgs, out: &Output) -> Result<ExitCode, CliError> {
    let UsageCommand::Import(args) = args.command;
    let sources: Vec<LogSource> = match args.which {
        Which::Claude => vec![LogSource::Claude],
        Which::Codex => vec![LogSource::Codex],
        Which::Gemini => vec![LogSource::Gemini],
        Which::Qwen => vec![LogSource::Qwen],
        Which::Opencode => vec![LogSource::OpenCode],
        Which::All => LogSource::ALL.to_vec(),
    };
    if args.path.is_some() && sources.len() > 1 {
        return Err(CliError::Usage(
            "--path needs one source: `usage import claude --path P` (or codex, gemini, qwen)"
                .into(),
        ));
    }
    if let Some(path) = &args.path
        && !path.exists()
    {
        return Err(CliError::Usage(format!(
            "import path {} does not exist",
            path.display()
        )));
    }
    let engine = engine()?;
    let reports = match (&args.path, sources.as_slice()) {
        (Some(path), &[source]) => vec![SourceReport {
            agent: source.agent(),
            report: engine.import_usage(source, path)?,
        }],
        _ => engine.import_default_logs(&sources)?,
    };
    out.emit(&reports, || {
        if reports.is_empty() {
            return "no Claude Code, Codex, Gemini CLI, Qwen Code or OpenCode logs found".into();
        }
        reports
            .iter()
            .map(|SourceReport { agent: a, report: r }| {
                format!(
                    "{a}: {} new entries from {} file(s) ({} bytes read), {} already imported, {} from runs aiswitch recorded itself, {} corrupt line(s) skipped",
                    r.imported, r.files, r.bytes_read, r.duplicates, r.recorded_by_aiswitch, r.corrupt_lines
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(ExitCode::SUCCESS)
}
