//! `aiswitch-agent`: the reference ACP agent (see `behaviour.rs` for its flags).
//!
//! Synchronous on purpose: it starts in about a millisecond and its replies are
//! deterministic. A reader thread turns stdin lines into messages on a channel, so
//! latency waits still see `session/cancel` and the client's responses.

mod behaviour;
mod provider;

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use agent_client_protocol_schema::ProtocolVersion;
use agent_client_protocol_schema::v1::{
    ContentBlock, ContentChunk, Cost, InitializeResponse, NewSessionResponse, PromptResponse,
    SessionNotification, SessionUpdate, StopReason, TextContent, ToolCall, ToolKind, Usage,
    UsageUpdate,
};
use clap::Parser;
use serde_json::{Value, json};

use behaviour::{Behaviour, Fault, Plan, Step};

/// What the reader thread delivers.
enum Incoming {
    Message(Value),
    Garbage(String),
    Eof,
}

struct Agent {
    behaviour: Behaviour,
    steps: Vec<Step>,
    rx: Receiver<Incoming>,
    out: std::io::Stdout,
    /// Requests that arrived while a prompt was running, served after it.
    backlog: VecDeque<Value>,
    next_id: i64,
    prompts: u64,
    sessions: u64,
    cwd: PathBuf,
    used_tokens: u64,
    cost: f64,
    stdin_closed: bool,
}

fn main() -> ExitCode {
    let behaviour = Behaviour::parse();
    let steps = match behaviour.steps() {
        Ok(steps) => steps,
        Err(e) => {
            eprintln!("aiswitch-agent: {e}");
            return ExitCode::from(2);
        }
    };
    if behaviour.grandchild {
        spawn_grandchild();
    }
    if let Some(lines) = behaviour.stderr_lines {
        let mut err = std::io::stderr().lock();
        for i in 0..lines {
            let _ = writeln!(err, "aiswitch-agent: log line {i}");
        }
    }
    if behaviour.slow_start_ms > 0 {
        std::thread::sleep(Duration::from_millis(behaviour.slow_start_ms));
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || read_stdin(&tx));
    let mut agent = Agent {
        behaviour,
        steps,
        rx,
        out: std::io::stdout(),
        backlog: VecDeque::new(),
        next_id: 0,
        prompts: 0,
        sessions: 0,
        cwd: std::env::current_dir().unwrap_or_default(),
        used_tokens: 0,
        cost: 0.0,
        stdin_closed: false,
    };
    agent.run()
}

fn read_stdin(tx: &mpsc::Sender<Incoming>) {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match lock.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let item = match serde_json::from_slice::<Value>(&line) {
                    Ok(value) => Incoming::Message(value),
                    Err(_) => Incoming::Garbage(String::from_utf8_lossy(&line).trim().to_owned()),
                };
                if tx.send(item).is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Incoming::Eof);
}

/// A grandchild in our process group that ignores SIGTERM, with no pipes of ours.
fn spawn_grandchild() {
    let _ = std::process::Command::new("sh")
        .args(["-c", "trap '' TERM; exec sleep 100000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

impl Agent {
    fn run(&mut self) -> ExitCode {
        loop {
            let message = match self.backlog.pop_front() {
                Some(message) => message,
                None => match self.next_incoming(None) {
                    Some(message) => message,
                    None => return ExitCode::SUCCESS,
                },
            };
            if let Some(code) = self.serve(message) {
                return code;
            }
        }
    }

    /// The next message, waiting at most until `deadline`; `None` at end of input
    /// (or at the deadline).
    fn next_incoming(&mut self, deadline: Option<Instant>) -> Option<Value> {
        loop {
            if self.stdin_closed {
                if self.behaviour.ignore_stdin_close && deadline.is_none() {
                    // Like claude-agent-acp: keep running until signalled.
                    loop {
                        std::thread::park();
                    }
                }
                if let Some(d) = deadline {
                    std::thread::sleep(d.saturating_duration_since(Instant::now()));
                }
                return None;
            }
            let item = match deadline {
                None => self.rx.recv().unwrap_or(Incoming::Eof),
                Some(d) => match self
                    .rx
                    .recv_timeout(d.saturating_duration_since(Instant::now()))
                {
                    Ok(item) => item,
                    Err(RecvTimeoutError::Timeout) => return None,
                    Err(RecvTimeoutError::Disconnected) => Incoming::Eof,
                },
            };
            match item {
                Incoming::Message(value) => return Some(value),
                Incoming::Garbage(text) => {
                    let error = json!({"code": -32700, "message": format!("parse error: {text}")});
                    self.send(&json!({"jsonrpc": "2.0", "id": null, "error": error}));
                }
                Incoming::Eof => self.stdin_closed = true,
            }
        }
    }

    /// Serves one message; `Some(code)` means exit now.
    fn serve(&mut self, message: Value) -> Option<ExitCode> {
        let id = message.get("id").cloned();
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let Some(id) = id.filter(|_| !method.is_empty()) else {
            return None; // notifications (a stray session/cancel) and stray responses
        };
        let result = match method {
            "initialize" => Ok(to_value(&InitializeResponse::new(ProtocolVersion::V1))),
            "authenticate" => Ok(json!({})),
            "session/new" => {
                if let Some(cwd) = params.get("cwd").and_then(Value::as_str) {
                    self.cwd = PathBuf::from(cwd);
                }
                {
                    self.sessions += 1;
                    Ok(to_value(&NewSessionResponse::new(format!(
                        "sess-{}",
                        self.sessions
                    ))))
                }
            }
            "session/prompt" => return self.prompt(&id, &params),
            other => Err(json!({"code": -32601, "message": format!("method not found: {other}")})),
        };
        self.reply(&id, result);
        None
    }

    fn prompt(&mut self, id: &Value, params: &Value) -> Option<ExitCode> {
        self.prompts += 1;
        let plan = self.behaviour.plan(self.prompts, &self.steps);
        let session = params
            .get("sessionId")
            .and_then(Value::as_str)
            .unwrap_or("sess")
            .to_owned();
        let text = prompt_text(params).replace("{name}", &self.behaviour.name);
        match plan.fault {
            Some(Fault::Crash) => {
                eprintln!(
                    "aiswitch-agent: crashing on prompt {} as asked",
                    self.prompts
                );
                return Some(ExitCode::from(3));
            }
            Some(Fault::Hang) => {
                eprintln!(
                    "aiswitch-agent: hanging on prompt {} as asked",
                    self.prompts
                );
                loop {
                    std::thread::park();
                }
            }
            Some(Fault::Garbage) => self.raw(b"this is not JSON-RPC\n"),
            Some(Fault::Error) | None => {}
        }
        if self.behaviour.invalid_utf8 {
            self.raw(b"\xff\xfe\xfd invalid utf-8\n");
        }
        if let Some(mb) = self.behaviour.huge_line_mb {
            let mut line = vec![b'x'; mb * 1024 * 1024];
            line.push(b'\n');
            self.raw(&line);
        }
        if let Some(thought) = &self.behaviour.think {
            let update = SessionUpdate::AgentThoughtChunk(ContentChunk::new(ContentBlock::Text(
                TextContent::new(thought.clone()),
            )));
            self.notify_update(&session, update);
        }
        if let Some(bytes) = self.behaviour.flood_bytes {
            self.flood(&session, bytes);
        }
        if let Some(lines) = self.behaviour.stream_lines {
            self.stream_lines(&session, lines);
        }
        if plan.latency_ms > 0 {
            let deadline = Instant::now() + Duration::from_millis(plan.latency_ms);
            if self.wait_for_cancel(deadline) {
                self.reply(
                    id,
                    Ok(to_value(&PromptResponse::new(StopReason::Cancelled))),
                );
                return None;
            }
        }
        if plan.fault == Some(Fault::Error) {
            let error = json!({"code": -32000, "message": format!("injected error on prompt {}", self.prompts)});
            self.reply(id, Err(error));
            return None;
        }
        let reply = if let Some(rest) = text.strip_prefix("write ") {
            self.write_file(&session, rest)
        } else if let Some(names) = text.strip_prefix("env ") {
            // Lets tests see what a preset injected: `env A B` answers `A=.. B=..`.
            names
                .split_whitespace()
                .map(|name| match std::env::var(name) {
                    Ok(value) => format!("{name}={value}"),
                    Err(_) => format!("{name} is unset"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else if let Some(mode) = text.strip_prefix("call") {
            // One request to the provider its env names, as a real CLI would make.
            provider::call(mode.trim() == "stream")
        } else if text == "args" {
            std::env::args().skip(1).collect::<Vec<_>>().join(" ")
        } else {
            plan.reply
                .clone()
                .unwrap_or_else(|| format!("echo: {text}"))
        };
        for chunk in split_chunks(&reply, self.behaviour.chunks) {
            let update = SessionUpdate::AgentMessageChunk(ContentChunk::new(ContentBlock::Text(
                TextContent::new(chunk),
            )));
            self.notify_update(&session, update);
        }
        let result = self.usage(&session, &plan);
        self.reply(id, Ok(result));
        None
    }

    /// Streams `lines` output lines stamped with the wall-clock time each is written,
    /// `lines_per_sec` of them a second.
    fn stream_lines(&mut self, session: &str, lines: u64) {
        let start = Instant::now();
        let pace = self.behaviour.lines_per_sec.max(1);
        for n in 0..lines {
            let due = start + Duration::from_micros(n * 1_000_000 / pace);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let text = format!("line {n} at {now_ms}\n");
            let update = SessionUpdate::AgentMessageChunk(ContentChunk::new(ContentBlock::Text(
                TextContent::new(text),
            )));
            self.notify_update(session, update);
        }
    }

    /// Reports usage: a cumulative usage_update, and per-turn usage in the result.
    fn usage(&mut self, session: &str, plan: &Plan) -> Value {
        let turn = plan.tokens_in + plan.tokens_out + plan.cache_read + plan.cache_write;
        self.used_tokens += turn;
        let mut update = UsageUpdate::new(self.used_tokens, self.behaviour.context_size);
        if let Some(cost) = self.behaviour.cost_usd {
            self.cost += cost;
            update = update.cost(Cost::new(self.cost, "USD"));
        }
        self.notify_update(session, SessionUpdate::UsageUpdate(update));
        let mut usage = Usage::new(turn, plan.tokens_in, plan.tokens_out);
        if plan.cache_read > 0 {
            usage = usage.cached_read_tokens(plan.cache_read);
        }
        if plan.cache_write > 0 {
            usage = usage.cached_write_tokens(plan.cache_write);
        }
        to_value(&PromptResponse::new(StopReason::EndTurn).usage(usage))
    }

    /// Asks the client to write a file (`PATH CONTENT`), after permission if asked.
    fn write_file(&mut self, session: &str, rest: &str) -> String {
        let (path, content) = rest.split_once(' ').unwrap_or((rest, ""));
        let title = format!("Write {path}");
        let path = self.cwd.join(path);
        let call = ToolCall::new("write-1", title).kind(ToolKind::Edit);
        self.notify_update(session, SessionUpdate::ToolCall(call));
        if self.behaviour.permission {
            let params = json!({
                "sessionId": session,
                "toolCall": {"toolCallId": "write-1", "title": format!("Write {}", path.display()), "kind": "edit"},
                "options": [
                    {"optionId": "allow", "name": "Allow", "kind": "allow_once"},
                    {"optionId": "reject", "name": "Reject", "kind": "reject_once"}
                ]
            });
            let answer = self.call("session/request_permission", params);
            let allowed = answer
                .as_ref()
                .ok()
                .and_then(|v| v.pointer("/outcome/optionId"))
                .and_then(Value::as_str)
                == Some("allow");
            if !allowed {
                return format!("permission to write {} was refused", path.display());
            }
        }
        let params = json!({"sessionId": session, "path": path, "content": content});
        match self.call("fs/write_text_file", params) {
            Ok(_) => format!("wrote {}", path.display()),
            Err(e) => format!("could not write {}: {e}", path.display()),
        }
    }

    /// Sends a request to the client and waits for its response, queueing anything
    /// else that arrives meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next_incoming(None).ok_or("the client went away")?;
            if message.get("method").is_none() && message.get("id") == Some(&json!(id)) {
                return match message.get("error") {
                    Some(error) => Err(error.to_string()),
                    None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            self.queue(message);
        }
    }

    /// Waits until `deadline`; true when the client cancelled meanwhile.
    fn wait_for_cancel(&mut self, deadline: Instant) -> bool {
        while let Some(message) = self.next_incoming(Some(deadline)) {
            if message.get("method").and_then(Value::as_str) == Some("session/cancel") {
                return true;
            }
            self.queue(message);
        }
        false
    }

    fn queue(&mut self, message: Value) {
        if message.get("id").is_some() && message.get("method").is_some() {
            self.backlog.push_back(message);
        }
    }

    fn flood(&mut self, session: &str, bytes: usize) {
        let chunk = "x".repeat(4096);
        let mut sent = 0;
        while sent < bytes {
            let update = SessionUpdate::AgentThoughtChunk(ContentChunk::new(ContentBlock::Text(
                TextContent::new(chunk.clone()),
            )));
            self.notify_update(session, update);
            sent += chunk.len();
        }
    }

    fn notify_update(&mut self, session: &str, update: SessionUpdate) {
        let params = to_value(&SessionNotification::new(session.to_owned(), update));
        self.send(&json!({"jsonrpc": "2.0", "method": "session/update", "params": params}));
    }

    fn reply(&mut self, id: &Value, result: Result<Value, Value>) {
        let message = match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        };
        self.send(&message);
    }

    fn send(&mut self, message: &Value) {
        let mut line = serde_json::to_vec(message).unwrap_or_default();
        line.push(b'\n');
        self.raw(&line);
    }

    fn raw(&mut self, bytes: &[u8]) {
        let mut out = self.out.lock();
        if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
            // The client closed our stdout: nobody is listening any more.
            std::process::exit(0);
        }
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The text of a prompt's text blocks, joined.
fn prompt_text(params: &Value) -> String {
    params
        .get("prompt")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Splits `text` into at most `n` pieces on character boundaries.
fn split_chunks(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(n.max(1)).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}
