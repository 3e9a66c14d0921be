//! The fake provider: a local HTTP server that speaks the providers' APIs well enough
//! for the real agent CLIs (Anthropic Messages, OpenAI Responses and Chat
//! Completions, Gemini `generateContent` / `streamGenerateContent`, streaming and
//! not). Every call answers `FAKE_REPLY_<n>` with scripted usage, and every request
//! is logged with its auth header, so a test can say which URL, key and model an
//! agent really used. Binds 127.0.0.1 only; runs on its own thread and runtime.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// Token counts every call reports.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Self {
            input: 11,
            output: 7,
            cache_read: 0,
        }
    }
}

/// Which API a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    AnthropicMessages,
    OpenAiResponses,
    OpenAiChat,
    Gemini,
    Other,
}

/// One request as the provider saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub api: Api,
    /// The credential, as `bearer:K`, `x-api-key:K`, `x-goog-api-key:K` or `query:K`.
    pub auth: Option<String>,
    /// The model the request asked for.
    pub model: Option<String>,
    pub stream: bool,
    pub body: Value,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    usage: Usage,
    seen: Vec<Seen>,
    replies: u64,
    /// Sent with every model reply (rate-limit headers).
    headers: Vec<(String, String)>,
    /// Answer 404 to the Responses API, as providers with only Chat Completions do.
    chat_only: bool,
    /// Requests answered 404 for that.
    refused: usize,
}

/// A running fake provider; stops when dropped (its thread ends with the test).
pub struct FakeProvider {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeProvider {
    /// Starts a provider answering with `usage` on every call.
    pub fn start(usage: Usage) -> Self {
        let state = Arc::new(Mutex::new(State {
            usage,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let served = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(listener, served));
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends these headers with every model reply from now on (rate-limit
    /// windows, as the real providers send them).
    #[allow(dead_code)]
    pub fn set_headers(&self, headers: &[(&str, &str)]) {
        self.state.lock().expect("state").headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    }

    /// Answers 404 to the Responses API from now on (DeepSeek, Ollama and most
    /// OpenAI-compatible providers have only Chat Completions).
    #[allow(dead_code)]
    pub fn only_chat(&self) {
        self.state.lock().expect("state").chat_only = true;
    }

    /// Responses requests answered 404 after [`FakeProvider::only_chat`].
    #[allow(dead_code)]
    pub fn refused(&self) -> usize {
        self.state.lock().expect("state").refused
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("state").seen.clone()
    }

    /// The requests that asked a model for a reply.
    pub fn model_calls(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.api != Api::Other)
            .collect()
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<Mutex<State>>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(req, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let auth = header("authorization")
        .map(|v| format!("bearer:{}", v.trim_start_matches("Bearer ")))
        .or_else(|| header("x-api-key").map(|v| format!("x-api-key:{v}")))
        .or_else(|| header("x-goog-api-key").map(|v| format!("x-goog-api-key:{v}")))
        .or_else(|| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("key="))
                .map(|k| format!("query:{k}"))
        });
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let refuse = {
        let mut state = state.lock().expect("state");
        let refuse = state.chat_only && path.ends_with("/responses");
        state.refused += usize::from(refuse);
        refuse
    };
    if refuse {
        let mut refused = Response::new(Full::new(Bytes::from_static(b"404 page not found")));
        *refused.status_mut() = hyper::StatusCode::NOT_FOUND;
        return Ok(refused);
    }

    let api = if method != "POST" {
        Api::Other
    } else if path.ends_with("/messages") {
        Api::AnthropicMessages
    } else if path.ends_with("/responses") {
        Api::OpenAiResponses
    } else if path.ends_with("/chat/completions") {
        Api::OpenAiChat
    } else if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
        Api::Gemini
    } else {
        Api::Other
    };
    let model = match api {
        Api::Gemini => path
            .rsplit('/')
            .next()
            .and_then(|last| last.split(':').next())
            .map(str::to_owned),
        _ => body.get("model").and_then(Value::as_str).map(str::to_owned),
    };
    let stream = match api {
        Api::Gemini => path.contains(":streamGenerateContent"),
        _ => body.get("stream").and_then(Value::as_bool).unwrap_or(false),
    };
    let turn = if api == Api::AnthropicMessages {
        anthropic_turn(&body)
    } else {
        AnthropicTurn::Text
    };
    let (n, usage, extra_headers) = {
        let mut state = state.lock().expect("state");
        state.seen.push(Seen {
            method: method.clone(),
            uri,
            api,
            auth,
            model: model.clone(),
            stream,
            body,
            headers,
        });
        if api != Api::Other {
            state.replies += 1;
        }
        (state.replies, state.usage, state.headers.clone())
    };
    let text = match turn {
        AnthropicTurn::AfterTool => format!("FAKE_REPLY_{n} (saw tool result)"),
        _ => format!("FAKE_REPLY_{n}"),
    };
    let model = model.unwrap_or_else(|| "fake-model".into());
    // Gemini CLI signed in with Google talks to Code Assist, which wraps every answer.
    let code_assist = path.contains("/v1internal:");
    let gemini = |text: &str, model: &str, usage: Usage| {
        let answer = gemini(text, model, usage);
        match code_assist {
            true => json!({"response": answer, "traceId": "fake-trace"}),
            false => answer,
        }
    };
    let mut response = match api {
        Api::AnthropicMessages if turn == AnthropicTurn::CallTool && stream => {
            sse(anthropic_tool_stream(&model, usage, n))
        }
        Api::AnthropicMessages if stream => sse(anthropic_stream(&text, &model, usage)),
        Api::AnthropicMessages => json_response(anthropic(&text, &model, usage)),
        Api::OpenAiResponses if stream => sse(responses_stream(&text, &model, usage, n)),
        Api::OpenAiResponses => json_response(responses(&text, &model, usage, n)),
        Api::OpenAiChat if stream => sse(chat_stream(&text, &model, usage, n)),
        Api::OpenAiChat => json_response(chat(&text, &model, usage, n)),
        Api::Gemini if stream && query.contains("alt=sse") => {
            sse(vec![(None, gemini(&text, &model, usage))])
        }
        Api::Gemini if stream => json_response(json!([gemini(&text, &model, usage)])),
        Api::Gemini => json_response(gemini(&text, &model, usage)),
        Api::Other if path.ends_with(":loadCodeAssist") => json_response(json!({
            "currentTier": {"id": "standard-tier", "name": "Standard"},
            "cloudaicompanionProject": "fake-project",
        })),
        // A Google account's quota per model: a quarter of the day's Pro requests used.
        Api::Other if path.ends_with(":retrieveUserQuota") => json_response(json!({"buckets": [
            {"modelId": "gemini-2.5-pro", "remainingFraction": 0.75, "resetTime": "2030-01-01T08:00:00Z", "tokenType": "REQUESTS"},
        ]})),
        // Experiments, settings: nothing to say.
        Api::Other if code_assist => json_response(json!({})),
        Api::Other if path.ends_with("/models") => {
            json_response(json!({"object": "list", "data": [], "models": []}))
        }
        Api::Other => Response::builder()
            .status(if method == "HEAD" {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            })
            .body(Full::new(Bytes::new()))
            .expect("response"),
    };
    if api != Api::Other {
        for (name, value) in extra_headers {
            response.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                hyper::header::HeaderValue::from_str(&value).expect("header value"),
            );
        }
    }
    Ok(response)
}

/// The marker in a prompt that makes the provider answer with a call of the agent's
/// `Bash` tool (`echo fixture`); the next call, carrying the tool's result, answers
/// `FAKE_REPLY_<n> (saw tool result)`.
pub const TOOL_MARKER: &str = "USE_BASH_TOOL";

/// What an Anthropic Messages request asks of the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnthropicTurn {
    Text,
    CallTool,
    AfterTool,
}

fn anthropic_turn(body: &Value) -> AnthropicTurn {
    // The last user message (Claude Code puts a system-role message after it).
    let Some(last) = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return AnthropicTurn::Text;
    };
    let blocks: Vec<&Value> = match &last["content"] {
        Value::Array(blocks) => blocks.iter().collect(),
        other => vec![other],
    };
    let has_bash = body["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["name"] == "Bash"));
    if blocks.iter().any(|b| b["type"] == "tool_result") {
        AnthropicTurn::AfterTool
    } else if has_bash && last["content"].to_string().contains(TOOL_MARKER) {
        AnthropicTurn::CallTool
    } else {
        AnthropicTurn::Text
    }
}

fn anthropic_tool_stream(model: &str, usage: Usage, n: u64) -> Vec<(Option<&'static str>, Value)> {
    let mut start_usage = anthropic_usage(usage);
    start_usage["output_tokens"] = json!(1);
    let input = json!({"command": "echo fixture", "description": "Print a word"}).to_string();
    vec![
        (
            Some("message_start"),
            json!({"type": "message_start", "message": {
                "id": format!("msg_fake_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage}}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": format!("toolu_fake_{n}"), "name": "Bash", "input": {}}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": input}}),
        ),
        (
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            Some("message_delta"),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
                   "usage": {"output_tokens": usage.output}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ]
}

fn json_response(value: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .expect("response")
}

/// Server-sent events: `(event name, data)` pairs.
fn sse(events: Vec<(Option<&str>, Value)>) -> Response<Full<Bytes>> {
    let mut body = String::new();
    for (event, data) in events {
        if let Some(event) = event {
            body.push_str(&format!("event: {event}\n"));
        }
        match data {
            Value::String(bare) => body.push_str(&format!("data: {bare}\n\n")),
            json => body.push_str(&format!("data: {json}\n\n")),
        }
    }
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

fn anthropic_usage(usage: Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "output_tokens": usage.output,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cache_read,
    })
}

fn anthropic(text: &str, model: &str, usage: Usage) -> Value {
    json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": anthropic_usage(usage),
    })
}

fn anthropic_stream(text: &str, model: &str, usage: Usage) -> Vec<(Option<&'static str>, Value)> {
    let mut start_usage = anthropic_usage(usage);
    start_usage["output_tokens"] = json!(1);
    vec![
        (
            Some("message_start"),
            json!({"type": "message_start", "message": {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage}}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        ),
        (
            Some("content_block_stop"),
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            Some("message_delta"),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": usage.output}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ]
}

fn responses_usage(usage: Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": usage.cache_read},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input + usage.output,
    })
}

fn responses_message(text: &str, n: u64) -> Value {
    json!({
        "type": "message", "id": format!("msg_{n}"), "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

fn responses(text: &str, model: &str, usage: Usage, n: u64) -> Value {
    json!({
        "id": format!("resp_{n}"), "object": "response", "created_at": 0, "status": "completed",
        "model": model, "output": [responses_message(text, n)], "usage": responses_usage(usage),
    })
}

fn responses_stream(
    text: &str,
    model: &str,
    usage: Usage,
    n: u64,
) -> Vec<(Option<&'static str>, Value)> {
    let id = format!("resp_{n}");
    let item_id = format!("msg_{n}");
    let mut pending = responses(text, model, usage, n);
    pending["status"] = json!("in_progress");
    pending["output"] = json!([]);
    pending["usage"] = Value::Null;
    let mut empty = responses_message("", n);
    empty["status"] = json!("in_progress");
    empty["content"] = json!([]);
    vec![
        (
            Some("response.created"),
            json!({"type": "response.created", "response": pending}),
        ),
        (
            Some("response.output_item.added"),
            json!({"type": "response.output_item.added", "output_index": 0, "item": empty}),
        ),
        (
            Some("response.content_part.added"),
            json!({"type": "response.content_part.added", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        ),
        (
            Some("response.output_text.delta"),
            json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "delta": text}),
        ),
        (
            Some("response.output_text.done"),
            json!({"type": "response.output_text.done", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "text": text}),
        ),
        (
            Some("response.output_item.done"),
            json!({"type": "response.output_item.done", "output_index": 0,
                   "item": responses_message(text, n)}),
        ),
        (
            Some("response.completed"),
            json!({"type": "response.completed", "response": {
                "id": id, "object": "response", "created_at": 0, "status": "completed", "model": model,
                "output": [responses_message(text, n)], "usage": responses_usage(usage)}}),
        ),
    ]
}

fn chat_usage(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

fn chat(text: &str, model: &str, usage: Usage, n: u64) -> Value {
    json!({
        "id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": chat_usage(usage),
    })
}

fn chat_stream(
    text: &str,
    model: &str,
    usage: Usage,
    n: u64,
) -> Vec<(Option<&'static str>, Value)> {
    let chunk = |choices: Value, usage: Value| {
        json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion.chunk", "created": 0,
               "model": model, "choices": choices, "usage": usage})
    };
    let mut events = vec![
        (
            None,
            chunk(
                json!([{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null}]),
                Value::Null,
            ),
        ),
        (
            None,
            chunk(
                json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
                Value::Null,
            ),
        ),
        (None, chunk(json!([]), chat_usage(usage))),
    ];
    // `data: [DONE]` is not JSON: a string is written bare.
    events.push((None, Value::String("[DONE]".into())));
    events
}

fn gemini(text: &str, model: &str, usage: Usage) -> Value {
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": usage.input, "candidatesTokenCount": usage.output,
                          "cachedContentTokenCount": usage.cache_read,
                          "totalTokenCount": usage.input + usage.output},
        "modelVersion": model,
    })
}
