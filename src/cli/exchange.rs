//! `export` and `import` (including the original aiswitch's YAML presets).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use aiswitch::Selection;
use aiswitch::atomic_file::write_atomic;
use aiswitch::engine::{ImportAction, ImportOptions, ImportOutcome};
use aiswitch::presets::{Bundle, ExportOptions, PresetError, PresetName, read_legacy_dir};
use clap::Args;
use serde_json::json;

use super::output::{CliError, Output, engine};
use super::presets::parse_env_names;

/// Export presets to a TOML file (stdout unless -o). Secrets are left out unless
/// --include-secrets.
///
/// Example: aiswitch export --all -o presets.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
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
/// Every preset is checked before any is written; one refused preset refuses the
/// import. Env vars that change how programs run (LD_PRELOAD, NODE_OPTIONS, PATH,
/// PROMPT_COMMAND, ...; see SECURITY.md) are refused unless named with --allow-env;
/// provider variables are folded into the preset's URL, key and model, and refused
/// when they contradict them. With --force, a secret the export left out keeps the
/// stored value. --dry-run lists every field of every preset (new, changed,
/// unchanged, removed), refused presets included. Examples:
///   aiswitch import presets.toml --dry-run
///   aiswitch import presets.toml --force --allow-env HTTPS_PROXY
///   aiswitch import --legacy                # ~/.config/aiswitch/presets/*.yaml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
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
    /// Accept this env var although it changes how programs run. Repeat for several.
    #[arg(long = "allow-env", value_name = "NAME")]
    allow_env: Vec<String>,
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
        None => out.emit_exact(&bundle, || bundle.to_toml()),
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
        let presets = read_legacy_dir(&dir)?;
        if presets.is_empty() {
            out.emit(&json!({ "dry_run": args.dry_run, "presets": [] }), || {
                format!(
                    "nothing to import: no *.yaml presets in {} or {}",
                    dir.display(),
                    dir.join("presets").display()
                )
            });
            return Ok(ExitCode::SUCCESS);
        }
        Bundle::from_presets(presets)
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
    let options = ImportOptions {
        replace: args.force,
        dry_run: args.dry_run,
        allow_env: parse_env_names(&args.allow_env)?,
    };
    let outcomes = engine()?.import_presets(bundle, &options)?;
    let body = json!({ "dry_run": args.dry_run, "presets": outcomes });
    out.emit(&body, || import_text(&outcomes, args.dry_run));
    for outcome in &outcomes {
        for warning in &outcome.warnings {
            out.note(&format!("aiswitch: warning: {warning}"));
        }
    }
    for outcome in outcomes.iter().filter(|o| !o.missing_secrets.is_empty()) {
        out.note(&format!(
            "aiswitch: preset {} was exported without {}: set them again with `aiswitch add {} --force ...`",
            outcome.name,
            outcome.missing_secrets.join(", "),
            outcome.name
        ));
    }
    // A dry run goes on past refused presets; the import itself would not.
    if outcomes.iter().any(|o| o.action == ImportAction::Refused) {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn import_text(outcomes: &[ImportOutcome], dry_run: bool) -> String {
    if outcomes.is_empty() {
        return "nothing to import".into();
    }
    let prefix = if dry_run { "would be " } else { "" };
    let mut text = String::new();
    for o in outcomes {
        match &o.error {
            Some(error) => {
                let _ = writeln!(text, "{prefix}refused {}: {error}", o.name);
            }
            None => {
                let _ = writeln!(text, "{prefix}{} {}", o.action.as_str(), o.name);
            }
        }
        if dry_run {
            let width = o.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
            for f in &o.fields {
                let was = f
                    .was
                    .as_ref()
                    .map(|was| format!(", was {was}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    text,
                    "  {:<width$}  {}  ({}{was})",
                    f.field,
                    f.value,
                    f.change.as_str()
                );
            }
        }
    }
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
