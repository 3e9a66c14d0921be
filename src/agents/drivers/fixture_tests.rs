//! Every file in `../shared/fixtures/agent-output/` (real CLI output against a fake
//! provider answering 11 input / 7 output tokens per call) parsed field for field.

use std::path::PathBuf;

use super::*;
use crate::agents::AgentRegistry;
use crate::agents::event::{RunEvent, RunSummary, TokenCounts, UsageScope};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/agent-output")
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
    let (events, summary) = run(&mut ClaudeStreamJson::default(), "claude-stream-json.jsonl");
    assert!(
        matches!(&events[0], RunEvent::Started { session_id: Some(id), .. } if id == "2b27ffc9-2930-4a71-9eae-d9171d54bae4")
    );
    assert_eq!(summary.text, "FAKE_REPLY_2");
    assert_eq!(summary.tokens, tokens(11, 7));
    assert_eq!(summary.cost_usd, Some(0.00018399999999999997));
    assert_eq!(summary.model.as_deref(), Some("claude-opus-5-5"));
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
    assert_eq!(parts, [tokens(11, 7), tokens(11, 7)], "two model calls");
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
    assert_eq!(summary.cost_usd, Some(0.00036799999999999995));
    assert_eq!(summary.text, "FAKE_REPLY_4 (saw tool result)");
}

#[test]
fn qwen_stream_json_uses_its_result_total() {
    let (_, summary) = run(&mut ClaudeStreamJson::default(), "qwen-stream-json.jsonl");
    assert_eq!(summary.text, "FAKE_REPLY_11");
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
    let (events, summary) = run(&mut CodexJson::default(), "codex-exec-json.jsonl");
    assert!(
        matches!(&events[0], RunEvent::Started { session_id: Some(id), .. } if id == "01a2100a-b973-7823-911f-d9c178667e6d")
    );
    assert!(
        events.iter().any(
            |e| matches!(e, RunEvent::Error { message } if message.contains("Model metadata"))
        )
    );
    assert_eq!(summary.text, "FAKE_REPLY_7");
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
    assert!(matches!(&events[0], RunEvent::Started { model: Some(m), .. } if m == "auto"));
    assert_eq!(
        summary.text, "FAKE_REPLY_9",
        "the user's message is not the answer"
    );
    assert_eq!(
        summary.tokens,
        tokens(22, 14),
        "the router's call is in its stats"
    );
    assert_eq!(summary.model.as_deref(), Some("gemini-fake"));
    assert_eq!(summary.stop_reason.as_deref(), Some("success"));
    assert!(!summary.is_error);
}

#[test]
fn opencode_run_json() {
    let (_, summary) = run(
        &mut JsonlDriver::new(spec("opencode-run")),
        "opencode-run-json.jsonl",
    );
    assert_eq!(summary.text, "FAKE_REPLY_6");
    assert_eq!(summary.tokens, tokens(11, 7));
    assert_eq!(
        summary.cost_usd,
        Some(0.0),
        "opencode reports its cost, here 0"
    );
    assert_eq!(summary.stop_reason.as_deref(), Some("stop"));
}

#[test]
fn every_fixture_file_is_covered() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/agent-output");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "claude-stream-json-tool.jsonl",
            "claude-stream-json.jsonl",
            "codex-exec-json.jsonl",
            "gemini-stream-json.jsonl",
            "opencode-run-json.jsonl",
            "qwen-stream-json.jsonl"
        ],
        "a new fixture needs a test here"
    );
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
