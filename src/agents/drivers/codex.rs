//! `codex exec --json` (stdin from /dev/null, or it waits for it).
//!
//! OpenAI counts cached input inside `input_tokens` and reasoning inside
//! `output_tokens`; the cached part is split out so input is priced once.

use serde_json::Value;

use super::{StreamDriver, str_at, u64_at};
use crate::agents::event::{FinalResult, RunEvent, TokenCounts, UsageReport, UsageScope};

/// The codex driver.
#[derive(Debug, Default)]
pub struct CodexJson {
    last_message: Option<String>,
}

impl StreamDriver for CodexJson {
    fn on_value(&mut self, value: &Value) -> Vec<RunEvent> {
        let mut events = Vec::new();
        match value.get("type").and_then(Value::as_str) {
            Some("thread.started") => events.push(RunEvent::Started {
                session_id: str_at(value, "/thread_id"),
                model: None,
            }),
            Some("item.completed") => {
                let item = &value["item"];
                let id = str_at(item, "/id").unwrap_or_default();
                match item.get("type").and_then(Value::as_str) {
                    Some("agent_message") => {
                        let text = str_at(item, "/text").unwrap_or_default();
                        self.last_message = Some(text.clone());
                        events.push(RunEvent::Text { text });
                    }
                    Some("reasoning") => events.push(RunEvent::Thought {
                        text: str_at(item, "/text").unwrap_or_default(),
                    }),
                    Some("command_execution") => events.push(RunEvent::ToolCall {
                        id,
                        name: str_at(item, "/command").unwrap_or_else(|| "command".into()),
                    }),
                    Some("file_change") => events.push(RunEvent::ToolCall {
                        id,
                        name: "file_change".into(),
                    }),
                    Some("error") => events.push(RunEvent::Error {
                        message: str_at(item, "/message").unwrap_or_default(),
                    }),
                    _ => {}
                }
            }
            Some("turn.completed") => {
                let usage = &value["usage"];
                let input = u64_at(usage, "/input_tokens");
                let cached = u64_at(usage, "/cached_input_tokens");
                let cache_write = u64_at(usage, "/cache_write_input_tokens");
                events.push(RunEvent::Usage(UsageReport {
                    model: None,
                    tokens: TokenCounts {
                        input: input.saturating_sub(cached + cache_write),
                        output: u64_at(usage, "/output_tokens"),
                        cache_read: cached,
                        cache_write,
                        reasoning: u64_at(usage, "/reasoning_output_tokens"),
                    },
                    cost_usd: None,
                    scope: UsageScope::Part,
                }));
                events.push(RunEvent::Finished(FinalResult {
                    text: self.last_message.clone(),
                    stop_reason: "end_turn".into(),
                    is_error: false,
                    duration_ms: None,
                }));
            }
            Some("turn.failed") => events.push(RunEvent::Finished(FinalResult {
                text: str_at(value, "/error/message"),
                stop_reason: "failed".into(),
                is_error: true,
                duration_ms: None,
            })),
            _ => {}
        }
        events
    }
}
