//! Every file in `tests/fixtures/agent-output/` (real CLI output against the fake
//! provider answering 11 input / 7 output tokens per call, recorded by
//! `scripts/record-fixtures.sh`) parsed field for field.

use std::path::PathBuf;

use super::*;
use crate::agents::AgentRegistry;
use crate::agents::event::{RunEvent, RunSummary, TokenCounts, UsageScope};

/// Every recorded file; each has a test here.
const FIXTURES: [&str; 6] = [
    "claude-stream-json-tool.jsonl",
    "claude-stream-json.jsonl",
    "codex-exec-json.jsonl",
    "gemini-stream-json.jsonl",
    "opencode-run-json.jsonl",
    "qwen-stream-json.jsonl",
];

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/agent-output")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(driver: &mut dyn StreamDriver, name: &str) -> (Vec<RunEvent>, RunSummary) {
    let mut events = Vec::new();
    for line in fixture(name).lines() {
        events.extend(
            driver
                .on_line(line)
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
    }
    let summary = RunSummary::from_events(&events);
    (events, summary)
}

/// A field of the fixture's first line, read independently of the drivers (the
/// recorded ids change with every recording).
fn first_line_field(name: &str, field: &str) -> String {
    let text = fixture(name);
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
    first[field].as_str().expect("a string field").to_owned()
}

/// One reply of the fake provider, whole: `FAKE_REPLY_<n>` and nothing else.
fn assert_one_reply(text: &str, rest: &str) {
    let number = text
        .strip_prefix("FAKE_REPLY_")
        .and_then(|t| t.strip_suffix(rest))
        .unwrap_or_else(|| panic!("not one reply: {text:?}"));
    assert!(
        !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()),
        "not one reply: {text:?}"
    );
}

fn spec(id: &str) -> JsonlSpec {
    AgentRegistry::builtins()
        .into_iter()
        .find(|m| m.id.as_str() == id)
        .and_then(|m| m.jsonl)
        .expect("built-in jsonl spec")
}

fn tokens(input: u64, output: u64) -> TokenCounts {
    TokenCounts {
        input,
        output,
        ..TokenCounts::default()
    }
}

#[test]
fn claude_single_turn() {
    let name = "claude-stream-json.jsonl";
    let (events, summary) = run(&mut ClaudeStreamJson::default(), name);
    let session = first_line_field(name, "session_id");
    assert!(matches!(&events[0], RunEvent::Started { session_id: Some(id), .. } if *id == session));
    assert_one_reply(&summary.text, "");
    assert_eq!(summary.tokens, tokens(11, 7));
    assert_eq!(summary.cost_usd, Some(0.00023));
    assert_eq!(summary.model.as_deref(), Some("claude-preset-model"));
    assert_eq!(summary.stop_reason.as_deref(), Some("end_turn"));
    assert!(!summary.is_error);
}

#[test]
fn claude_tool_turns_count_the_total_once() {
    let (events, summary) = run(
        &mut ClaudeStreamJson::default(),
        "claude-stream-json-tool.jsonl",
    );
    let parts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Usage(u) if u.scope == UsageScope::Part => Some(u.tokens),
            _ => None,
        })
        .collect();
    // Each assistant line carries its call's usage as streaming began (11 in,
    // 1 out); the result line has the real total.
    assert_eq!(parts, [tokens(11, 1), tokens(11, 1)], "two model calls");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::ToolCall { name, .. } if name == "Bash"))
    );
    assert_eq!(
        summary.tokens,
        tokens(22, 14),
        "the result's total, not parts + total"
    );
    assert_eq!(summary.cost_usd, Some(0.00046));
    assert_one_reply(&summary.text, " (saw tool result)");
}

#[test]
fn qwen_stream_json_uses_its_result_total() {
    let (_, summary) = run(&mut ClaudeStreamJson::default(), "qwen-stream-json.jsonl");
    assert_one_reply(&summary.text, "");
    assert_eq!(
        summary.tokens,
        tokens(22, 14),
        "its result counts the memory extractor's call too"
    );
    assert_eq!(summary.cost_usd, None, "qwen reports no cost");
    assert_eq!(summary.stop_reason.as_deref(), Some("success"));
}

#[test]
fn codex_exec_json() {
    let name = "codex-exec-json.jsonl";
    let (events, summary) = run(&mut CodexJson::default(), name);
    let thread = first_line_field(name, "thread_id");
    assert!(matches!(&events[0], RunEvent::Started { session_id: Some(id), .. } if *id == thread));
    assert!(
        events.iter().any(
            |e| matches!(e, RunEvent::Error { message } if message.contains("Model metadata"))
        )
    );
    assert_one_reply(&summary.text, "");
    assert_eq!(summary.tokens, tokens(11, 7));
    assert_eq!(summary.cost_usd, None, "codex reports no cost");
    assert_eq!(summary.stop_reason.as_deref(), Some("end_turn"));
}

#[test]
fn gemini_stream_json() {
    let (events, summary) = run(
        &mut JsonlDriver::new(spec("gemini-print")),
        "gemini-stream-json.jsonl",
    );
    assert!(
        matches!(&events[0], RunEvent::Started { model: Some(m), .. } if m == "gemini-preset-model")
    );
    assert_one_reply(&summary.text, "");
    assert_eq!(
        summary.tokens,
        tokens(11, 7),
        "the user's message is no usage"
    );
    assert_eq!(summary.model.as_deref(), Some("gemini-preset-model"));
    assert_eq!(summary.stop_reason.as_deref(), Some("success"));
    assert!(!summary.is_error);
}

#[test]
fn opencode_run_json() {
    let (_, summary) = run(
        &mut JsonlDriver::new(spec("opencode-run")),
        "opencode-run-json.jsonl",
    );
    assert_one_reply(&summary.text, "");
    assert_eq!(summary.tokens, tokens(11, 7));
    assert_eq!(
        summary.cost_usd,
        Some(0.0),
        "opencode reports its cost, here 0"
    );
    assert_eq!(summary.stop_reason.as_deref(), Some("stop"));
}

#[test]
fn every_fixture_file_is_described() {
    let readme = fixture("README.md");
    for name in FIXTURES {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("README.md has no row for {name}"));
        assert!(
            row.contains('@') && row.contains("`aiswitch run "),
            "{name}: its row names no version or command: {row}"
        );
    }
}

#[test]
fn every_fixture_file_is_covered() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agent-output");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    files.sort();
    assert_eq!(files, FIXTURES, "a new fixture needs a test here");
}

#[test]
fn garbage_line_is_an_error_naming_it() {
    let err = ClaudeStreamJson::default()
        .on_line("Error: not logged in")
        .expect_err("not JSON");
    assert!(err.to_string().contains("Error: not logged in"));
}

#[test]
fn acp_usage_from_the_result_and_cost_from_the_cumulative_figure() {
    let mut acp = AcpDriver::default();
    let update = |cost: f64| serde_json::json!({"sessionId": "s", "update": {"sessionUpdate": "usage_update", "used": 100, "size": 1000, "cost": {"amount": cost, "currency": "USD"}}});
    let result = serde_json::json!({"stopReason": "end_turn", "usage": {"totalTokens": 23, "inputTokens": 11, "outputTokens": 7, "cachedReadTokens": 5}});
    acp.start_turn();
    acp.on_update(&update(0.01));
    let first = RunSummary::from_events(&acp.on_prompt_result(&result));
    acp.start_turn();
    acp.on_update(&update(0.03));
    let second = RunSummary::from_events(&acp.on_prompt_result(&result));
    assert_eq!(
        first.tokens,
        TokenCounts {
            input: 11,
            output: 7,
            cache_read: 5,
            ..TokenCounts::default()
        }
    );
    assert_eq!(first.cost_usd, Some(0.01));
    let cost = second.cost_usd.expect("cost");
    assert!(
        (cost - 0.02).abs() < 1e-12,
        "the turn's cost is the difference: {cost}"
    );
    let gemini = serde_json::json!({"stopReason": "end_turn", "_meta": {"quota": {"token_count": {"input_tokens": 11, "output_tokens": 7}}}});
    assert_eq!(
        RunSummary::from_events(&acp.on_prompt_result(&gemini)).tokens,
        tokens(11, 7)
    );
}
