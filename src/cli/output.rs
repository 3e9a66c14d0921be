//! Printing: text for people, JSON for scripts, and errors as one line on stderr.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use aiswitch::escape::{for_terminal, lines_for_terminal};
use aiswitch::{EXIT_FAILURE, EXIT_USAGE, Engine, Error};
use serde::Serialize;
use serde_json::json;

/// What a command can fail with at the CLI edge.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An engine error; it knows its own exit code.
    #[error(transparent)]
    Engine(#[from] Error),
    /// Arguments that parse but do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// A failure outside the engine (a child that cannot start, a file to write).
    #[error("{0}")]
    Failed(String),
}

impl From<aiswitch::presets::PresetError> for CliError {
    fn from(e: aiswitch::presets::PresetError) -> Self {
        Self::Engine(e.into())
    }
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Engine(e) => e.exit_code(),
            Self::Usage(_) => EXIT_USAGE,
            Self::Failed(_) => EXIT_FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Engine(e) => e.kind(),
            Self::Usage(_) => "usage",
            Self::Failed(_) => "failed",
        }
    }
}

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Text output unless `json`.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints `value` as JSON, or `text()` for people with control characters
    /// escaped (a value cannot hide lines or rewrite the terminal), in one write
    /// (stdout is line buffered, and a line-by-line write costs a syscall per line).
    pub fn emit<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        self.write(value, || lines_for_terminal(&text()).into_owned());
    }

    /// Like [`Output::emit`], but the text is for a program (`eval`, a file) and is
    /// printed exactly: shell code and TOML, which quote what they hold.
    pub fn emit_exact<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        self.write(value, text);
    }

    fn write<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        let mut body = if self.json {
            // Indented for a person at a terminal, compact (and faster) for a program.
            if std::io::stdout().is_terminal() {
                serde_json::to_string_pretty(value).unwrap_or_default()
            } else {
                serde_json::to_string(value).unwrap_or_default()
            }
        } else {
            text()
        };
        if body.is_empty() {
            return;
        }
        if !body.ends_with('\n') {
            body.push('\n');
        }
        // A closed pipe (`aiswitch list | head -1`) is not an error worth reporting.
        let _ = std::io::stdout().lock().write_all(body.as_bytes());
    }

    /// True when `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// A note for people on stderr; silent in JSON mode.
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("{}", lines_for_terminal(text));
        }
    }

    /// Prints an error as one line (JSON in JSON mode) and returns its exit code.
    pub fn error(&self, err: &CliError) -> ExitCode {
        if self.json {
            let body = json!({ "error": { "kind": err.kind(), "message": err.to_string() } });
            eprintln!("{body}");
        } else {
            eprintln!("aiswitch: {}", for_terminal(&err.to_string()));
        }
        ExitCode::from(err.exit_code())
    }
}

/// Opens the engine from the environment.
pub fn engine() -> Result<Engine, CliError> {
    Ok(Engine::from_env()?)
}

/// A table as text without the padding comfy-table leaves at line ends.
pub fn render(table: &comfy_table::Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
