//! Run events: what every driver turns its CLI's output into, and the fold that sums
//! a run's usage without double-counting.

use serde::Serialize;

/// Token counts of one usage report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TokenCounts {
    /// Input tokens not served from cache.
    pub input: u64,
    /// Output tokens (reasoning included where the CLI includes it).
    pub output: u64,
    /// Input tokens read from the cache.
    pub cache_read: u64,
    /// Input tokens written to the cache.
    pub cache_write: u64,
    /// Reasoning tokens, where reported separately.
    pub reasoning: u64,
}

impl TokenCounts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Self) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.reasoning += other.reasoning;
    }

    /// Input, output and cache tokens together (reasoning is part of output).
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

/// Whether a usage report is one part of the run or the run's own total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageScope {
    /// One model call or step; parts add up.
    Part,
    /// The whole run so far, as the CLI totals it; replaces the parts.
    Total,
}

/// Usage as an agent reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    /// The model, when the report names one.
    pub model: Option<String>,
    /// The counts.
    pub tokens: TokenCounts,
    /// Cost in USD, when the agent reports it.
    pub cost_usd: Option<f64>,
    /// Part or total.
    pub scope: UsageScope,
}

/// How a run ended, as the CLI put it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalResult {
    /// The final answer text, when the CLI gives it whole.
    pub text: Option<String>,
    /// The stop reason (`end_turn`, `cancelled`, `success`...).
    pub stop_reason: String,
    /// True when the CLI says the run failed.
    pub is_error: bool,
    /// The CLI's own duration, when reported.
    pub duration_ms: Option<u64>,
}

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEvent {
    /// The CLI started a session.
    Started {
        /// Its session id.
        session_id: Option<String>,
        /// The model it announced.
        model: Option<String>,
    },
    /// A piece of the answer.
    Text {
        /// The text.
        text: String,
    },
    /// A piece of reasoning.
    Thought {
        /// The text.
        text: String,
    },
    /// The agent called a tool.
    ToolCall {
        /// The call's id.
        id: String,
        /// The tool or the call's title.
        name: String,
    },
    /// Tokens used.
    Usage(UsageReport),
    /// The session's context window: tokens in context, window size, and the
    /// session's cumulative cost (ACP `usage_update`). Not consumption: never summed.
    Context {
        /// Tokens currently in context.
        used: u64,
        /// The window size.
        size: u64,
        /// Cumulative session cost in USD.
        cost_usd: Option<f64>,
    },
    /// The run ended.
    Finished(FinalResult),
    /// The CLI reported an error that did not end the run.
    Error {
        /// What it said.
        message: String,
    },
}

/// A run's events folded into one answer: text, usage and outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// The answer: the final text if the CLI gave one, else the streamed chunks.
    pub text: String,
    /// Usage: the last total if any was reported, else the sum of the parts.
    pub tokens: TokenCounts,
    /// Cost in USD as the agent reported it, if it did.
    pub cost_usd: Option<f64>,
    /// The model, when known.
    pub model: Option<String>,
    /// The stop reason, when the run ended.
    pub stop_reason: Option<String>,
    /// True when the CLI said the run failed.
    pub is_error: bool,
    /// Errors reported along the way.
    pub errors: Vec<String>,
    /// The CLI's own session id (Claude's session, Codex's thread, the ACP
    /// session), which its logs carry too.
    pub session_id: Option<String>,
}

impl RunSummary {
    /// Folds events in order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RunEvent>) -> Self {
        let mut summary = Self::default();
        let mut parts = TokenCounts::default();
        let mut part_cost: Option<f64> = None;
        let mut total: Option<(TokenCounts, Option<f64>)> = None;
        let mut streamed = String::new();
        let mut final_text = None;
        for event in events {
            match event {
                RunEvent::Started { model, session_id } => {
                    summary.model = summary.model.take().or(model.clone());
                    summary.session_id = summary.session_id.take().or(session_id.clone());
                }
                RunEvent::Text { text } => streamed.push_str(text),
                RunEvent::Usage(report) => {
                    if report.model.is_some() {
                        summary.model = report.model.clone();
                    }
                    match report.scope {
                        UsageScope::Part => {
                            parts.add(&report.tokens);
                            if let Some(cost) = report.cost_usd {
                                *part_cost.get_or_insert(0.0) += cost;
                            }
                        }
                        UsageScope::Total => total = Some((report.tokens, report.cost_usd)),
                    }
                }
                RunEvent::Finished(result) => {
                    final_text = result.text.clone().or(final_text);
                    summary.stop_reason = Some(result.stop_reason.clone());
                    summary.is_error = result.is_error;
                }
                RunEvent::Error { message } => summary.errors.push(message.clone()),
                RunEvent::Thought { .. } | RunEvent::ToolCall { .. } | RunEvent::Context { .. } => {
                }
            }
        }
        (summary.tokens, summary.cost_usd) = match total {
            Some((tokens, cost)) => (tokens, cost.or(part_cost)),
            None => (parts, part_cost),
        };
        summary.text = final_text.unwrap_or(streamed);
        summary
    }
}
