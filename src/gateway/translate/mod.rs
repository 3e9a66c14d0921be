//! Translation between API kinds (DESIGN §6), so an agent can use a provider that does
//! not speak its API: Anthropic Messages (Claude Code) or OpenAI Responses (Codex)
//! served by a provider that speaks only Chat Completions (DeepSeek's or OpenRouter's
//! OpenAI endpoint, a local Ollama), and Chat or Responses served by an Anthropic
//! provider. The request is rewritten before it leaves; the answer comes back in the
//! client's API. The meter reads the provider's own usage.

mod anthropic;
mod chat;
mod responses;

use serde_json::Value;

/// The path a translated request goes to, under the upstream's base URL.
pub const CHAT_PATH: &str = "/chat/completions";

/// Which translation an exchange needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// Anthropic Messages client, Chat Completions provider.
    AnthropicToChat,
    /// OpenAI Responses client, Chat Completions provider.
    ResponsesToChat,
    /// Chat Completions client, Anthropic Messages provider.
    ChatToAnthropic,
    /// OpenAI Responses client, Anthropic Messages provider (by way of Chat).
    ResponsesToAnthropic,
}

impl Translation {
    /// The client's request as a Chat Completions request.
    pub fn request(self, body: &Value) -> Value {
        match self {
            Self::AnthropicToChat => anthropic::request(body),
            Self::ResponsesToChat => responses::request(body),
            Self::ChatToAnthropic => chat::request(body),
            Self::ResponsesToAnthropic => chat::request(&responses::request(body)),
        }
    }

    /// The path the translated request goes to, under the upstream's base URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::AnthropicToChat | Self::ResponsesToChat => CHAT_PATH,
            Self::ChatToAnthropic | Self::ResponsesToAnthropic => "/v1/messages",
        }
    }

    /// A whole Chat answer (or error) in the client's API.
    pub fn response(self, status: u16, body: &[u8]) -> Vec<u8> {
        match self {
            Self::AnthropicToChat => anthropic::response(status, body),
            Self::ResponsesToChat => responses::response(status, body),
            Self::ChatToAnthropic => chat::response(status, body),
            Self::ResponsesToAnthropic => {
                responses::response(status, &chat::response(status, body))
            }
        }
    }

    /// A converter of a Chat SSE stream into the client's.
    pub fn stream(self) -> Stream {
        match self {
            Self::AnthropicToChat => Stream::new(Box::<anthropic::Events>::default()),
            Self::ResponsesToChat => Stream::new(Box::<responses::Events>::default()),
            Self::ChatToAnthropic => Stream::new(Box::<chat::Events>::default()),
            Self::ResponsesToAnthropic => {
                let mut first = Stream::new(Box::<chat::Events>::default());
                first.then = Some(Box::new(Self::ResponsesToChat.stream()));
                first
            }
        }
    }
}

/// A Chat SSE stream being converted into the client's.
#[derive(Debug)]
pub struct Stream {
    sse: SseData,
    started: bool,
    ended: bool,
    events: Box<dyn Events>,
    /// A second conversion the output goes through (Anthropic → Chat → Responses).
    then: Option<Box<Stream>>,
}

impl Stream {
    fn new(events: Box<dyn Events>) -> Self {
        Self {
            sse: SseData::default(),
            started: false,
            ended: false,
            events,
            then: None,
        }
    }

    /// The client's events for the SSE events `chunk` completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for data in self.sse.feed(chunk) {
            if data == "[DONE]" {
                self.close(&mut out);
            } else if let Ok(event) = serde_json::from_str::<Value>(&data) {
                let first = !self.started;
                self.started = true;
                self.events.event(&event, first, &mut out);
                // Anthropic's stream says itself where it ends.
                if event["type"] == "message_stop" {
                    self.close(&mut out);
                }
            }
        }
        match self.then.as_mut() {
            Some(then) => then.feed(&out),
            None => out,
        }
    }

    /// What closes the client's stream when the upstream ended without its end.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.started {
            self.close(&mut out);
        }
        match self.then.as_mut() {
            Some(then) => {
                let mut rest = then.feed(&out);
                rest.extend(then.finish());
                rest
            }
            None => out,
        }
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if !self.ended {
            self.ended = true;
            self.events.end(out);
        }
    }
}

/// The most of one SSE event kept while it arrives; a longer one is dropped, as the
/// meter drops a document it cannot hold.
const MAX_EVENT: usize = 32 * 1024 * 1024;

/// The `data:` payloads of an SSE stream, as its events complete.
#[derive(Debug, Default)]
struct SseData {
    /// The start of an event that has not ended yet.
    pending: Vec<u8>,
}

impl SseData {
    fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        // What is pending holds no event end, but one may end across the chunks: the
        // search resumes at the last three bytes, so each byte is looked at once.
        let mut search = self.pending.len().saturating_sub(3);
        self.pending.extend_from_slice(chunk);
        let mut data = Vec::new();
        let mut start = 0;
        while let Some(end) = find_event_end(&self.pending[search..]).map(|e| search + e) {
            for line in self.pending[start..end].split(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(line);
                if let Some(payload) = line.trim_end_matches('\r').strip_prefix("data:") {
                    data.push(payload.trim().to_owned());
                }
            }
            start = end;
            search = end;
        }
        self.pending.drain(..start);
        if self.pending.len() > MAX_EVENT {
            self.pending = Vec::new();
        }
        data
    }
}

/// Where the first complete SSE event in `bytes` ends (after its blank line: `\n\n`
/// or `\r\n\r\n`).
fn find_event_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\n', &bytes[at..]) {
        let newline = at + found;
        match &bytes[newline + 1..] {
            [b'\n', ..] => return Some(newline + 2),
            [b'\r', b'\n', ..] => return Some(newline + 3),
            _ => at = newline + 1,
        }
    }
    None
}

/// Writes one SSE event.
fn emit(out: &mut Vec<u8>, event: &str, data: &Value) {
    out.extend_from_slice(format!("event: {event}\ndata: {data}\n\n").as_bytes());
}

/// Chat's `finish_reason` and usage, shared by the conversions.
fn chat_counts(usage: &Value) -> (u64, u64, u64) {
    let prompt = usage["prompt_tokens"].as_u64().unwrap_or(0);
    let cached = usage
        .pointer("/prompt_tokens_details/cached_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    (
        prompt,
        cached,
        usage["completion_tokens"].as_u64().unwrap_or(0),
    )
}

/// What turns the upstream's stream events into a client's.
trait Events: std::fmt::Debug + Send {
    /// The client's events for one upstream event (`first`: the stream's first).
    fn event(&mut self, event: &Value, first: bool, out: &mut Vec<u8>);
    /// The client's closing events (once).
    fn end(&mut self, out: &mut Vec<u8>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_whose_blank_line_is_split_across_chunks_is_read_once() {
        let stream = b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\n\ndata: {\"c\":3}\r\n\r\n";
        for cut in 0..=stream.len() {
            let mut sse = SseData::default();
            let mut data = sse.feed(&stream[..cut]);
            data.extend(sse.feed(&stream[cut..]));
            assert_eq!(
                data,
                [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_event_that_never_ends_is_dropped_past_the_limit() {
        let mut sse = SseData::default();
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..=MAX_EVENT / chunk.len() {
            assert!(sse.feed(&chunk).is_empty());
        }
        assert!(sse.pending.len() <= MAX_EVENT);
        assert_eq!(sse.feed(b"\n\ndata: 1\n\n"), ["1"]);
    }
}
