//! A run's transcript kept in bounded memory: consecutive pieces of text (and of
//! reasoning) are joined into one event, and once more than [`KEEP_TEXT_BYTES`] of
//! them are held the oldest are dropped, leaving a note of how much. An agent that
//! streams for an hour costs a megabyte, not gigabytes; the usage, tool calls and the
//! end of the run are all kept, so the run's summary is the same.

use super::event::RunEvent;

/// How much text and reasoning a transcript keeps (the newest).
pub const KEEP_TEXT_BYTES: usize = 1 << 20;

/// How many tool calls a transcript keeps (the newest); the rest are counted.
pub const KEEP_TOOL_CALLS: usize = 10_000;

/// The events of one run, text joined and bounded.
#[derive(Debug, Default, Clone)]
pub struct Transcript {
    events: Vec<RunEvent>,
    text_bytes: usize,
    dropped_bytes: u64,
    tool_calls: usize,
    dropped_tool_calls: u64,
}

impl Transcript {
    /// Adds one event.
    pub fn push(&mut self, event: RunEvent) {
        match (self.events.last_mut(), event) {
            (Some(RunEvent::Text { text: held }), RunEvent::Text { text })
            | (Some(RunEvent::Thought { text: held }), RunEvent::Thought { text }) => {
                self.text_bytes += text.len();
                held.push_str(&text);
            }
            (_, event) => {
                self.text_bytes += text_len(&event);
                if matches!(event, RunEvent::ToolCall { .. }) {
                    self.tool_calls += 1;
                }
                self.events.push(event);
            }
        }
        if self.text_bytes > KEEP_TEXT_BYTES {
            self.drop_oldest_text();
        }
        if self.tool_calls > KEEP_TOOL_CALLS {
            self.drop_oldest_tool_calls();
        }
    }

    /// Forgets everything (a new turn).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Bytes of text and reasoning dropped so far.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// The events, with a note before the first text when some were dropped.
    pub fn into_events(mut self) -> Vec<RunEvent> {
        if self.dropped_bytes > 0 || self.dropped_tool_calls > 0 {
            let note = match self.dropped_tool_calls {
                0 => format!(
                    "[… {} bytes of earlier output not kept]\n",
                    self.dropped_bytes
                ),
                calls => format!(
                    "[… {} bytes of earlier output and {calls} earlier tool calls not kept]\n",
                    self.dropped_bytes
                ),
            };
            match self
                .events
                .iter_mut()
                .find(|e| matches!(e, RunEvent::Text { .. }))
            {
                Some(RunEvent::Text { text }) => text.insert_str(0, &note),
                _ => self.events.insert(0, RunEvent::Text { text: note }),
            }
        }
        self.events
    }

    /// Drops the oldest tool calls down to three quarters of the limit (a quarter at
    /// a time, so the scan is rare).
    fn drop_oldest_tool_calls(&mut self) {
        let mut excess = self.tool_calls - KEEP_TOOL_CALLS / 4 * 3;
        self.tool_calls -= excess;
        self.dropped_tool_calls += excess as u64;
        self.events.retain(|e| {
            if excess > 0 && matches!(e, RunEvent::ToolCall { .. }) {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }

    /// Trims the oldest text down to three quarters of the limit, so trimming happens
    /// once per quarter-megabyte, not on every line.
    fn drop_oldest_text(&mut self) {
        let target = KEEP_TEXT_BYTES / 4 * 3;
        let mut i = 0;
        while self.text_bytes > target && i < self.events.len() {
            let excess = self.text_bytes - target;
            let (RunEvent::Text { text } | RunEvent::Thought { text }) = &mut self.events[i] else {
                i += 1;
                continue;
            };
            if text.len() <= excess {
                self.text_bytes -= text.len();
                self.dropped_bytes += text.len() as u64;
                self.events.remove(i);
                continue;
            }
            let mut cut = excess;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            self.text_bytes -= cut;
            self.dropped_bytes += cut as u64;
            text.drain(..cut);
            i += 1;
        }
    }
}

fn text_len(event: &RunEvent) -> usize {
    match event {
        RunEvent::Text { text } | RunEvent::Thought { text } => text.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::event::{RunSummary, TokenCounts, UsageReport, UsageScope};

    fn text(s: &str) -> RunEvent {
        RunEvent::Text { text: s.into() }
    }

    #[test]
    fn consecutive_text_is_one_event_and_the_summary_is_unchanged() {
        let events = vec![
            text("a"),
            text("b"),
            RunEvent::Usage(UsageReport {
                model: None,
                tokens: TokenCounts {
                    input: 3,
                    ..Default::default()
                },
                cost_usd: None,
                scope: UsageScope::Part,
            }),
            text("c"),
        ];
        let mut transcript = Transcript::default();
        for e in events.clone() {
            transcript.push(e);
        }
        let kept = transcript.into_events();
        assert_eq!(kept.len(), 3);
        let (a, b) = (
            RunSummary::from_events(&events),
            RunSummary::from_events(&kept),
        );
        assert_eq!((a.text, a.tokens), (b.text.clone(), b.tokens));
        assert_eq!(b.text, "abc");
    }

    #[test]
    fn an_endless_stream_keeps_the_newest_megabyte_and_says_what_was_dropped() {
        let mut transcript = Transcript::default();
        let line = "line of output, twenty-ish bytes\n";
        let lines = 200_000;
        for n in 0..lines {
            transcript.push(text(line));
            if n % 1000 == 0 {
                transcript.push(RunEvent::ToolCall {
                    id: n.to_string(),
                    name: "read".into(),
                });
            }
        }
        transcript.push(text("the end"));
        let dropped = transcript.dropped_bytes();
        let events = transcript.into_events();
        let summary = RunSummary::from_events(&events);
        assert!(summary.text.len() <= KEEP_TEXT_BYTES + 100);
        assert!(summary.text.ends_with("the end"));
        assert!(summary.text.starts_with(&format!("[… {dropped} bytes")));
        let total = (line.len() * lines + "the end".len()) as u64;
        let kept: u64 = events.iter().map(|e| text_len(e) as u64).sum();
        assert_eq!(
            kept - summary.text.lines().next().unwrap().len() as u64 - 1 + dropped,
            total
        );
        // every tool call is still there
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, RunEvent::ToolCall { .. }))
                .count(),
            200
        );
    }

    #[test]
    fn a_flood_of_tool_calls_keeps_the_newest_and_counts_the_rest() {
        let mut transcript = Transcript::default();
        for n in 0..(KEEP_TOOL_CALLS * 3) {
            transcript.push(RunEvent::ToolCall {
                id: n.to_string(),
                name: "read".into(),
            });
        }
        transcript.push(text("done"));
        let events = transcript.into_events();
        let calls: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                RunEvent::ToolCall { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert!(calls.len() <= KEEP_TOOL_CALLS);
        let last = (KEEP_TOOL_CALLS * 3 - 1).to_string();
        assert_eq!(calls.last(), Some(&last.as_str()), "the newest is kept");
        let dropped = KEEP_TOOL_CALLS * 3 - calls.len();
        let summary = RunSummary::from_events(&events);
        assert!(
            summary.text.starts_with(&format!(
                "[… 0 bytes of earlier output and {dropped} earlier tool calls not kept]"
            )),
            "{}",
            &summary.text[..80.min(summary.text.len())]
        );
        assert!(summary.text.ends_with("done"));
    }

    #[test]
    fn trimming_respects_character_boundaries() {
        let mut transcript = Transcript::default();
        for _ in 0..(KEEP_TEXT_BYTES / 3 + 10) {
            transcript.push(text("中"));
        }
        let summary = RunSummary::from_events(&transcript.into_events());
        assert!(summary.text.ends_with('中'));
    }
}
