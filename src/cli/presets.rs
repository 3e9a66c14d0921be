//! `add`, `list`, `show`, `remove`, `use`, `current`.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aiswitch::escape::for_terminal;
use aiswitch::presets::{
    EnvVarName, Preset, PresetError, PresetName, PresetView, PriceOverrides, ProviderKind, Secret,
    Secrets, parse_env_pairs,
};
use clap::Args;
use comfy_table::{Table, presets::NOTHING};
use serde_json::json;

use super::output::{CliError, Output, engine, render};

/// Add a preset (or replace one with --force).
///
/// Example: echo "$KEY" | aiswitch add kimi --kind anthropic \
///   --base-url https://api.moonshot.ai/anthropic --model kimi-k2 --api-key - \
///   API_TIMEOUT_MS 600000
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddArgs {
    /// Preset name: letters, digits, '.', '_' or '-', at most 64.
    preset: String,
    /// Raw env vars as KEY value pairs, applied as given. Values on the command line
    /// land in shell history: put secret ones in --env-file.
    #[arg(value_name = "KEY value")]
    vars: Vec<String>,
    /// Read more env vars from FILE ('-' for stdin), one NAME=value a line; blank
    /// lines and lines starting with # are skipped.
    #[arg(long, value_name = "FILE|-")]
    env_file: Option<PathBuf>,
    /// Accept this env var although it changes how programs run (LD_*, PATH,
    /// NODE_OPTIONS, ...; see SECURITY.md). Repeat for several.
    #[arg(long = "allow-env", value_name = "NAME")]
    allow_env: Vec<String>,
    /// API family: decides which env vars base URL, key and model become.
    #[arg(long, value_enum)]
    kind: Option<ProviderKind>,
    /// Provider base URL (http:// or https://).
    #[arg(long)]
    base_url: Option<String>,
    /// API key; '-' reads it from stdin (without echo on a terminal) so it stays out
    /// of shell history.
    #[arg(long, value_name = "-|VALUE")]
    api_key: Option<String>,
    /// Model name.
    #[arg(long)]
    model: Option<String>,
    /// Free text shown in `list --verbose`.
    #[arg(long)]
    description: Option<String>,
    /// A label; repeat for several.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Price override in USD per million tokens; FIELD is input, output, cache_read
    /// or cache_write. Repeat for several.
    #[arg(long = "price", value_name = "FIELD=USD")]
    prices: Vec<String>,
    /// Another base URL of the same provider (same key), tried when the ones before
    /// fail to connect, answer 5xx or time out before answering. Repeat for several.
    #[arg(long = "upstream", value_name = "URL")]
    upstreams: Vec<String>,
    /// When one of this preset's quota windows runs out (the provider says so in
    /// its rate-limit headers), the gateway sends the agent's next requests to this
    /// preset instead (same kind) and raises an alert.
    #[arg(long, value_name = "PRESET")]
    fallback: Option<String>,
    /// With --fallback: come back to this preset once the window has reset.
    #[arg(long, requires = "fallback")]
    switch_back: bool,
    /// Replace an existing preset of the same name.
    #[arg(long)]
    force: bool,
}

/// List presets; `*` marks the current one.
///
/// Example: aiswitch list --verbose
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Show description, tags, key and env vars too.
    #[arg(long, short)]
    verbose: bool,
}

/// Show one preset and the env vars it sets (secrets redacted).
///
/// Example: aiswitch show deepseek
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// The preset.
    preset: String,
    /// Print API keys and secret env vars in full.
    #[arg(long)]
    show_secrets: bool,
}

/// Remove a preset and the files aiswitch derived from it.
///
/// The current preset, or one agents were switched to (`env switch`), needs --force;
/// those agents then use the directory's or the global current preset. Their
/// snapshots keep their copy for rollback.
///
/// Example: aiswitch remove old-proxy
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RemoveArgs {
    /// The preset.
    preset: String,
    /// Remove it even when it is the current preset or agents are switched to it.
    #[arg(long)]
    force: bool,
}

/// Mark a preset as the current one, everywhere or (--here) in this directory.
///
/// --here writes .aiswitch.toml in the current directory: `run`, `apply` and tasks
/// in it and below use that preset unless one is named. Examples:
///   aiswitch use deepseek
///   aiswitch use --here kimi
///   aiswitch use --here openai-work --agent codex
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UseArgs {
    /// The preset.
    preset: String,
    /// Only in this directory and below (writes ./.aiswitch.toml).
    #[arg(long)]
    here: bool,
    /// Only for this agent (with --here).
    #[arg(long, requires = "here")]
    agent: Option<String>,
}

/// Print the preset that applies here, and why.
///
/// In order: the nearest .aiswitch.toml (its entry for --agent, then its default),
/// then the agent's switched environment (with --agent), then the global current
/// preset. Examples:
///   aiswitch current
///   aiswitch current --agent codex
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CurrentArgs {
    /// The preset this agent would get.
    #[arg(long)]
    agent: Option<String>,
}

pub fn add(args: AddArgs, out: &Output) -> Result<ExitCode, CliError> {
    let name = PresetName::parse(&args.preset)?;
    let mut env = parse_env_pairs(&args.vars)?;
    let allow_env = parse_env_names(&args.allow_env)?;
    if args.env_file.as_deref() == Some(Path::new("-")) && args.api_key.as_deref() == Some("-") {
        return Err(CliError::Usage(
            "--env-file - and --api-key - both read stdin: put one of them in a file".into(),
        ));
    }
    if let Some(path) = &args.env_file {
        for (key, value) in read_env_file(path)? {
            if env.insert(key.clone(), value).is_some() {
                return Err(PresetError::DuplicateKey {
                    name: key.to_string(),
                }
                .into());
            }
        }
    }
    let kind = args.kind.unwrap_or(ProviderKind::Custom);
    if kind == ProviderKind::Custom
        && (args.base_url.is_some() || args.api_key.is_some() || args.model.is_some())
    {
        return Err(CliError::Usage(
            "--base-url, --api-key and --model need --kind anthropic, openai or gemini (a custom preset sets only its KEY value pairs)".into(),
        ));
    }
    let mut prices = PriceOverrides::default();
    for spec in &args.prices {
        prices.set(spec)?;
    }
    let api_key = match args.api_key.as_deref() {
        Some("-") => Some(Secret::new(read_secret_from_stdin()?)),
        Some(value) => Some(Secret::new(value)),
        None => None,
    };
    let mut preset = Preset::new(name, kind);
    preset.base_url = args.base_url;
    preset.api_key = api_key;
    preset.model = args.model;
    preset.description = args.description;
    preset.tags = args.tags;
    preset.prices = prices;
    preset.env = env;
    preset.upstreams = args.upstreams;
    preset.fallback = args
        .fallback
        .as_deref()
        .map(PresetName::parse)
        .transpose()?;
    preset.switch_back = args.switch_back;
    preset.validate()?;

    let engine = engine()?;
    let added = engine.add_preset(preset.clone(), args.force, &allow_env)?;
    let stored = engine.preset(&preset.name)?;
    let view = PresetView::new(
        &stored,
        false,
        Secrets::Redact(engine.settings().reveal_chars),
    );
    let verb = if added.replaced { "replaced" } else { "added" };
    let warnings: Vec<String> = added.warnings.iter().map(ToString::to_string).collect();
    out.emit(
        &json!({ "action": verb, "preset": view, "warnings": warnings }),
        || format!("{verb} preset {} ({})", preset.name, preset.kind),
    );
    for warning in &warnings {
        out.note(&format!("aiswitch: warning: {warning}"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--allow-env` names, validated.
pub fn parse_env_names(names: &[String]) -> Result<BTreeSet<EnvVarName>, CliError> {
    Ok(names
        .iter()
        .map(|n| EnvVarName::parse(n))
        .collect::<Result<_, _>>()?)
}

/// `NAME=value` lines from a file or stdin (`-`).
fn read_env_file(path: &Path) -> Result<Vec<(EnvVarName, String)>, CliError> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Failed(format!("cannot read env vars from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|source| PresetError::Read {
            path: path.to_path_buf(),
            source,
        })?
    };
    let mut vars = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(CliError::Usage(format!(
                "{} line {}: expected NAME=value",
                path.display(),
                index + 1
            )));
        };
        vars.push((EnvVarName::parse(name.trim())?, value.to_owned()));
    }
    Ok(vars)
}

fn read_secret_from_stdin() -> Result<String, CliError> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        let line = read_without_echo("API key (not shown as you type; Enter to finish): ")
            .map_err(|e| CliError::Failed(format!("cannot read the API key: {e}")))?;
        return Ok(line.trim().to_owned());
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .map_err(|e| CliError::Failed(format!("cannot read the API key from stdin: {e}")))?;
    Ok(text.trim().to_owned())
}

/// Reads a line from the terminal on stdin with echo off. Echo goes off before the
/// prompt is shown, so nothing typed after the prompt appears is echoed; it is put
/// back whatever happens.
fn read_without_echo(prompt: &str) -> std::io::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).map_err(std::io::Error::from)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(std::io::Error::from)?;
    eprint!("{prompt}");
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    let restored = tcsetattr(&stdin, SetArg::TCSANOW, &saved).map_err(std::io::Error::from);
    read?;
    restored?;
    Ok(line)
}

pub fn list(args: ListArgs, out: &Output) -> Result<ExitCode, CliError> {
    let overview = engine()?.preset_overview()?;
    out.emit(&overview, || list_table(&overview.presets, args.verbose));
    for problem in &overview.problems {
        out.note(&format!("aiswitch: {}", problem.error));
    }
    Ok(if overview.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(aiswitch::EXIT_FAILURE)
    })
}

fn list_table(views: &[PresetView], verbose: bool) -> String {
    if views.is_empty() {
        return "no presets yet: add one with `aiswitch add NAME --kind anthropic --api-key -`"
            .to_owned();
    }
    let mut table = Table::new();
    table.load_preset(NOTHING);
    let mut header = vec!["", "NAME", "KIND", "MODEL", "BASE URL"];
    if verbose {
        header.extend(["API KEY", "ENV", "TAGS", "DESCRIPTION"]);
    }
    table.set_header(header);
    for view in views {
        let mut row = vec![
            if view.current { "*" } else { "" }.to_owned(),
            view.name.clone(),
            view.kind.to_owned(),
            view.model.clone().unwrap_or_else(|| "-".into()),
            view.base_url.clone().unwrap_or_else(|| "-".into()),
        ];
        if verbose {
            row.push(view.api_key.clone().unwrap_or_else(|| "-".into()));
            row.push(
                view.env
                    .iter()
                    .map(|(k, v)| format!("{k}={}", for_terminal(v)))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            row.push(view.tags.join(","));
            row.push(for_terminal(view.description.as_deref().unwrap_or_default()).into_owned());
        }
        table.add_row(row);
    }
    render(&table)
}

pub fn show(args: ShowArgs, out: &Output) -> Result<ExitCode, CliError> {
    let name = PresetName::parse(&args.preset)?;
    let engine = engine()?;
    let secrets = if args.show_secrets {
        Secrets::Reveal
    } else {
        Secrets::Redact(engine.settings().reveal_chars)
    };
    let view = engine.preset_view(&name, secrets)?;
    out.emit(&view, || show_text(&view));
    Ok(ExitCode::SUCCESS)
}

fn show_text(view: &PresetView) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING);
    let mut add = |label: &str, value: String| {
        table.add_row(vec![format!("  {label}"), value]);
    };
    add("kind", view.kind.to_owned());
    add(
        "base URL",
        view.base_url
            .clone()
            .unwrap_or_else(|| "(CLI default)".into()),
    );
    add(
        "model",
        view.model.clone().unwrap_or_else(|| "(CLI default)".into()),
    );
    add(
        "API key",
        view.api_key.clone().unwrap_or_else(|| "(none)".into()),
    );
    if let Some(description) = &view.description {
        add("description", description.clone());
    }
    if let Some(fallback) = &view.fallback {
        let back = if view.switch_back {
            ", back after the reset"
        } else {
            ""
        };
        add(
            "fallback",
            format!("{fallback} when a quota window runs out{back}"),
        );
    }
    if !view.tags.is_empty() {
        add("tags", view.tags.join(", "));
    }
    let prices = &view.prices;
    let priced: Vec<String> = [
        ("input", prices.input),
        ("output", prices.output),
        ("cache read", prices.cache_read),
        ("cache write", prices.cache_write),
    ]
    .iter()
    .filter_map(|(label, usd)| usd.map(|usd| format!("{label} ${usd}/M")))
    .collect();
    if !priced.is_empty() {
        add("prices", priced.join(", "));
    }
    let mut text = format!(
        "{}{}\n{}\n  sets:\n",
        view.name,
        if view.current { " (current)" } else { "" },
        render(&table)
    );
    for (name, value) in view.applies.iter().flatten() {
        // One line per variable: a line break in a value is shown as `\n`.
        text.push_str(&format!("    {name}={}\n", for_terminal(value)));
    }
    text
}

pub fn remove(args: RemoveArgs, out: &Output) -> Result<ExitCode, CliError> {
    let name = PresetName::parse(&args.preset)?;
    let removed = engine()?.remove_preset(&name, args.force)?;
    let body = json!({
        "action": "removed",
        "preset": removed.preset,
        "switched_agents": removed.switched_agents,
        "fallback": removed.fallback,
    });
    out.emit(&body, || {
        let mut text = format!("removed preset {name}");
        if !removed.switched_agents.is_empty() {
            text.push_str(&format!(
                "\n{} no longer switched to it: they now use {}",
                removed.switched_agents.join(", "),
                removed.fallback.as_deref().map_or_else(
                    || "the directory's preset, else their own settings".to_owned(),
                    |p| format!("the directory's preset, else the current preset {p}")
                )
            ));
        }
        text
    });
    Ok(ExitCode::SUCCESS)
}

pub fn use_preset(args: UseArgs, out: &Output) -> Result<ExitCode, CliError> {
    let name = PresetName::parse(&args.preset)?;
    if args.here {
        let dir = std::env::current_dir()
            .map_err(|e| CliError::Failed(format!("cannot read the current directory: {e}")))?;
        let file = engine()?.use_preset_here(&dir, &name, args.agent.as_deref())?;
        let whom = args
            .agent
            .as_deref()
            .map_or_else(|| "every agent".to_owned(), |a| format!("agent {a}"));
        out.emit(
            &json!({ "preset": name.as_str(), "agent": args.agent, "file": file }),
            || format!("{whom} uses {name} in {} and below", dir.display()),
        );
        return Ok(ExitCode::SUCCESS);
    }
    engine()?.use_preset(&name)?;
    out.emit(&json!({ "current": name.as_str() }), || {
        format!("current preset is now {name}")
    });
    Ok(ExitCode::SUCCESS)
}

pub fn current(args: CurrentArgs, out: &Output) -> Result<ExitCode, CliError> {
    let engine = engine()?;
    if let Some(agent) = &args.agent {
        engine
            .agent_registry()
            .get(agent)
            .map_err(aiswitch::Error::from)?;
    }
    let dir = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("/"));
    let choice = engine.choose_preset(args.agent.as_deref(), None, &dir)?;
    let source = choice.as_ref().map(|c| c.source.clone());
    let current = choice.map(|c| c.preset);
    let missing = current.as_ref().is_some_and(|name| {
        matches!(
            engine.preset(name),
            Err(aiswitch::Error::Preset(
                aiswitch::presets::PresetError::NotFound { .. }
            ))
        )
    });
    let mut body = json!({
        "current": current.as_ref().map(|c| c.to_string()),
        "exists": current.is_some() && !missing,
    });
    if let Some(source) = &source
        && let (Some(object), Ok(serde_json::Value::Object(fields))) =
            (body.as_object_mut(), serde_json::to_value(source))
    {
        object.extend(fields);
    }
    out.emit(&body, || {
        current.as_ref().map(|c| c.to_string()).unwrap_or_default()
    });
    if let Some(source) = &source
        && !matches!(source, aiswitch::engine::PresetSource::Global)
    {
        out.note(&format!("({})", source.describe()));
    }
    match (&current, missing) {
        (None, _) => out.note("no current preset: set one with `aiswitch use NAME`"),
        (Some(name), true) => out.note(&format!(
            "aiswitch: current preset {name} no longer exists: run `aiswitch use NAME`"
        )),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}
