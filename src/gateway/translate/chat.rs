//! A Chat Completions client served by an Anthropic Messages provider (the official
//! API, or Kimi's, GLM's or DeepSeek's Anthropic endpoints): the request as
//! Anthropic's, the answer as Chat's — text, tool calls, the finish reason, the usage.
//! Codex's Responses requests reach such a provider through here too, by way of Chat.

use serde_json::{Map, Value, json};

/// Anthropic needs a limit; Chat clients often leave it out.
const DEFAULT_MAX_TOKENS: u64 = 8192;

/// A Chat Completions request as an Anthropic Messages one.
pub fn request(chat: &Value) -> Value {
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for message in chat["messages"].as_array().into_iter().flatten() {
        match message["role"].as_str() {
            Some("system" | "developer") => system.push(text_of(&message["content"])),
            Some("assistant") => messages.push(assistant(message)),
            Some("tool") => {
                let result = json!({"type": "tool_result", "tool_use_id": message["tool_call_id"],
                    "content": text_of(&message["content"])});
                // Consecutive tool results answer one assistant turn: one user message.
                match messages.last_mut() {
                    Some(last) if last["role"] == "user" && is_tool_results(last) => {
                        if let Some(blocks) = last["content"].as_array_mut() {
                            blocks.push(result);
                        }
                    }
                    _ => messages.push(json!({"role": "user", "content": [result]})),
                }
            }
            _ => {
                messages.push(json!({"role": "user", "content": user_content(&message["content"])}))
            }
        }
    }
    let mut anthropic = Map::new();
    anthropic.insert("model".into(), chat["model"].clone());
    anthropic.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        anthropic.insert("system".into(), json!(system.join("\n")));
    }
    let max = chat
        .get("max_completion_tokens")
        .or_else(|| chat.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_TOKENS);
    anthropic.insert("max_tokens".into(), json!(max));
    for key in ["temperature", "top_p"] {
        if let Some(value) = chat.get(key).filter(|v| !v.is_null()) {
            anthropic.insert(key.into(), value.clone());
        }
    }
    match &chat["stop"] {
        Value::String(stop) => {
            anthropic.insert("stop_sequences".into(), json!([stop]));
        }
        Value::Array(stops) => {
            anthropic.insert("stop_sequences".into(), json!(stops));
        }
        _ => {}
    }
    let tools: Vec<Value> = chat["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "function")
        .map(|t| {
            let f = &t["function"];
            json!({"name": f["name"], "description": f.get("description").cloned().unwrap_or(Value::Null),
                "input_schema": f.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"}))})
        })
        .collect();
    if !tools.is_empty() {
        anthropic.insert("tools".into(), Value::Array(tools));
        let choice = match &chat["tool_choice"] {
            Value::String(c) if c == "required" => Some(json!({"type": "any"})),
            Value::String(c) if c == "none" => Some(json!({"type": "none"})),
            Value::Object(c) => Some(json!({"type": "tool", "name": c["function"]["name"]})),
            _ => None,
        };
        if let Some(choice) = choice {
            anthropic.insert("tool_choice".into(), choice);
        }
    }
    if chat["stream"].as_bool() == Some(true) {
        anthropic.insert("stream".into(), json!(true));
    }
    Value::Object(anthropic)
}

fn is_tool_results(message: &Value) -> bool {
    message["content"]
        .as_array()
        .is_some_and(|b| b.iter().all(|b| b["type"] == "tool_result"))
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn user_content(content: &Value) -> Value {
    let Value::Array(parts) = content else {
        return json!(text_of(content));
    };
    let blocks: Vec<Value> = parts
        .iter()
        .filter_map(|p| match p["type"].as_str()? {
            "text" => Some(json!({"type": "text", "text": p["text"]})),
            "image_url" => {
                let url = p["image_url"]["url"].as_str().or(p["image_url"].as_str())?;
                Some(
                    match url
                        .strip_prefix("data:")
                        .and_then(|d| d.split_once(";base64,"))
                    {
                        Some((media, data)) => json!({"type": "image", "source":
                        {"type": "base64", "media_type": media, "data": data}}),
                        None => json!({"type": "image", "source": {"type": "url", "url": url}}),
                    },
                )
            }
            _ => None,
        })
        .collect();
    json!(blocks)
}

fn assistant(message: &Value) -> Value {
    let mut blocks = Vec::new();
    let text = text_of(&message["content"]);
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let input = call["function"]["arguments"]
            .as_str()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .unwrap_or_else(|| json!({}));
        blocks.push(json!({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": input}));
    }
    json!({"role": "assistant", "content": blocks})
}

fn finish_reason(stop: Option<&str>) -> &'static str {
    match stop {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        _ => "stop",
    }
}

/// Anthropic's usage in Chat's fields (the cached part inside the prompt tokens).
fn usage(anthropic: &Value) -> Value {
    let n = |k: &str| anthropic[k].as_u64().unwrap_or(0);
    let cached = n("cache_read_input_tokens");
    let prompt = n("input_tokens") + cached + n("cache_creation_input_tokens");
    let output = n("output_tokens");
    json!({"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output,
        "prompt_tokens_details": {"cached_tokens": cached}})
}

/// A whole Anthropic answer (or its error) as a Chat one.
pub fn response(status: u16, body: &[u8]) -> Vec<u8> {
    let answer = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) || answer["type"] == "error" || answer.is_null() {
        let message = answer
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map_or_else(|| String::from_utf8_lossy(body).into_owned(), str::to_owned);
        let kind = answer
            .pointer("/error/type")
            .cloned()
            .unwrap_or(json!("upstream_error"));
        return json!({"error": {"message": message, "type": kind, "code": status}})
            .to_string()
            .into_bytes();
    }
    let blocks = answer["content"].as_array().cloned().unwrap_or_default();
    let text: String = blocks
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect();
    let calls: Vec<Value> = blocks
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| {
            json!({"id": b["id"], "type": "function",
            "function": {"name": b["name"], "arguments": b["input"].to_string()}})
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
    }
    json!({"id": answer["id"], "object": "chat.completion", "created": crate::store::now_ms() / 1000,
        "model": answer["model"], "choices": [{"index": 0, "message": message,
        "finish_reason": finish_reason(answer["stop_reason"].as_str())}], "usage": usage(&answer["usage"])})
    .to_string()
    .into_bytes()
}

/// Anthropic's stream events turned into Chat chunks.
#[derive(Debug, Default)]
pub struct Events {
    id: Value,
    model: Value,
    /// Anthropic's usage so far (input from `message_start`, output from the deltas).
    usage: Map<String, Value>,
    /// The content block index of each tool call, in the order they started.
    tools: Vec<u64>,
    finish: Option<&'static str>,
}

impl Events {
    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish: Option<&str>) {
        let chunk = json!({"id": self.id, "object": "chat.completion.chunk", "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
}

impl super::Events for Events {
    fn event(&mut self, event: &Value, _first: bool, out: &mut Vec<u8>) {
        match event["type"].as_str() {
            Some("message_start") => {
                let message = &event["message"];
                self.id = message["id"].clone();
                self.model = message["model"].clone();
                if let Some(usage) = message["usage"].as_object() {
                    self.usage.extend(usage.clone());
                }
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            Some("content_block_start") if event["content_block"]["type"] == "tool_use" => {
                let block = &event["content_block"];
                let index = self.tools.len();
                self.tools.push(event["index"].as_u64().unwrap_or(0));
                self.chunk(
                    out,
                    json!({"tool_calls": [{"index": index, "id": block["id"], "type": "function",
                    "function": {"name": block["name"], "arguments": ""}}]}),
                    None,
                );
            }
            Some("content_block_delta") => {
                let delta = &event["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => self.chunk(out, json!({"content": delta["text"]}), None),
                    Some("input_json_delta") => {
                        let block = event["index"].as_u64().unwrap_or(0);
                        if let Some(index) = self.tools.iter().position(|b| *b == block) {
                            self.chunk(
                                out,
                                json!({"tool_calls": [{"index": index,
                                "function": {"arguments": delta["partial_json"]}}]}),
                                None,
                            );
                        }
                    }
                    _ => {}
                }
            }
            Some("message_delta") => {
                self.finish = Some(finish_reason(event["delta"]["stop_reason"].as_str()));
                if let Some(usage) = event["usage"].as_object() {
                    // Cumulative: the latest value of each count wins.
                    self.usage.extend(usage.clone());
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.chunk(out, json!({}), Some(self.finish.unwrap_or("stop")));
        let usage = json!({"id": self.id, "object": "chat.completion.chunk", "model": self.model,
            "choices": [], "usage": usage(&Value::Object(self.usage.clone()))});
        out.extend_from_slice(format!("data: {usage}\n\ndata: [DONE]\n\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_request_becomes_an_anthropic_request() {
        let anthropic = request(&json!({
            "model": "m", "stream": true, "stop": "END",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "ls", "arguments": "{}"}},
                    {"id": "t2", "type": "function", "function": {"name": "pwd", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "a.txt"},
                {"role": "tool", "tool_call_id": "t2", "content": "/w"},
            ],
            "tools": [{"type": "function", "function": {"name": "ls", "parameters": {"type": "object"}}}],
        }));
        assert_eq!(anthropic["system"], "be brief");
        assert_eq!(anthropic["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(anthropic["stop_sequences"], json!(["END"]));
        let messages = anthropic["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3, "both tool results in one user turn");
        assert_eq!(messages[1]["content"][1]["name"], "pwd");
        assert_eq!(messages[2]["content"][1]["tool_use_id"], "t2");
        assert_eq!(
            anthropic["tools"][0]["input_schema"],
            json!({"type": "object"})
        );
    }

    #[test]
    fn an_anthropic_stream_becomes_chat_chunks_with_the_usage() {
        let mut stream = super::super::Translation::ChatToAnthropic.stream();
        let events = [
            r#"{"type":"message_start","message":{"id":"m1","model":"claude","usage":{"input_tokens":90,"cache_read_input_tokens":30,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"ls","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":45}}"#,
            r#"{"type":"message_stop"}"#,
        ];
        let mut text = String::new();
        for event in events {
            text +=
                &String::from_utf8(stream.feed(format!("event: x\ndata: {event}\n\n").as_bytes()))
                    .unwrap();
        }
        assert!(stream.finish().is_empty(), "message_stop ended it");
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        assert!(text.contains(r#""finish_reason":"tool_calls""#), "{text}");
        assert!(
            text.contains(r#""prompt_tokens":120"#) && text.contains(r#""completion_tokens":45"#),
            "{text}"
        );
        assert!(text.contains(r#""content":"Hi""#), "{text}");
    }
}
