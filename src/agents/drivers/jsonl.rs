//! JSON lines with configurable field paths: which `type` values carry text, usage
//! and the final result, and where (JSON pointers). The built-in Gemini and OpenCode
//! manifests hold their specs; a registered manifest can bring its own.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{StreamDriver, str_at, u64_at};
use crate::agents::event::{FinalResult, RunEvent, TokenCounts, UsageReport, UsageScope};

/// A condition on a line: the value at `path` equals `equals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// JSON pointer.
    pub path: String,
    /// The required string value.
    pub equals: String,
}

/// Where text is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRule {
    /// The line's type.
    pub on: String,
    /// JSON pointer to the text.
    pub path: String,
    /// Only when this also holds.
    pub when: Option<When>,
}

/// Where usage is. Each count is a JSON pointer; a missing one counts 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageRule {
    /// The line's type.
    pub on: String,
    /// Input tokens not served from cache.
    pub input: String,
    /// Output tokens.
    pub output: String,
    /// Cache reads.
    pub cache_read: Option<String>,
    /// Cache writes.
    pub cache_write: Option<String>,
    /// Reasoning tokens.
    pub reasoning: Option<String>,
    /// Cost in USD.
    pub cost: Option<String>,
    /// An object whose single key is the model.
    pub models: Option<String>,
    /// Part of the run, or its total.
    pub scope: UsageScope,
}

/// Where the end of a run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRule {
    /// The line's type.
    pub on: String,
    /// JSON pointer to the status or stop reason.
    pub status: String,
    /// The statuses that end the run; empty means any.
    #[serde(default)]
    pub ends_on: Vec<String>,
    /// The statuses that mean success; empty means any.
    #[serde(default)]
    pub success: Vec<String>,
}

/// A whole JSON-lines dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlSpec {
    /// JSON pointer to each line's type.
    #[serde(default = "default_type_path")]
    pub type_path: String,
    /// The type of the line that starts a session, with its id and model.
    pub start: Option<String>,
    /// JSON pointer to the session id on the start line.
    pub session_id: Option<String>,
    /// JSON pointer to the model on the start line.
    pub model: Option<String>,
    /// Text rules.
    #[serde(default)]
    pub text: Vec<TextRule>,
    /// Usage rules.
    #[serde(default)]
    pub usage: Vec<UsageRule>,
    /// Finish rules.
    #[serde(default)]
    pub finish: Vec<FinishRule>,
}

fn default_type_path() -> String {
    "/type".into()
}

/// The driver for one [`JsonlSpec`].
#[derive(Debug, Clone)]
pub struct JsonlDriver {
    spec: JsonlSpec,
}

impl JsonlDriver {
    /// A driver for `spec`.
    pub fn new(spec: JsonlSpec) -> Self {
        Self { spec }
    }
}

fn holds(value: &Value, when: Option<&When>) -> bool {
    when.is_none_or(|w| str_at(value, &w.path).as_deref() == Some(w.equals.as_str()))
}

impl StreamDriver for JsonlDriver {
    fn on_value(&mut self, value: &Value) -> Vec<RunEvent> {
        let mut events = Vec::new();
        let Some(kind) = str_at(value, &self.spec.type_path) else {
            return events;
        };
        if self.spec.start.as_deref() == Some(kind.as_str()) {
            events.push(RunEvent::Started {
                session_id: self
                    .spec
                    .session_id
                    .as_deref()
                    .and_then(|p| str_at(value, p)),
                model: self.spec.model.as_deref().and_then(|p| str_at(value, p)),
            });
        }
        for rule in self.spec.text.iter().filter(|r| r.on == kind) {
            if holds(value, rule.when.as_ref())
                && let Some(text) = str_at(value, &rule.path)
            {
                events.push(RunEvent::Text { text });
            }
        }
        for rule in self.spec.usage.iter().filter(|r| r.on == kind) {
            let count = |p: &Option<String>| p.as_deref().map_or(0, |p| u64_at(value, p));
            let model = rule
                .models
                .as_deref()
                .and_then(|p| value.pointer(p))
                .and_then(Value::as_object)
                .filter(|m| m.len() == 1)
                .and_then(|m| m.keys().next().cloned());
            events.push(RunEvent::Usage(UsageReport {
                model,
                tokens: TokenCounts {
                    input: u64_at(value, &rule.input),
                    output: u64_at(value, &rule.output),
                    cache_read: count(&rule.cache_read),
                    cache_write: count(&rule.cache_write),
                    reasoning: count(&rule.reasoning),
                },
                cost_usd: rule
                    .cost
                    .as_deref()
                    .and_then(|p| value.pointer(p))
                    .and_then(Value::as_f64),
                scope: rule.scope,
            }));
        }
        for rule in self.spec.finish.iter().filter(|r| r.on == kind) {
            let status = str_at(value, &rule.status).unwrap_or_default();
            if rule.ends_on.is_empty() || rule.ends_on.contains(&status) {
                let ok = rule.success.is_empty() || rule.success.contains(&status);
                events.push(RunEvent::Finished(FinalResult {
                    text: None,
                    stop_reason: status,
                    is_error: !ok,
                    duration_ms: None,
                }));
            }
        }
        events
    }
}
