//! `export` and `import` (including the original aiswitch's YAML presets).

use std::path::PathBuf;
use std::process::ExitCode;

use aiswitch::atomic_file::write_atomic;
use aiswitch::presets::{Bundle, ExportOptions, PresetError, PresetName, read_legacy_dir};
use aiswitch::{ImportOutcome, Selection};
use clap::Args;
use serde_json::json;

use super::output::{CliError, Output, engine};

/// Export presets to a TOML file (stdout unless -o). Secrets are left out unless
/// --include-secrets.
///
/// Example: aiswitch export --all -o presets.toml
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The preset to export.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    preset: Option<String>,
    /// Export every preset.
    #[arg(long)]
    all: bool,
    /// Write to this file (mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Keep API keys and secret env vars in the export.
    #[arg(long)]
    include_secrets: bool,
}

/// Import presets from an export file, or the original aiswitch's YAML presets.
///
/// Every preset is validated before any is written. Examples:
///   aiswitch import presets.toml --dry-run
///   aiswitch import --legacy                # ~/.config/aiswitch/presets/*.yaml
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export file; with --legacy, the directory of YAML presets.
    path: Option<PathBuf>,
    /// Replace presets that already exist.
    #[arg(long)]
    force: bool,
    /// Show what would be imported and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Read the original aiswitch's YAML presets (default dir:
    /// ~/.config/aiswitch/presets).
    #[arg(long)]
    legacy: bool,
}

pub fn export(args: ExportArgs, out: &Output) -> Result<ExitCode, CliError> {
    let selection = match &args.preset {
        Some(name) => Selection::One(PresetName::parse(name)?),
        None => Selection::All,
    };
    let engine = engine()?;
    let options = ExportOptions {
        include_secrets: args.include_secrets,
    };
    let bundle = engine.export_presets(&selection, options)?;
    let names: Vec<String> = bundle.presets().map(|p| p.name.to_string()).collect();
    match &args.output {
        Some(path) => {
            write_atomic(path, bundle.to_toml().as_bytes(), 0o600).map_err(|source| {
                PresetError::Write {
                    path: path.clone(),
                    source,
                }
            })?;
            let body =
                json!({ "file": path, "presets": names, "secrets_included": args.include_secrets });
            out.emit(&body, || {
                format!("exported {} preset(s) to {}", names.len(), path.display())
            });
        }
        None => out.emit(&bundle, || bundle.to_toml()),
    }
    if !args.include_secrets && bundle.redacted_fields().next().is_some() {
        out.note("aiswitch: secrets were left out; add --include-secrets to keep them");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import(args: ImportArgs, out: &Output) -> Result<ExitCode, CliError> {
    let bundle = if args.legacy {
        let dir = match args.path {
            Some(dir) => dir,
            None => legacy_default_dir()?,
        };
        Bundle::from_presets(read_legacy_dir(&dir)?)
    } else {
        let path = args
            .path
            .ok_or_else(|| CliError::Usage("import needs a FILE (or --legacy [DIR])".into()))?;
        let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
            path: path.clone(),
            source,
        })?;
        Bundle::parse(&text, &path)?
    };
    let outcomes = engine()?.import_presets(bundle, args.force, args.dry_run)?;
    let body = json!({ "dry_run": args.dry_run, "presets": outcomes });
    out.emit(&body, || import_text(&outcomes, args.dry_run));
    for outcome in outcomes.iter().filter(|o| !o.missing_secrets.is_empty()) {
        out.note(&format!(
            "aiswitch: preset {} was exported without {}: set them again with `aiswitch add {} --force ...`",
            outcome.name,
            outcome.missing_secrets.join(", "),
            outcome.name
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn import_text(outcomes: &[ImportOutcome], dry_run: bool) -> String {
    if outcomes.is_empty() {
        return "nothing to import".into();
    }
    let prefix = if dry_run { "would be " } else { "" };
    let mut text: String = outcomes
        .iter()
        .map(|o| format!("{prefix}{} {}\n", o.action, o.name))
        .collect();
    if dry_run {
        text.push_str("dry run: nothing was written\n");
    }
    text
}

fn legacy_default_dir() -> Result<PathBuf, CliError> {
    let home = directories::BaseDirs::new()
        .ok_or_else(|| CliError::Failed("cannot find the home directory: pass DIR".into()))?;
    Ok(home.config_dir().join("aiswitch").join("presets"))
}
