//! The ACP driver's event mapping: `session/update` notifications and the
//! `session/prompt` result become run events.
//!
//! Where agents put usage differs (DESIGN §4.1): the result's `usage` (unstable
//! extension: OpenCode, claude-agent-acp, our reference agent), `_meta.quota.token_count`
//! (Gemini), `agent_message_chunk._meta.usage` (Qwen). `usage_update` carries the
//! context size and the session's cumulative cost: the cost of one turn is the
//! difference, never the sum.

use serde_json::Value;

use super::{str_at, u64_at};
use crate::agents::event::{FinalResult, RunEvent, TokenCounts, UsageReport, UsageScope};

/// Maps one ACP session's traffic to run events.
#[derive(Debug, Default)]
pub struct AcpDriver {
    /// The last cumulative cost seen, and the one at the start of this turn.
    cumulative_cost: Option<f64>,
    turn_start_cost: Option<f64>,
    /// Usage seen in chunk metadata this turn (Qwen), reported at the end.
    chunk_usage: Option<TokenCounts>,
}

/// Reads counts in either naming style (`inputTokens` or `input_tokens`).
fn counts(value: &Value) -> Option<TokenCounts> {
    let pick = |camel: &str, snake: &str| {
        value
            .get(camel)
            .or_else(|| value.get(snake))
            .and_then(Value::as_u64)
    };
    let input =
        pick("inputTokens", "input_tokens").or_else(|| pick("promptTokens", "prompt_tokens"))?;
    Some(TokenCounts {
        input,
        output: pick("outputTokens", "output_tokens")
            .or_else(|| pick("completionTokens", "completion_tokens"))
            .unwrap_or(0),
        cache_read: pick("cachedReadTokens", "cached_read_tokens")
            .or_else(|| pick("cachedTokens", "cached_tokens"))
            .unwrap_or(0),
        cache_write: pick("cachedWriteTokens", "cached_write_tokens").unwrap_or(0),
        reasoning: pick("thoughtTokens", "thought_tokens").unwrap_or(0),
    })
}

impl AcpDriver {
    /// Marks the start of a prompt turn.
    pub fn start_turn(&mut self) {
        self.turn_start_cost = self.cumulative_cost;
        self.chunk_usage = None;
    }

    /// Maps the `params` of a `session/update` notification.
    pub fn on_update(&mut self, params: &Value) -> Vec<RunEvent> {
        let update = &params["update"];
        let text = || str_at(update, "/content/text").unwrap_or_default();
        match update.get("sessionUpdate").and_then(Value::as_str) {
            Some("agent_message_chunk") => {
                if let Some(usage) = update.pointer("/_meta/usage").and_then(counts) {
                    self.chunk_usage = Some(usage);
                }
                vec![RunEvent::Text { text: text() }]
            }
            Some("agent_thought_chunk") => vec![RunEvent::Thought { text: text() }],
            Some("tool_call") => vec![RunEvent::ToolCall {
                id: str_at(update, "/toolCallId").unwrap_or_default(),
                name: str_at(update, "/title").unwrap_or_default(),
            }],
            Some("usage_update") => {
                let cost = update.pointer("/cost/amount").and_then(Value::as_f64);
                if cost.is_some() {
                    self.cumulative_cost = cost;
                }
                vec![RunEvent::Context {
                    used: u64_at(update, "/used"),
                    size: u64_at(update, "/size"),
                    cost_usd: cost,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Maps a `session/prompt` result: usage from wherever this agent puts it, then
    /// the end of the turn.
    pub fn on_prompt_result(&mut self, result: &Value) -> Vec<RunEvent> {
        let mut events = Vec::new();
        let tokens = result
            .get("usage")
            .and_then(counts)
            .or_else(|| result.pointer("/_meta/quota/token_count").and_then(counts))
            .or(self.chunk_usage.take());
        let turn_cost = match (self.cumulative_cost, self.turn_start_cost) {
            (Some(now), Some(before)) => Some(now - before),
            (Some(now), None) => Some(now),
            _ => None,
        };
        if let Some(tokens) = tokens {
            events.push(RunEvent::Usage(UsageReport {
                model: None,
                tokens,
                cost_usd: turn_cost,
                scope: UsageScope::Total,
            }));
        }
        events.push(RunEvent::Finished(FinalResult {
            text: None,
            stop_reason: str_at(result, "/stopReason").unwrap_or_else(|| "unknown".into()),
            is_error: false,
            duration_ms: None,
        }));
        self.turn_start_cost = self.cumulative_cost;
        events
    }
}
