//! Which provider API a request speaks, told from its path, and where each API puts
//! the usage of a response (DESIGN §6).

use serde_json::Value;

use crate::agents::event::TokenCounts;

/// A provider API the gateway meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Anthropic Messages (`/v1/messages`).
    AnthropicMessages,
    /// OpenAI Responses (`/responses`).
    OpenAiResponses,
    /// OpenAI Chat Completions (`/chat/completions`).
    OpenAiChat,
    /// Gemini `generateContent` / `streamGenerateContent`.
    Gemini,
    /// Anything else (model lists, token counting): passed through, not metered.
    Other,
}

impl Api {
    /// The API of a request to `path` (without the query).
    pub fn of(path: &str) -> Self {
        if path.ends_with("/messages") {
            Self::AnthropicMessages
        } else if path.ends_with("/responses") {
            Self::OpenAiResponses
        } else if path.ends_with("/chat/completions") {
            Self::OpenAiChat
        } else if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
            Self::Gemini
        } else {
            Self::Other
        }
    }

    /// The model a Gemini request names in its path (`models/NAME:generateContent`).
    pub fn model_in_path(path: &str) -> Option<&str> {
        let (_, rest) = path.split_once("/models/")?;
        rest.split(':').next().filter(|m| !m.is_empty())
    }
}

/// The usage read so far from one response: counts overwrite (the APIs report
/// cumulative figures), they are never added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// The model the provider says answered.
    pub model: Option<String>,
    /// The counts, in aiswitch's split (input without the cached part).
    pub tokens: TokenCounts,
    /// True once any usage field was seen.
    pub metered: bool,
}

fn n(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer).and_then(Value::as_u64)
}

impl Reading {
    /// Takes what `event` (a whole JSON response, or one SSE event's data) says.
    pub fn observe(&mut self, api: Api, event: &Value) {
        match api {
            Api::AnthropicMessages => self.anthropic(event),
            Api::OpenAiResponses => self.responses(event),
            Api::OpenAiChat => self.chat(event),
            Api::Gemini => self.gemini(event),
            Api::Other => {}
        }
    }

    fn model_from(&mut self, v: Option<&Value>) {
        if let Some(model) = v.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            self.model = Some(model.to_owned());
        }
    }

    /// `message_start.message.usage` has the input counts, `message_delta.usage` is
    /// cumulative; a whole response has `usage` at the top.
    fn anthropic(&mut self, v: &Value) {
        let message = v.get("message").unwrap_or(v);
        self.model_from(message.get("model"));
        let Some(usage) = message.get("usage").or_else(|| v.get("usage")) else {
            return;
        };
        let t = &mut self.tokens;
        let mut seen = false;
        for (field, slot) in [
            ("/input_tokens", &mut t.input),
            ("/output_tokens", &mut t.output),
            ("/cache_read_input_tokens", &mut t.cache_read),
            ("/cache_creation_input_tokens", &mut t.cache_write),
        ] {
            if let Some(value) = n(usage, field) {
                *slot = value;
                seen = true;
            }
        }
        self.metered |= seen;
    }

    /// `usage` of a whole response, or of `response.completed`'s `response`.
    fn responses(&mut self, v: &Value) {
        let response = v.get("response").unwrap_or(v);
        self.model_from(response.get("model"));
        let Some(usage) = response.get("usage").filter(|u| u.is_object()) else {
            return;
        };
        let cached = n(usage, "/input_tokens_details/cached_tokens").unwrap_or(0);
        self.tokens = TokenCounts {
            input: n(usage, "/input_tokens")
                .unwrap_or(0)
                .saturating_sub(cached),
            output: n(usage, "/output_tokens").unwrap_or(0),
            cache_read: cached,
            cache_write: 0,
            reasoning: n(usage, "/output_tokens_details/reasoning_tokens").unwrap_or(0),
        };
        self.metered = true;
    }

    /// `usage` of a whole response, or of the last chunk of a stream (sent when
    /// the request asked for `stream_options.include_usage`).
    fn chat(&mut self, v: &Value) {
        self.model_from(v.get("model"));
        let Some(usage) = v.get("usage").filter(|u| u.is_object()) else {
            return;
        };
        let cached = n(usage, "/prompt_tokens_details/cached_tokens").unwrap_or(0);
        self.tokens = TokenCounts {
            input: n(usage, "/prompt_tokens")
                .unwrap_or(0)
                .saturating_sub(cached),
            output: n(usage, "/completion_tokens").unwrap_or(0),
            cache_read: cached,
            cache_write: 0,
            reasoning: n(usage, "/completion_tokens_details/reasoning_tokens").unwrap_or(0),
        };
        self.metered = true;
    }

    /// `usageMetadata`, cumulative in every chunk of a stream; a stream without SSE
    /// is one JSON array of chunks. Thinking is billed as output. Gemini CLI signed in
    /// with Google talks to Code Assist, which wraps each answer in `response`.
    fn gemini(&mut self, v: &Value) {
        if let Some(chunks) = v.as_array() {
            chunks.iter().for_each(|chunk| self.gemini(chunk));
            return;
        }
        if let Some(wrapped) = v.get("response").filter(|r| r.is_object()) {
            self.gemini(wrapped);
            return;
        }
        self.model_from(v.get("modelVersion"));
        let Some(usage) = v.get("usageMetadata").filter(|u| u.is_object()) else {
            return;
        };
        let cached = n(usage, "/cachedContentTokenCount").unwrap_or(0);
        let thoughts = n(usage, "/thoughtsTokenCount").unwrap_or(0);
        self.tokens = TokenCounts {
            input: n(usage, "/promptTokenCount")
                .unwrap_or(0)
                .saturating_sub(cached),
            output: n(usage, "/candidatesTokenCount").unwrap_or(0) + thoughts,
            cache_read: cached,
            cache_write: 0,
            reasoning: thoughts,
        };
        self.metered = true;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tokens(
        input: u64,
        output: u64,
        cache_read: u64,
        cache_write: u64,
        reasoning: u64,
    ) -> TokenCounts {
        TokenCounts {
            input,
            output,
            cache_read,
            cache_write,
            reasoning,
        }
    }

    #[test]
    fn paths_name_their_api() {
        assert_eq!(Api::of("/v1/messages"), Api::AnthropicMessages);
        assert_eq!(Api::of("/anthropic/v1/messages"), Api::AnthropicMessages);
        assert_eq!(Api::of("/v1/responses"), Api::OpenAiResponses);
        assert_eq!(Api::of("/v1/chat/completions"), Api::OpenAiChat);
        let gemini = "/v1beta/models/gemini-2.5-pro:streamGenerateContent";
        assert_eq!(Api::of(gemini), Api::Gemini);
        assert_eq!(Api::model_in_path(gemini), Some("gemini-2.5-pro"));
        assert_eq!(Api::of("/v1/models"), Api::Other);
        assert_eq!(Api::of("/v1/messages/count_tokens"), Api::Other);
    }

    #[test]
    fn anthropic_stream_takes_the_last_cumulative_output_never_a_sum() {
        let mut r = Reading::default();
        let start = json!({"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 11, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 2, "output_tokens": 1}}});
        r.observe(Api::AnthropicMessages, &start);
        r.observe(
            Api::AnthropicMessages,
            &json!({"type": "content_block_delta", "delta": {"text": "hi"}}),
        );
        r.observe(
            Api::AnthropicMessages,
            &json!({"type": "message_delta", "usage": {"output_tokens": 4}}),
        );
        r.observe(
            Api::AnthropicMessages,
            &json!({"type": "message_delta", "usage": {"output_tokens": 7}}),
        );
        assert_eq!(r.tokens, tokens(11, 7, 5, 2, 0));
        assert_eq!(r.model.as_deref(), Some("claude-x"));
        assert!(r.metered);
    }

    #[test]
    fn openai_splits_the_cached_part_out_of_input() {
        let mut r = Reading::default();
        let done = json!({"type": "response.completed", "response": {"model": "gpt-x", "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 3}}}});
        r.observe(Api::OpenAiResponses, &done);
        assert_eq!(r.tokens, tokens(12, 9, 8, 0, 3));
        let mut c = Reading::default();
        c.observe(
            Api::OpenAiChat,
            &json!({"model": "m", "choices": [], "usage": null}),
        );
        assert!(!c.metered, "a chunk with usage null is no usage");
        c.observe(Api::OpenAiChat, &json!({"model": "m", "usage": {"prompt_tokens": 11, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 1}}}));
        assert_eq!(c.tokens, tokens(10, 7, 1, 0, 0));
    }

    #[test]
    fn gemini_counts_thoughts_as_output_and_reads_arrays() {
        let mut r = Reading::default();
        let chunks = json!([
            {"modelVersion": "gemini-x", "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 2}},
            {"response": {"usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "thoughtsTokenCount": 4, "cachedContentTokenCount": 3}}, "traceId": "t"}
        ]);
        r.observe(Api::Gemini, &chunks);
        assert_eq!(r.tokens, tokens(8, 11, 3, 0, 4));
        assert_eq!(r.model.as_deref(), Some("gemini-x"));
    }
}
