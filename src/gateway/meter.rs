//! Reads usage out of a response body while it passes through: server-sent events
//! line by line as they arrive, a plain JSON body once it is whole. The body itself
//! is never kept beyond the line or document being read, and never stored.

use serde_json::Value;

use super::api::{Api, Reading};

/// The most of a non-streamed body (or of one SSE line) kept to read its usage;
/// a larger one passes through unmetered.
const MAX_DOCUMENT: usize = 32 * 1024 * 1024;

/// How the body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `text/event-stream`: `data:` lines, each a JSON event.
    Sse,
    /// One JSON document (a Gemini stream without SSE is one JSON array).
    Json,
}

/// The usage reader of one response.
#[derive(Debug)]
pub struct Meter {
    api: Api,
    framing: Framing,
    pending: Vec<u8>,
    overflowed: bool,
    reading: Reading,
}

impl Meter {
    /// A meter for a response of `api` with this `content-type`.
    pub fn new(api: Api, content_type: Option<&str>) -> Self {
        let sse = content_type.is_some_and(|t| t.starts_with("text/event-stream"));
        Self {
            api,
            framing: if sse { Framing::Sse } else { Framing::Json },
            pending: Vec::new(),
            overflowed: false,
            reading: Reading::default(),
        }
    }

    /// True when this response carries nothing to meter.
    pub fn idle(&self) -> bool {
        self.api == Api::Other
    }

    /// Reads the next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.idle() {
            return;
        }
        if self.pending.len() + chunk.len() > MAX_DOCUMENT {
            self.overflowed = true;
            self.pending.clear();
        }
        match self.framing {
            Framing::Json if !self.overflowed => self.pending.extend_from_slice(chunk),
            Framing::Json => {}
            Framing::Sse => {
                // What is pending holds no newline: only the chunk is searched.
                let searched = self.pending.len();
                self.pending.extend_from_slice(chunk);
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', &self.pending[searched..]) {
                    let end = searched + end;
                    if let Some(event) = sse_data(&self.pending[start..end]) {
                        self.reading.observe(self.api, &event);
                    }
                    start = end + 1;
                }
                self.pending.drain(..start);
                self.overflowed = false;
            }
        }
    }

    /// What the response said, once it ended (or was cut off: then what streamed
    /// so far).
    pub fn finish(mut self) -> Reading {
        match self.framing {
            Framing::Sse => {
                if let Some(event) = sse_data(&self.pending) {
                    self.reading.observe(self.api, &event);
                }
            }
            Framing::Json if !self.overflowed => {
                if let Ok(doc) = serde_json::from_slice::<Value>(&self.pending) {
                    self.reading.observe(self.api, &doc);
                }
            }
            Framing::Json => {}
        }
        self.reading
    }
}

/// The JSON of one SSE `data:` line, if it is one.
fn sse_data(line: &[u8]) -> Option<Value> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let data = line.strip_prefix(b"data:")?;
    let data = data.strip_prefix(b" ").unwrap_or(data);
    if data == b"[DONE]" {
        return None;
    }
    serde_json::from_slice(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_split_across_chunks_are_read_once() {
        let body = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":11,\"output_tokens\":1}}}\r\n\r\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\ndata: [DONE]\n";
        for size in [1, 3, 17, body.len()] {
            let mut meter = Meter::new(
                Api::AnthropicMessages,
                Some("text/event-stream; charset=utf-8"),
            );
            body.as_bytes().chunks(size).for_each(|c| meter.feed(c));
            let r = meter.finish();
            assert_eq!(
                (r.tokens.input, r.tokens.output),
                (11, 7),
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn a_json_body_is_read_when_whole_and_garbage_reads_as_unmetered() {
        let mut meter = Meter::new(Api::OpenAiChat, Some("application/json"));
        meter.feed(br#"{"model":"m","usage":{"prompt_tokens":3,"#);
        meter.feed(br#""completion_tokens":4}}"#);
        let r = meter.finish();
        assert_eq!((r.tokens.input, r.tokens.output, r.metered), (3, 4, true));
        let mut bad = Meter::new(Api::OpenAiChat, Some("application/json"));
        bad.feed(b"{not json");
        assert!(!bad.finish().metered);
    }

    #[test]
    fn a_stream_cut_off_keeps_what_streamed_so_far() {
        let mut meter = Meter::new(Api::AnthropicMessages, Some("text/event-stream"));
        meter.feed(b"data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":11,\"output_tokens\":1}}}\n");
        meter.feed(b"data: {\"type\":\"message_delta\",\"usa");
        let r = meter.finish();
        assert_eq!((r.tokens.input, r.tokens.output), (11, 1));
    }
}
