//! Drivers turn one CLI's output into [`RunEvent`]s. Stream drivers read one JSON
//! object per stdout line (`claude -p --output-format stream-json`, `codex exec
//! --json`, Gemini's and OpenCode's JSON lines); the ACP driver reads ACP session
//! updates and prompt results.

mod acp;
mod claude;
mod codex;
mod jsonl;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use acp::AcpDriver;
pub use claude::ClaudeStreamJson;
pub use codex::CodexJson;
pub use jsonl::{JsonlDriver, JsonlSpec};

use super::event::RunEvent;
use super::manifest::Manifest;

/// Which driver a manifest names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverKind {
    /// Agent Client Protocol over stdio.
    Acp,
    /// Claude Code's stream-json (also Qwen `-p` and Cursor `-p`).
    ClaudeStreamJson,
    /// `codex exec --json`.
    Codex,
    /// JSON lines with configurable field paths (Gemini, OpenCode).
    Jsonl,
}

impl DriverKind {
    /// The name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acp => "acp",
            Self::ClaudeStreamJson => "claude-stream-json",
            Self::Codex => "codex",
            Self::Jsonl => "jsonl",
        }
    }
}

/// The stream driver for a manifest, if its driver is a stream driver (ACP agents
/// are read by the ACP session instead).
pub fn for_manifest(manifest: &Manifest) -> Option<Box<dyn StreamDriver>> {
    match manifest.driver {
        DriverKind::ClaudeStreamJson => Some(Box::new(ClaudeStreamJson::default())),
        DriverKind::Codex => Some(Box::new(CodexJson::default())),
        DriverKind::Jsonl => manifest
            .jsonl
            .clone()
            .map(|s| Box::new(JsonlDriver::new(s)) as Box<dyn StreamDriver>),
        DriverKind::Acp => None,
    }
}

/// A line of a stream-json CLI that is not a JSON object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("printed a line that is not JSON: {snippet}")]
pub struct DriverError {
    /// The start of the line.
    pub snippet: String,
}

/// A driver for CLIs that print one JSON object per line.
pub trait StreamDriver: Send {
    /// Turns one parsed line into events (none for lines it does not use).
    fn on_value(&mut self, value: &Value) -> Vec<RunEvent>;

    /// Turns one raw stdout line into events.
    fn on_line(&mut self, line: &str) -> Result<Vec<RunEvent>, DriverError> {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Ok(Vec::new());
        }
        let value: Value = serde_json::from_str(trimmed).map_err(|_| DriverError {
            snippet: trimmed.chars().take(80).collect(),
        })?;
        Ok(self.on_value(&value))
    }
}

/// Reads a u64 at a JSON pointer, 0 when absent.
pub(crate) fn u64_at(value: &Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// Reads a string at a JSON pointer.
pub(crate) fn str_at(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod fixture_tests;
