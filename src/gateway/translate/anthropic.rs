//! Anthropic Messages (Claude Code) served by a Chat Completions provider: the request
//! as Chat's, the answer — one JSON body, or an SSE stream event by event — as
//! Anthropic would have sent it: text and tool calls, the stop reason, the usage.
//! What has no counterpart (thinking blocks, citations) is left out.

use serde_json::{Map, Value, json};

use super::emit;

/// An Anthropic Messages request as a Chat Completions one.
pub fn request(anthropic: &Value) -> Value {
    let mut messages = Vec::new();
    let system = match anthropic.get("system") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => text_of(blocks),
        _ => String::new(),
    };
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for message in anthropic["messages"].as_array().into_iter().flatten() {
        let role = message["role"].as_str().unwrap_or("user");
        match &message["content"] {
            Value::String(text) => messages.push(json!({"role": role, "content": text})),
            Value::Array(blocks) if role == "assistant" => messages.push(assistant(blocks)),
            Value::Array(blocks) => user(blocks, &mut messages),
            _ => {}
        }
    }
    let mut chat = Map::new();
    chat.insert("model".into(), anthropic["model"].clone());
    chat.insert("messages".into(), Value::Array(messages));
    for (from, to) in [
        ("max_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("stop_sequences", "stop"),
    ] {
        if let Some(value) = anthropic.get(from).filter(|v| !v.is_null()) {
            chat.insert(to.into(), value.clone());
        }
    }
    if let Some(tools) = anthropic["tools"].as_array().filter(|t| !t.is_empty()) {
        let tools: Vec<Value> = tools
            .iter()
            .filter(|t| t.get("input_schema").is_some())
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t["name"],
                    "description": t.get("description").cloned().unwrap_or(Value::Null),
                    "parameters": t["input_schema"],
                }})
            })
            .collect();
        chat.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = anthropic.get("tool_choice") {
        let choice = match choice["type"].as_str() {
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => json!({"type": "function", "function": {"name": choice["name"]}}),
            _ => json!("auto"),
        };
        chat.insert("tool_choice".into(), choice);
    }
    if anthropic["stream"].as_bool() == Some(true) {
        chat.insert("stream".into(), json!(true));
        // Without it a streamed answer carries no usage to meter.
        chat.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(chat)
}

fn text_of(blocks: &[Value]) -> String {
    blocks
        .iter()
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An assistant turn: its text, and its tool calls as `tool_calls`.
fn assistant(blocks: &[Value]) -> Value {
    let text = text_of(
        &blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let calls: Vec<Value> = blocks
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| {
            json!({"id": b["id"], "type": "function", "function": {
                "name": b["name"],
                "arguments": b.get("input").map_or_else(|| "{}".to_owned(), Value::to_string),
            }})
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": text});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    message
}

/// A user turn: tool results become `tool` messages (first, as they answer the
/// previous turn's calls), the rest one user message of text and images.
fn user(blocks: &[Value], messages: &mut Vec<Value>) {
    let mut parts = Vec::new();
    for block in blocks {
        match block["type"].as_str() {
            Some("tool_result") => {
                let content = match &block["content"] {
                    Value::String(text) => text.clone(),
                    Value::Array(inner) => text_of(inner),
                    _ => String::new(),
                };
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": block["tool_use_id"],
                    "content": content,
                }));
            }
            Some("text") => parts.push(json!({"type": "text", "text": block["text"]})),
            Some("image") if block["source"]["type"] == "base64" => {
                let source = &block["source"];
                let url = format!(
                    "data:{};base64,{}",
                    source["media_type"].as_str().unwrap_or("image/png"),
                    source["data"].as_str().unwrap_or_default()
                );
                parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
            }
            _ => {}
        }
    }
    if !parts.is_empty() {
        messages.push(json!({"role": "user", "content": parts}));
    }
}

fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        _ => "end_turn",
    }
}

/// Chat's usage in Anthropic's fields (the cached part apart from the input).
fn usage(chat: &Value) -> Value {
    let (prompt, cached, output) = super::chat_counts(chat);
    json!({
        "input_tokens": prompt.saturating_sub(cached),
        "output_tokens": output,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    })
}

/// A whole Chat Completions answer (or its error) as an Anthropic one.
pub fn response(status: u16, body: &[u8]) -> Vec<u8> {
    let Ok(chat) = serde_json::from_slice::<Value>(body) else {
        return error(status, &String::from_utf8_lossy(body));
    };
    if !(200..300).contains(&status) || chat.get("error").is_some() {
        let message = chat
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map_or_else(|| chat.to_string(), str::to_owned);
        return error(status, &message);
    }
    let choice = &chat["choices"][0];
    let mut content = Vec::new();
    if let Some(text) = choice["message"]["content"]
        .as_str()
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in choice["message"]["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let input = call["function"]["arguments"]
            .as_str()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .unwrap_or_else(|| json!({}));
        content.push(json!({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": input}));
    }
    json!({
        "id": chat["id"],
        "type": "message",
        "role": "assistant",
        "model": chat["model"],
        "content": content,
        "stop_reason": stop_reason(choice["finish_reason"].as_str()),
        "stop_sequence": null,
        "usage": usage(&chat["usage"]),
    })
    .to_string()
    .into_bytes()
}

fn error(status: u16, message: &str) -> Vec<u8> {
    let kind = match status {
        401 | 403 => "authentication_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
        .to_string()
        .into_bytes()
}

/// A Chat Completions SSE stream turned into Anthropic's, chunk by chunk.
#[derive(Debug, Default)]
pub struct Events {
    /// The open content block: its index, and the Chat tool call it is (`None`: text).
    open: Option<(usize, Option<u64>)>,
    next_index: usize,
    finish: Option<String>,
    usage: Option<Value>,
}

impl super::Events for Events {
    fn event(&mut self, chunk: &Value, first: bool, out: &mut Vec<u8>) {
        if first {
            emit(
                out,
                "message_start",
                &json!({"type": "message_start", "message": {
                    "id": chunk["id"], "type": "message", "role": "assistant", "model": chunk["model"],
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                }}),
            );
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage.clone());
        }
        let choice = &chunk["choices"][0];
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            if !matches!(self.open, Some((_, None))) {
                self.open_block(out, None, json!({"type": "text", "text": ""}));
            }
            let index = self.next_index - 1;
            emit(
                out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": text}}),
            );
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let which = call["index"].as_u64().unwrap_or(0);
            if self.open.is_none_or(|(_, open)| open != Some(which)) {
                let block = json!({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": {}});
                self.open_block(out, Some(which), block);
            }
            if let Some(args) = call["function"]["arguments"]
                .as_str()
                .filter(|a| !a.is_empty())
            {
                let index = self.next_index - 1;
                emit(
                    out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": args}}),
                );
            }
        }
        if let Some(finish) = choice["finish_reason"].as_str() {
            self.finish = Some(finish.to_owned());
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.close_block(out);
        let usage = usage(self.usage.as_ref().unwrap_or(&Value::Null));
        emit(
            out,
            "message_delta",
            &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(self.finish.as_deref()), "stop_sequence": null},
            "usage": usage}),
        );
        emit(out, "message_stop", &json!({"type": "message_stop"}));
    }
}

impl Events {
    fn open_block(&mut self, out: &mut Vec<u8>, call: Option<u64>, block: Value) {
        self.close_block(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, call));
        emit(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
    }

    fn close_block(&mut self, out: &mut Vec<u8>) {
        if let Some((index, _)) = self.open.take() {
            emit(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claude_request_becomes_a_chat_request() {
        let chat = request(&json!({
            "model": "m", "max_tokens": 100, "stream": true,
            "system": [{"type": "text", "text": "be brief"}],
            "tools": [{"name": "Bash", "description": "run", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "let me look"},
                    {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "a.txt"}]},
                    {"type": "text", "text": "and now?"}]},
            ],
        }));
        let messages = chat["messages"].as_array().unwrap();
        assert_eq!(
            messages[0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            messages[2]["tool_calls"][0]["function"]["arguments"],
            r#"{"command":"ls"}"#
        );
        assert_eq!(
            messages[3],
            json!({"role": "tool", "tool_call_id": "t1", "content": "a.txt"})
        );
        assert_eq!(messages[4]["content"][0]["text"], "and now?");
        assert_eq!(
            chat["tools"][0]["function"]["parameters"],
            json!({"type": "object"})
        );
        assert_eq!(chat["stream_options"]["include_usage"], true);
    }

    #[test]
    fn a_chat_stream_becomes_claudes_events_with_the_usage() {
        let mut stream = super::super::Translation::AnthropicToChat.stream();
        let chunks = [
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"Bash","arguments":"{\"a\""}}]}}]}"#,
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":90,"completion_tokens":45,"prompt_tokens_details":{"cached_tokens":30}}}"#,
        ];
        let mut text = String::new();
        for chunk in chunks {
            // Split mid-event: the converter waits for the rest.
            let event = format!("data: {chunk}\n\n");
            let (a, b) = event.split_at(7);
            text += &String::from_utf8(stream.feed(a.as_bytes())).unwrap();
            text += &String::from_utf8(stream.feed(b.as_bytes())).unwrap();
        }
        text += &String::from_utf8(stream.feed(b"data: [DONE]\n\n")).unwrap();
        let events: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(
            events,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert!(text.contains(r#""stop_reason":"tool_use""#), "{text}");
        assert!(
            text.contains(r#""input_tokens":60"#)
                && text.contains(r#""cache_read_input_tokens":30"#),
            "{text}"
        );
        assert!(stream.finish().is_empty(), "ended once");
    }

    #[test]
    fn a_chat_answer_and_an_error_become_claudes() {
        let body = json!({"id": "c", "model": "m", "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2}});
        let answer: Value =
            serde_json::from_slice(&response(200, body.to_string().as_bytes())).unwrap();
        assert_eq!(answer["content"][0], json!({"type": "text", "text": "hi"}));
        assert_eq!(answer["stop_reason"], "end_turn");
        assert_eq!(answer["usage"]["input_tokens"], 5);
        let refused: Value =
            serde_json::from_slice(&response(401, br#"{"error":{"message":"bad key"}}"#)).unwrap();
        assert_eq!(refused["error"]["type"], "authentication_error");
        assert_eq!(refused["error"]["message"], "bad key");
    }
}
