//! The agents' own usage logs, written into a test's home as the CLIs write them.

use super::Home;

/// One Claude Code log line: assistant message `msg` of `model` with `input` input
/// tokens, 5 output and 2 read from the cache, at `at` (RFC 3339).
pub fn claude_line(msg: &str, model: &str, input: u64, at: &str) -> String {
    let model = serde_json::to_string(model).unwrap();
    format!(
        r#"{{"type":"assistant","timestamp":"{at}","requestId":"r-{msg}","sessionId":"s-1","message":{{"id":"{msg}","model":{model},"usage":{{"input_tokens":{input},"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":2}}}}}}"#
    ) + "\n"
}

/// Writes `text` as a Claude Code session log under the test's home.
pub fn write_claude_log(home: &Home, text: &str) {
    let log = home.user_home().join(".claude/projects/-app/s.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, text).unwrap();
}
