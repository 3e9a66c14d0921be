//! What the reference agent does on each prompt: set by flags, optionally overridden
//! per prompt by a JSON script.

use std::path::PathBuf;

use clap::Parser;
use serde::Deserialize;

/// The reference ACP agent shipped with aiswitch. It speaks the Agent Client Protocol
/// on stdio, replies deterministically, and injects latency, usage and faults on
/// demand, so the supervisor, the coordinator and the benchmarks have a real process
/// to drive.
///
/// Its reply to a prompt is `echo: <prompt>`, streamed in chunks. A prompt
/// `write PATH CONTENT` makes it ask the client to write CONTENT to PATH
/// (fs/write_text_file, after session/request_permission with --permission).
/// `env NAME` replies with that env var, `args` with its arguments (for tests of
/// what a preset injected). `call` (or `call stream`) makes one request to the
/// provider its env names (ANTHROPIC_BASE_URL, OPENAI_BASE_URL or
/// GOOGLE_GEMINI_BASE_URL with its key; without ANTHROPIC_AUTH_TOKEN, its "own
/// login" in ~/.aiswitch-agent/credentials) and replies with the HTTP status line.
#[derive(Debug, Clone, Parser)]
#[command(name = "aiswitch-agent", version, max_term_width = 100)]
pub struct Behaviour {
    /// Delay before each reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Number of agent_message_chunk updates a reply is split into.
    #[arg(long, default_value_t = 3)]
    pub chunks: usize,
    /// Input tokens reported per prompt.
    #[arg(long, default_value_t = 11)]
    pub tokens_in: u64,
    /// Output tokens reported per prompt.
    #[arg(long, default_value_t = 7)]
    pub tokens_out: u64,
    /// Cache-read tokens reported per prompt.
    #[arg(long, default_value_t = 0)]
    pub cache_read: u64,
    /// Cache-write tokens reported per prompt.
    #[arg(long, default_value_t = 0)]
    pub cache_write: u64,
    /// Cost in USD added per prompt to the cumulative cost in usage_update.
    #[arg(long)]
    pub cost_usd: Option<f64>,
    /// Context window size reported in usage_update.
    #[arg(long, default_value_t = 200_000)]
    pub context_size: u64,
    /// Every Nth prompt fails with a JSON-RPC error (a deterministic error rate).
    #[arg(long)]
    pub error_every: Option<u64>,
    /// Exit with status 3 when prompt N+1 arrives.
    #[arg(long)]
    pub crash_after: Option<u64>,
    /// Stop answering from prompt N+1 on (0: hang on the first prompt).
    #[arg(long)]
    pub hang_after: Option<u64>,
    /// Before each reply, send this text as one agent_thought_chunk (reasoning).
    #[arg(long, value_name = "TEXT")]
    pub think: Option<String>,
    /// Before each reply, stream this many bytes of agent_thought_chunk updates.
    #[arg(long)]
    pub flood_bytes: Option<usize>,
    /// Before each reply, stream this many output lines `line N at EPOCH_MS`, paced
    /// at --lines-per-sec (for measuring how fast output reaches a screen).
    #[arg(long)]
    pub stream_lines: Option<u64>,
    /// The pace of --stream-lines.
    #[arg(long, default_value_t = 1000)]
    pub lines_per_sec: u64,
    /// On a prompt, print a line that is not JSON.
    #[arg(long)]
    pub garbage: bool,
    /// On a prompt, print a line of invalid UTF-8.
    #[arg(long)]
    pub invalid_utf8: bool,
    /// On a prompt, print one line of this many megabytes.
    #[arg(long)]
    pub huge_line_mb: Option<usize>,
    /// A name for this agent; `{name}` in a prompt is replaced by it.
    #[arg(long, default_value = "aiswitch-agent")]
    pub name: String,
    /// Write this many lines to stderr at start (a flood of log events).
    #[arg(long)]
    pub stderr_lines: Option<usize>,
    /// Sleep this long before reading stdin, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub slow_start_ms: u64,
    /// Keep running when stdin closes (as claude-agent-acp does).
    #[arg(long)]
    pub ignore_stdin_close: bool,
    /// Start a grandchild in our process group that ignores SIGTERM (as the
    /// codex-acp npm wrapper's native binary does).
    #[arg(long)]
    pub grandchild: bool,
    /// Ask session/request_permission before writing a file.
    #[arg(long)]
    pub permission: bool,
    /// A JSON script: {"steps": [{...}, ...]}, step N applying to prompt N+1.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
}

/// One prompt's overrides in a script.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Replace the reply text.
    pub reply: Option<String>,
    /// Replace the latency.
    pub latency_ms: Option<u64>,
    /// Replace the input tokens.
    pub tokens_in: Option<u64>,
    /// Replace the output tokens.
    pub tokens_out: Option<u64>,
    /// Replace the cache-read tokens.
    pub cache_read: Option<u64>,
    /// Replace the cache-write tokens.
    pub cache_write: Option<u64>,
    /// Inject a fault on this prompt.
    pub fault: Option<Fault>,
}

/// Faults a script step can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Answer with a JSON-RPC error.
    Error,
    /// Exit with status 3.
    Crash,
    /// Never answer.
    Hang,
    /// Print a non-JSON line.
    Garbage,
}

#[derive(Debug, Deserialize)]
struct Script {
    steps: Vec<Step>,
}

/// What to do for one prompt, flags and script merged.
#[derive(Debug, Clone)]
pub struct Plan {
    pub reply: Option<String>,
    pub latency_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub fault: Option<Fault>,
}

impl Behaviour {
    /// Loads the script, if any.
    pub fn steps(&self) -> Result<Vec<Step>, String> {
        let Some(path) = &self.script else {
            return Ok(Vec::new());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read script {}: {e}", path.display()))?;
        let script: Script = serde_json::from_str(&text)
            .map_err(|e| format!("invalid script {}: {e}", path.display()))?;
        Ok(script.steps)
    }

    /// The plan for prompt number `n` (1-based).
    pub fn plan(&self, n: u64, steps: &[Step]) -> Plan {
        let step = usize::try_from(n - 1)
            .ok()
            .and_then(|i| steps.get(i))
            .cloned()
            .unwrap_or_default();
        let flag_fault = if self.crash_after.is_some_and(|k| n > k) {
            Some(Fault::Crash)
        } else if self.hang_after.is_some_and(|k| n > k) {
            Some(Fault::Hang)
        } else if self
            .error_every
            .is_some_and(|k| k > 0 && n.is_multiple_of(k))
        {
            Some(Fault::Error)
        } else if self.garbage {
            Some(Fault::Garbage)
        } else {
            None
        };
        Plan {
            reply: step.reply,
            latency_ms: step.latency_ms.unwrap_or(self.latency_ms),
            tokens_in: step.tokens_in.unwrap_or(self.tokens_in),
            tokens_out: step.tokens_out.unwrap_or(self.tokens_out),
            cache_read: step.cache_read.unwrap_or(self.cache_read),
            cache_write: step.cache_write.unwrap_or(self.cache_write),
            fault: step.fault.or(flag_fault),
        }
    }
}
