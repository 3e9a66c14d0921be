//! Reading the agents' own usage logs: Claude Code (`~/.claude/projects/**/*.jsonl`),
//! Codex (`~/.codex/sessions/**/*.jsonl`), Gemini CLI (`~/.gemini/tmp/*/chats/*.jsonl`,
//! one line per message, checked with 0.61.0) and Qwen Code (`~/.qwen/usage/*.jsonl`,
//! one line per API request including its background calls, checked with 0.24.4).
//! Pure parsing; the engine reads files incrementally and stores what this returns.

use std::borrow::Cow;

use serde_json::Value;

use crate::agents::event::TokenCounts;

/// Which agent's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// Claude Code.
    Claude,
    /// Codex.
    Codex,
    /// Gemini CLI.
    Gemini,
    /// Qwen Code.
    Qwen,
    /// OpenCode.
    #[value(name = "opencode")]
    #[serde(rename = "opencode")]
    OpenCode,
}

impl LogSource {
    /// Every source, in the order `usage import all` reads them.
    pub const ALL: [Self; 5] = [
        Self::Claude,
        Self::Codex,
        Self::Gemini,
        Self::Qwen,
        Self::OpenCode,
    ];

    /// The agent name the entries are recorded under.
    pub fn agent(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
            Self::Qwen => "qwen",
            Self::OpenCode => "opencode",
        }
    }
}

/// One usage entry found in a log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The model, when the log says.
    pub model: Option<String>,
    /// The counts.
    pub tokens: TokenCounts,
    /// What makes this entry unique across imports.
    pub key: String,
    /// The CLI's session, when the line says (Claude's `sessionId`).
    pub session: Option<String>,
    /// The working directory the CLI ran in, when the log says (Claude's `cwd`).
    pub project: Option<String>,
}

/// What one line held.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// A usage entry.
    Entry(LogEntry),
    /// Codex's current turn (`turn_context`): its model and working directory.
    Turn {
        /// The model.
        model: Option<String>,
        /// The working directory.
        project: Option<String>,
    },
    /// Codex's session id (`session_meta`).
    Session(String),
    /// Nothing about usage.
    Other,
    /// Not JSON: skipped and counted.
    Corrupt,
}

fn timestamp(value: &Value) -> i64 {
    value
        .get("timestamp")
        .and_then(Value::as_str)
        .map_or(0, seconds_ms)
}

/// An RFC 3339 time as ms since the epoch, in whole seconds as always (rows already
/// imported keep matching); 0 when it is not one.
fn seconds_ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .map_or(0, |t| t.as_second() * 1000)
}

fn u(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Parses one line of `source`'s log; `where_` (file and offset) keys Codex entries.
pub fn parse_line(source: LogSource, line: &[u8], where_: &str) -> Line {
    let line = line.trim_ascii();
    if source == LogSource::Claude
        && let Some(line) = claude_fast(line)
    {
        return line;
    }
    let line = String::from_utf8_lossy(line);
    let Ok(value) = serde_json::from_str::<Value>(&line) else {
        return if line.trim().is_empty() {
            Line::Other
        } else {
            Line::Corrupt
        };
    };
    match source {
        LogSource::Claude => claude_value(&value),
        LogSource::Codex => {
            let payload = &value["payload"];
            match payload.get("type").and_then(Value::as_str) {
                _ if value.get("type").and_then(Value::as_str) == Some("turn_context") => {
                    Line::Turn {
                        model: text_at(payload, "model"),
                        project: text_at(payload, "cwd"),
                    }
                }
                _ if value.get("type").and_then(Value::as_str) == Some("session_meta") => payload
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or(Line::Other, |id| Line::Session(id.to_owned())),
                Some("token_count") => {
                    // `total_token_usage` is cumulative; `last_token_usage` is this turn's.
                    let Some(last) = payload.pointer("/info/last_token_usage") else {
                        return Line::Other;
                    };
                    let input = u(last, "input_tokens");
                    let cached = u(last, "cached_input_tokens");
                    Line::Entry(LogEntry {
                        at_ms: timestamp(&value),
                        model: None,
                        tokens: TokenCounts {
                            input: input.saturating_sub(cached),
                            output: u(last, "output_tokens"),
                            cache_read: cached,
                            cache_write: 0,
                            reasoning: u(last, "reasoning_output_tokens"),
                        },
                        key: format!("codex:{where_}"),
                        session: None,
                        project: None,
                    })
                }
                _ => Line::Other,
            }
        }
        LogSource::Gemini => gemini_line(&value),
        LogSource::Qwen => qwen_line(&value),
        // A database, not lines: see `opencode_message`.
        LogSource::OpenCode => Line::Other,
    }
}

/// A Claude Code line as far as usage goes; everything else in it (the message's
/// content, tool results) is skipped without being built.
#[derive(serde::Deserialize)]
struct ClaudeLine<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<ClaudeMessage<'a>>,
}

#[derive(serde::Deserialize)]
struct ClaudeMessage<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<ClaudeUsage>,
}

#[derive(serde::Deserialize)]
struct ClaudeUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
}

/// The fast path for Claude Code's logs, which are mostly content: a line without
/// `"usage"` is only checked to be JSON, and one with it is read into the fields above
/// alone. `None` when the line has a shape this does not expect (a `null` count, a
/// message that is not an object): the general path decides.
fn claude_fast(line: &[u8]) -> Option<Line> {
    static USAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));
    if line.is_empty() {
        return Some(Line::Other);
    }
    if USAGE.find(line).is_none() {
        // Not parsed: most of a log is content. A line cut short (a crash mid-write)
        // or not an object at all is still told apart.
        return Some(if line.starts_with(b"{") && line.ends_with(b"}") {
            Line::Other
        } else {
            Line::Corrupt
        });
    }
    let parsed: ClaudeLine<'_> = serde_json::from_slice(line).ok()?;
    let Some(message) = parsed.message else {
        return Some(Line::Other);
    };
    let (Some("assistant"), Some(usage)) = (parsed.kind.as_deref(), message.usage) else {
        return Some(Line::Other);
    };
    Some(Line::Entry(LogEntry {
        at_ms: parsed.timestamp.as_deref().map_or(0, seconds_ms),
        model: message.model.map(Cow::into_owned),
        tokens: TokenCounts {
            input: usage.input_tokens,
            output: usage.output_tokens,
            cache_read: usage.cache_read_input_tokens,
            cache_write: usage.cache_creation_input_tokens,
            reasoning: 0,
        },
        key: format!(
            "claude:{}:{}",
            message.id.as_deref().unwrap_or_default(),
            parsed.request_id.as_deref().unwrap_or_default()
        ),
        session: parsed.session_id.map(Cow::into_owned),
        project: parsed.cwd.map(Cow::into_owned),
    }))
}

/// A Claude Code line read in full (the fast path's fallback).
fn claude_value(value: &Value) -> Line {
    let message = &value["message"];
    let Some(usage) = message.get("usage") else {
        return Line::Other;
    };
    if value.get("type").and_then(Value::as_str) != Some("assistant") {
        return Line::Other;
    }
    // Claude Code writes one message over several lines: message id plus request id
    // identifies it.
    let id = message
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let request = value
        .get("requestId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Line::Entry(LogEntry {
        at_ms: timestamp(value),
        model: text_at(message, "model"),
        tokens: TokenCounts {
            input: u(usage, "input_tokens"),
            output: u(usage, "output_tokens"),
            cache_read: u(usage, "cache_read_input_tokens"),
            cache_write: u(usage, "cache_creation_input_tokens"),
            reasoning: 0,
        },
        key: format!("claude:{id}:{request}"),
        session: text_at(value, "sessionId"),
        project: text_at(value, "cwd"),
    })
}

/// One OpenCode assistant message as its database holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCodeMessage {
    /// The usage entry.
    pub entry: LogEntry,
    /// The provider OpenCode named.
    pub provider: Option<String>,
    /// The cost OpenCode computed (0 for models it has no price for).
    pub cost_usd: Option<f64>,
}

/// A row of OpenCode's `message` table (`data` is its JSON), when it is a finished
/// assistant message (one still streaming has no final counts yet: read next time).
pub fn opencode_message(id: &str, session: &str, data: &str) -> Option<OpenCodeMessage> {
    let value: Value = serde_json::from_str(data).ok()?;
    if value.get("role").and_then(Value::as_str) != Some("assistant")
        || value.pointer("/time/completed").is_none()
    {
        return None;
    }
    let tokens = value.get("tokens")?;
    let cache = &tokens["cache"];
    Some(OpenCodeMessage {
        entry: LogEntry {
            at_ms: value
                .pointer("/time/created")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            model: text_at(&value, "modelID"),
            tokens: TokenCounts {
                input: u(tokens, "input"),
                output: u(tokens, "output"),
                cache_read: u(cache, "read"),
                cache_write: u(cache, "write"),
                reasoning: u(tokens, "reasoning"),
            },
            key: format!("opencode:{id}"),
            session: Some(session.to_owned()),
            project: value
                .pointer("/path/cwd")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        provider: text_at(&value, "providerID"),
        cost_usd: value.get("cost").and_then(Value::as_f64),
    })
}

fn text_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Counts in Gemini's convention (prompt tokens include the cached ones; thoughts
/// are not in the candidates) as the ledger keeps them (input without the cached
/// part; output with the reasoning in it, as OpenAI and Anthropic count).
fn gemini_counts(input: u64, output: u64, cached: u64, thoughts: u64) -> TokenCounts {
    TokenCounts {
        input: input.saturating_sub(cached),
        output: output + thoughts,
        cache_read: cached,
        cache_write: 0,
        reasoning: thoughts,
    }
}

/// A Gemini CLI chat line: the session header, or a model message with its tokens.
fn gemini_line(value: &Value) -> Line {
    if value.get("projectHash").is_some()
        && let Some(session) = text_at(value, "sessionId")
    {
        return Line::Session(session);
    }
    let (Some("gemini"), Some(tokens)) = (
        value.get("type").and_then(Value::as_str),
        value.get("tokens"),
    ) else {
        return Line::Other;
    };
    Line::Entry(LogEntry {
        at_ms: timestamp(value),
        model: text_at(value, "model"),
        tokens: gemini_counts(
            u(tokens, "input"),
            u(tokens, "output"),
            u(tokens, "cached"),
            u(tokens, "thoughts"),
        ),
        key: format!("gemini:{}", text_at(value, "id").unwrap_or_default()),
        session: None,
        project: None,
    })
}

/// A Qwen Code usage record: one API request (the main turn, or a background call
/// such as the memory extractor, which no report the CLI prints includes).
fn qwen_line(value: &Value) -> Line {
    let (Some(id), Some(_)) = (text_at(value, "id"), value.get("inputTokens")) else {
        return Line::Other;
    };
    Line::Entry(LogEntry {
        at_ms: timestamp(value),
        model: text_at(value, "model"),
        tokens: gemini_counts(
            u(value, "inputTokens"),
            u(value, "outputTokens"),
            u(value, "cachedTokens"),
            u(value, "thoughtsTokens"),
        ),
        key: format!("qwen:{id}"),
        session: text_at(value, "sessionId"),
        project: None,
    })
}

/// The session id in a Codex log's file name (`rollout-<time>-<uuid>.jsonl`), for an
/// import that starts after the file's `session_meta` line.
pub fn codex_session_from_path(path: &std::path::Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let id = stem.get(stem.len().checked_sub(36)?..)?;
    (id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_assistant_lines() {
        let line = r#"{"type":"assistant","timestamp":"2026-11-25T00:10:59.742Z","requestId":"req_1","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":11,"output_tokens":7,"cache_creation_input_tokens":5,"cache_read_input_tokens":100}}}"#;
        let Line::Entry(entry) = parse_line(LogSource::Claude, line.as_bytes(), "f:0") else {
            panic!("entry")
        };
        assert_eq!(entry.key, "claude:msg_1:req_1");
        assert_eq!(
            entry.tokens,
            TokenCounts {
                input: 11,
                output: 7,
                cache_read: 100,
                cache_write: 5,
                reasoning: 0
            }
        );
        assert_eq!(entry.at_ms, 1_795_565_459_000);
        assert_eq!(
            parse_line(LogSource::Claude, br#"{"type":"user","message":{}}"#, ""),
            Line::Other
        );
        assert_eq!(parse_line(LogSource::Claude, b"{broken", ""), Line::Corrupt);
    }

    #[test]
    fn claude_lines_keep_the_working_directory_and_odd_shapes_still_count() {
        let line = br#"{"type":"assistant","cwd":"/work/shop","sessionId":"s1","message":{"id":"m","content":[{"type":"text","text":"the \"usage\" of \u00e9"}],"usage":{"input_tokens":3,"output_tokens":null}}}"#;
        let Line::Entry(entry) = parse_line(LogSource::Claude, line, "") else {
            panic!("a null count is read as 0 by the general path")
        };
        assert_eq!((entry.tokens.input, entry.tokens.output), (3, 0));
        assert_eq!(entry.project.as_deref(), Some("/work/shop"));
        assert_eq!(entry.session.as_deref(), Some("s1"));
        let cut = br#"{"type":"user","message":{"content":"half a li"#;
        assert_eq!(parse_line(LogSource::Claude, cut, ""), Line::Corrupt);
        let user = br#"{"type":"user","message":{"content":"no counts here"}}"#;
        assert_eq!(parse_line(LogSource::Claude, user, ""), Line::Other);
    }

    #[test]
    fn codex_uses_the_turn_not_the_running_total() {
        let line = r#"{"timestamp":"2026-11-25T00:11:00.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":500,"output_tokens":90},"last_token_usage":{"input_tokens":120,"cached_input_tokens":20,"output_tokens":30,"reasoning_output_tokens":10}}}}"#;
        let Line::Entry(entry) = parse_line(LogSource::Codex, line.as_bytes(), "f:7") else {
            panic!("entry")
        };
        assert_eq!(
            entry.tokens,
            TokenCounts {
                input: 100,
                output: 30,
                cache_read: 20,
                cache_write: 0,
                reasoning: 10
            }
        );
        let none = r#"{"type":"event_msg","payload":{"type":"token_count","info":null}}"#;
        assert_eq!(
            parse_line(LogSource::Codex, none.as_bytes(), ""),
            Line::Other
        );
        let ctx = r#"{"type":"turn_context","payload":{"model":"gpt-5"}}"#;
        assert_eq!(
            parse_line(LogSource::Codex, ctx.as_bytes(), ""),
            Line::Turn {
                model: Some("gpt-5".into()),
                project: None
            }
        );
    }
}
