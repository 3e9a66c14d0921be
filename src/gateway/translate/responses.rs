//! OpenAI Responses (Codex) served by a Chat Completions provider: the request's
//! instructions, input items and function tools as Chat's messages and tools; the
//! answer — one JSON body, or an SSE stream — as the Responses API's output items (a
//! message, function calls) and `response.completed` with the usage. Tools that are
//! not functions (web search, freeform tools) and reasoning items are left out.

use serde_json::{Map, Value, json};

use super::emit;

/// A Responses request as a Chat Completions one.
pub fn request(responses: &Value) -> Value {
    let mut messages = Vec::new();
    if let Some(text) = responses["instructions"].as_str().filter(|t| !t.is_empty()) {
        messages.push(json!({"role": "system", "content": text}));
    }
    match &responses["input"] {
        Value::String(text) => messages.push(json!({"role": "user", "content": text})),
        Value::Array(items) => {
            for item in items {
                input_item(item, &mut messages);
            }
        }
        _ => {}
    }
    let mut chat = Map::new();
    chat.insert("model".into(), responses["model"].clone());
    chat.insert("messages".into(), Value::Array(messages));
    for (from, to) in [
        ("max_output_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("parallel_tool_calls", "parallel_tool_calls"),
    ] {
        if let Some(value) = responses.get(from).filter(|v| !v.is_null()) {
            chat.insert(to.into(), value.clone());
        }
    }
    let tools: Vec<Value> = responses["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "function")
        .map(|t| {
            json!({"type": "function", "function": {
                "name": t["name"],
                "description": t.get("description").cloned().unwrap_or(Value::Null),
                "parameters": t.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"})),
            }})
        })
        .collect();
    if !tools.is_empty() {
        chat.insert("tools".into(), Value::Array(tools));
        let choice = match &responses["tool_choice"] {
            Value::String(choice) => json!(choice),
            Value::Object(choice) if choice.get("name").is_some() => {
                json!({"type": "function", "function": {"name": choice["name"]}})
            }
            _ => json!("auto"),
        };
        chat.insert("tool_choice".into(), choice);
    }
    if responses["stream"].as_bool() == Some(true) {
        chat.insert("stream".into(), json!(true));
        chat.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(chat)
}

/// One input item into Chat messages: function calls join the assistant message
/// before them, their outputs become `tool` messages.
fn input_item(item: &Value, messages: &mut Vec<Value>) {
    match item["type"].as_str() {
        Some("message") | None if item.get("role").is_some() => {
            let role = match item["role"].as_str() {
                Some("developer" | "system") => "system",
                Some("assistant") => "assistant",
                _ => "user",
            };
            let content = match &item["content"] {
                Value::String(text) => json!(text),
                Value::Array(parts) if role == "user" => {
                    let parts: Vec<Value> = parts.iter().filter_map(user_part).collect();
                    json!(parts)
                }
                Value::Array(parts) => json!(
                    parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                _ => return,
            };
            messages.push(json!({"role": role, "content": content}));
        }
        Some("function_call") => {
            let call = json!({"id": item["call_id"], "type": "function", "function": {
                "name": item["name"], "arguments": item["arguments"],
            }});
            match messages.last_mut() {
                Some(last) if last["role"] == "assistant" && last.get("tool_calls").is_some() => {
                    if let Some(calls) = last["tool_calls"].as_array_mut() {
                        calls.push(call);
                    }
                }
                _ => messages
                    .push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
            }
        }
        Some("function_call_output") => {
            let output = match &item["output"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            messages
                .push(json!({"role": "tool", "tool_call_id": item["call_id"], "content": output}));
        }
        _ => {}
    }
}

fn user_part(part: &Value) -> Option<Value> {
    match part["type"].as_str()? {
        "input_text" | "output_text" | "text" => {
            Some(json!({"type": "text", "text": part["text"]}))
        }
        "input_image" => {
            Some(json!({"type": "image_url", "image_url": {"url": part["image_url"]}}))
        }
        _ => None,
    }
}

/// Chat's usage in the Responses API's fields.
fn usage(chat: &Value) -> Value {
    let (prompt, cached, output) = super::chat_counts(chat);
    json!({
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + output,
    })
}

fn message_item(id: &str, text: &str) -> Value {
    json!({"type": "message", "id": id, "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

fn call_item(id: &str, call_id: &Value, name: &Value, arguments: &str) -> Value {
    json!({"type": "function_call", "id": id, "status": "completed", "call_id": call_id,
        "name": name, "arguments": arguments})
}

fn completed(id: &Value, model: &Value, output: Vec<Value>, usage: Value) -> Value {
    json!({"id": id, "object": "response", "created_at": crate::store::now_ms() / 1000,
        "status": "completed", "model": model, "output": output, "usage": usage})
}

/// A whole Chat answer (or its error) as a Responses one.
pub fn response(status: u16, body: &[u8]) -> Vec<u8> {
    let chat = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) || chat.get("error").is_some() || chat.is_null() {
        let message = chat
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map_or_else(|| String::from_utf8_lossy(body).into_owned(), str::to_owned);
        return json!({"error": {"message": message, "type": "upstream_error", "code": status}})
            .to_string()
            .into_bytes();
    }
    let message = &chat["choices"][0]["message"];
    let mut output = Vec::new();
    if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
        output.push(message_item("msg_0", text));
    }
    for (i, call) in message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let arguments = call["function"]["arguments"].as_str().unwrap_or("{}");
        output.push(call_item(
            &format!("fc_{i}"),
            &call["id"],
            &call["function"]["name"],
            arguments,
        ));
    }
    completed(&chat["id"], &chat["model"], output, usage(&chat["usage"]))
        .to_string()
        .into_bytes()
}

/// A function call being streamed: its item id, call id, name and arguments so far.
#[derive(Debug)]
struct Call {
    output_index: usize,
    call_id: Value,
    name: Value,
    arguments: String,
}

/// A Chat Completions SSE stream turned into the Responses API's events.
#[derive(Debug, Default)]
pub struct Events {
    id: Value,
    model: Value,
    /// The message item: its output index and the text so far.
    text: Option<(usize, String)>,
    /// Function calls by Chat's tool call index.
    calls: Vec<(u64, Call)>,
    next_index: usize,
    usage: Option<Value>,
}

impl super::Events for Events {
    fn event(&mut self, chunk: &Value, first: bool, out: &mut Vec<u8>) {
        if first {
            self.id = chunk["id"].clone();
            self.model = chunk["model"].clone();
            let mut response = completed(&self.id, &self.model, Vec::new(), Value::Null);
            response["status"] = json!("in_progress");
            send(out, "response.created", json!({"response": response}));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage.clone());
        }
        let delta = &chunk["choices"][0]["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            if self.text.is_none() {
                let index = self.take_index();
                self.text = Some((index, String::new()));
                let mut item = message_item("msg_0", "");
                item["status"] = json!("in_progress");
                item["content"] = json!([]);
                send(
                    out,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                send(
                    out,
                    "response.content_part.added",
                    json!({"item_id": "msg_0", "output_index": index,
                    "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
                );
            }
            if let Some((index, so_far)) = self.text.as_mut() {
                so_far.push_str(text);
                let index = *index;
                send(
                    out,
                    "response.output_text.delta",
                    json!({"item_id": "msg_0", "output_index": index,
                    "content_index": 0, "delta": text}),
                );
            }
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let which = call["index"].as_u64().unwrap_or(0);
            if !self.calls.iter().any(|(w, _)| *w == which) {
                let index = self.take_index();
                let started = Call {
                    output_index: index,
                    call_id: call["id"].clone(),
                    name: call["function"]["name"].clone(),
                    arguments: String::new(),
                };
                let mut item =
                    call_item(&format!("fc_{index}"), &started.call_id, &started.name, "");
                item["status"] = json!("in_progress");
                send(
                    out,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                self.calls.push((which, started));
            }
            if let (Some(args), Some((_, open))) = (
                call["function"]["arguments"]
                    .as_str()
                    .filter(|a| !a.is_empty()),
                self.calls.iter_mut().find(|(w, _)| *w == which),
            ) {
                open.arguments.push_str(args);
                send(
                    out,
                    "response.function_call_arguments.delta",
                    json!({
                    "item_id": format!("fc_{}", open.output_index), "output_index": open.output_index, "delta": args}),
                );
            }
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        let mut output: Vec<(usize, Value)> = Vec::new();
        if let Some((index, text)) = self.text.take() {
            send(
                out,
                "response.output_text.done",
                json!({"item_id": "msg_0", "output_index": index,
                "content_index": 0, "text": text}),
            );
            output.push((index, message_item("msg_0", &text)));
        }
        for (_, call) in self.calls.drain(..) {
            let index = call.output_index;
            let item = call_item(
                &format!("fc_{index}"),
                &call.call_id,
                &call.name,
                &call.arguments,
            );
            output.push((index, item));
        }
        output.sort_by_key(|(index, _)| *index);
        for (index, item) in &output {
            send(
                out,
                "response.output_item.done",
                json!({"output_index": index, "item": item}),
            );
        }
        let output = output.into_iter().map(|(_, item)| item).collect();
        let usage = usage(self.usage.as_ref().unwrap_or(&Value::Null));
        send(
            out,
            "response.completed",
            json!({"response": completed(&self.id, &self.model, output, usage)}),
        );
    }
}

impl Events {
    fn take_index(&mut self) -> usize {
        self.next_index += 1;
        self.next_index - 1
    }
}

/// One Responses event: its `type` is its name.
fn send(out: &mut Vec<u8>, event: &str, mut data: Value) {
    data["type"] = json!(event);
    emit(out, event, &data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codex_request_becomes_a_chat_request() {
        let chat = request(&json!({
            "model": "m", "instructions": "you are codex", "stream": true,
            "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object"}},
                      {"type": "web_search"}],
            "input": [
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
                {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{\"cmd\":\"ls\"}"},
                {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
                {"type": "reasoning", "summary": []},
            ],
        }));
        let messages = chat["messages"].as_array().unwrap();
        assert_eq!(
            messages[0],
            json!({"role": "system", "content": "you are codex"})
        );
        assert_eq!(messages[1]["content"][0]["text"], "list files");
        assert_eq!(messages[2]["tool_calls"][0]["function"]["name"], "shell");
        assert_eq!(
            messages[3],
            json!({"role": "tool", "tool_call_id": "c1", "content": "a.txt"})
        );
        assert_eq!(messages.len(), 4, "the reasoning item is left out");
        assert_eq!(
            chat["tools"].as_array().map(Vec::len),
            Some(1),
            "only functions"
        );
        assert_eq!(chat["stream_options"]["include_usage"], true);
    }

    #[test]
    fn a_chat_stream_becomes_responses_events_ending_in_completed() {
        let mut stream = super::super::Translation::ResponsesToChat.stream();
        let mut text = String::new();
        for chunk in [
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
            r#"{"id":"c","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"shell","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":90,"completion_tokens":45,"prompt_tokens_details":{"cached_tokens":30}}}"#,
        ] {
            text +=
                &String::from_utf8(stream.feed(format!("data: {chunk}\n\n").as_bytes())).unwrap();
        }
        text += &String::from_utf8(stream.feed(b"data: [DONE]\n\n")).unwrap();
        let events: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(events.first(), Some(&"response.created"));
        assert_eq!(events.last(), Some(&"response.completed"));
        let done = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        let done: Value = serde_json::from_str(done).unwrap();
        let response = &done["response"];
        assert_eq!(response["output"][0]["content"][0]["text"], "Hi");
        assert_eq!(response["output"][1]["call_id"], "call_1");
        assert_eq!(response["usage"]["input_tokens"], 90);
        assert_eq!(
            response["usage"]["input_tokens_details"]["cached_tokens"],
            30
        );
    }
}
