//! `usage import [claude|codex|all] [--path P]`.

use std::process::ExitCode;

use aiswitch::engine::{ImportProgress, SourceReport};
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

/// One bar per source on standard error while a long import reads its files (none
/// when standard error is not a terminal).
#[derive(Default)]
struct ProgressBars {
    bar: Option<(LogSource, indicatif::ProgressBar)>,
}

impl ProgressBars {
    fn show(&mut self, p: ImportProgress) {
        if self.bar.as_ref().is_none_or(|(s, _)| *s != p.source) {
            if let Some((_, done)) = self.bar.take() {
                done.finish_and_clear();
            }
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(p.files_total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} files, {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{} logs", p.source.agent()));
            self.bar = Some((p.source, bar));
        }
        if let Some((_, bar)) = &self.bar {
            bar.set_position(p.files_done as u64);
            bar.set_message(format!("{:.1} MB", p.bytes_read as f64 / 1e6));
        }
    }
}

impl Drop for ProgressBars {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
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
    let mut bar = ProgressBars::default();
    let mut progress = |p: ImportProgress| bar.show(p);
    let reports = match (&args.path, sources.as_slice()) {
        (Some(path), &[source]) => vec![SourceReport {
            agent: source.agent(),
            report: engine.import_usage(source, path, &mut progress)?,
        }],
        _ => engine.import_default_logs(&sources, &mut progress)?,
    };
    drop(bar);
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
