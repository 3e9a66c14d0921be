//! `claude -p --output-format stream-json --verbose` (also `qwen -p` and Cursor's
//! `agent -p` with the same format).
//!
//! Assistant messages carry per-call usage (parts; one message id can span several
//! events, so each id counts once); the final `result` carries the run's total,
//! `modelUsage` per model and, for Claude, `total_cost_usd`.

use std::collections::HashSet;

use serde_json::Value;

use super::{StreamDriver, str_at, u64_at};
use crate::agents::event::{FinalResult, RunEvent, TokenCounts, UsageReport, UsageScope};

/// The stream-json driver.
#[derive(Debug, Default)]
pub struct ClaudeStreamJson {
    counted_messages: HashSet<String>,
}

/// Anthropic-style usage fields.
fn anthropic_tokens(usage: &Value) -> TokenCounts {
    TokenCounts {
        input: u64_at(usage, "/input_tokens"),
        output: u64_at(usage, "/output_tokens"),
        cache_read: u64_at(usage, "/cache_read_input_tokens"),
        cache_write: u64_at(usage, "/cache_creation_input_tokens"),
        reasoning: u64_at(usage, "/output_tokens_details/thinking_tokens"),
    }
}

impl StreamDriver for ClaudeStreamJson {
    fn on_value(&mut self, value: &Value) -> Vec<RunEvent> {
        let mut events = Vec::new();
        match value.get("type").and_then(Value::as_str) {
            Some("system") if str_at(value, "/subtype").as_deref() == Some("init") => {
                events.push(RunEvent::Started {
                    session_id: str_at(value, "/session_id"),
                    model: str_at(value, "/model"),
                });
            }
            Some("assistant") => {
                let message = &value["message"];
                for block in message["content"].as_array().into_iter().flatten() {
                    match block.get("type").and_then(Value::as_str) {
                        Some("text") => events.push(RunEvent::Text {
                            text: str_at(block, "/text").unwrap_or_default(),
                        }),
                        Some("thinking") => events.push(RunEvent::Thought {
                            text: str_at(block, "/thinking").unwrap_or_default(),
                        }),
                        Some("tool_use") => events.push(RunEvent::ToolCall {
                            id: str_at(block, "/id").unwrap_or_default(),
                            name: str_at(block, "/name").unwrap_or_default(),
                        }),
                        _ => {}
                    }
                }
                let id = str_at(message, "/id").unwrap_or_default();
                if message.get("usage").is_some() && self.counted_messages.insert(id) {
                    events.push(RunEvent::Usage(UsageReport {
                        model: str_at(message, "/model"),
                        tokens: anthropic_tokens(&message["usage"]),
                        cost_usd: None,
                        scope: UsageScope::Part,
                    }));
                }
            }
            Some("result") => {
                let models = value.get("modelUsage").and_then(Value::as_object);
                let model = models
                    .filter(|m| m.len() == 1)
                    .and_then(|m| m.keys().next().cloned());
                if let Some(usage) = value.get("usage") {
                    events.push(RunEvent::Usage(UsageReport {
                        model,
                        tokens: anthropic_tokens(usage),
                        cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
                        scope: UsageScope::Total,
                    }));
                }
                let is_error = value
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                events.push(RunEvent::Finished(FinalResult {
                    text: str_at(value, "/result"),
                    stop_reason: str_at(value, "/stop_reason")
                        .or_else(|| str_at(value, "/subtype"))
                        .unwrap_or_else(|| "unknown".into()),
                    is_error,
                    duration_ms: value.get("duration_ms").and_then(Value::as_u64),
                }));
            }
            _ => {}
        }
        events
    }
}
