//! What the fuzzers feed: one function per parser that reads input from outside
//! (agents' stdout, provider responses, the control socket, files users import).
//! `fuzz/` runs them under libFuzzer (`cargo +nightly fuzz run NAME`), and
//! tests/fuzz_inputs.rs replays every saved input on stable, so a crash found once is
//! tested forever. Each must return without panicking, hanging or allocating beyond
//! its input, whatever the bytes, and checks what must hold of any input it accepts.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use serde_json::Value;

use crate::agents::drivers::{self, AcpDriver, StreamDriver};
use crate::agents::{AgentRegistry, Manifest};
use crate::gateway::{Api, Meter, Translation, code_assist_windows, quota_windows};
use crate::presets::{Bundle, directory::DirectoryPresets, parse_legacy};
use crate::rpc::{Framing, Message};
use crate::usage::{LogSource, opencode_message, parse_line};

/// A fuzz target: takes any bytes.
pub type Target = fn(&[u8]);

/// Every target, by the name of its file in `fuzz/fuzz_targets/` and its inputs'
/// directory in `fuzz/inputs/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("rpc_message", rpc_message),
    ("rpc_framing", rpc_framing),
    ("agent_manifest", agent_manifest),
    ("agent_output", agent_output),
    ("preset_files", preset_files),
    ("usage_log_line", usage_log_line),
    ("gateway_meter", gateway_meter),
    ("gateway_translate", gateway_translate),
    ("quota_headers", quota_headers),
];

/// A JSON-RPC message (agents' stdio, the control socket, the dashboard's WebSocket):
/// one that parses prints back to the same message.
pub fn rpc_message(data: &[u8]) {
    if let Ok(message) = Message::parse(data) {
        let printed = message.to_json();
        let again = Message::parse(&printed).expect("a parsed message prints as a message");
        assert_eq!(
            again, message,
            "a message changed when printed and read back"
        );
    }
}

/// A byte stream cut into messages, both framings, under a limit the first byte sets:
/// no message over the limit, no newline inside a line, and a framed message reads back.
pub fn rpc_framing(data: &[u8]) {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let max = 1 + usize::from(first) * 4;
    for framing in [Framing::Lines, Framing::ContentLength] {
        let mut reader = stream;
        // Each message consumes at least a byte, so this bounds the loop.
        for _ in 0..=stream.len() {
            match ready(framing.read(&mut reader, max)) {
                Ok(Some(body)) => {
                    assert!(body.len() <= max, "a message over the limit was read");
                    if framing == Framing::Lines {
                        assert!(!body.contains(&b'\n'), "a line holds a newline");
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        let mut framed = &framing.encode(stream)[..];
        let read = ready(framing.read(&mut framed, stream.len().max(1)));
        let whole_line = !stream.contains(&b'\n')
            && !stream.ends_with(b"\r")
            && !stream.iter().all(u8::is_ascii_whitespace);
        if framing == Framing::ContentLength || whole_line {
            assert_eq!(
                read.ok().flatten().as_deref(),
                Some(stream),
                "a framed message did not read back"
            );
        }
    }
}

/// An agent manifest (`aiswitch agents register FILE`).
pub fn agent_manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::parse(text, "fuzz.toml");
    }
}

/// An agent CLI's stdout, line by line, through every built-in manifest's driver and
/// the ACP driver.
pub fn agent_output(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    static MANIFESTS: LazyLock<Vec<Manifest>> = LazyLock::new(AgentRegistry::builtins);
    let mut stream: Vec<Box<dyn StreamDriver>> =
        MANIFESTS.iter().filter_map(drivers::for_manifest).collect();
    let mut acp = AcpDriver::default();
    acp.start_turn();
    for line in text.lines() {
        for driver in &mut stream {
            let _ = driver.on_line(line);
        }
        if let Ok(value) = serde_json::from_str::<Value>(line) {
            acp.on_update(&value);
            acp.on_prompt_result(&value);
        }
    }
}

/// A preset file: an export bundle (a bundle that parses prints back to the same
/// presets), the original tool's YAML, a `.aiswitch.toml`.
pub fn preset_files(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    if let Ok(bundle) = Bundle::parse(text, path) {
        let printed = bundle.to_toml();
        let again = Bundle::parse(&printed, path).expect("a parsed bundle prints as a bundle");
        assert!(
            again.presets().eq(bundle.presets()),
            "presets changed when printed and read back"
        );
    }
    let _ = parse_legacy(text, Path::new("fuzz.yaml"));
    let _ = DirectoryPresets::parse(text, path);
}

/// One line of every agent's usage log (`aiswitch usage import`).
pub fn usage_log_line(data: &[u8]) {
    for source in LogSource::ALL {
        let _ = parse_line(source, data, "fuzz:0");
    }
    let _ = opencode_message("msg", "ses", &String::from_utf8_lossy(data));
}

/// A provider's response body through the gateway's meter: the first byte picks the
/// API and SSE or JSON, the second the size of the chunks it arrives in.
pub fn gateway_meter(data: &[u8]) {
    let [first, second, body @ ..] = data else {
        return;
    };
    let apis = [
        Api::AnthropicMessages,
        Api::OpenAiResponses,
        Api::OpenAiChat,
        Api::Gemini,
        Api::Other,
    ];
    let api = apis[usize::from(*first) % apis.len()];
    let content_type = (first & 0x80 != 0).then_some("text/event-stream");
    let mut meter = Meter::new(api, content_type);
    for chunk in body.chunks(usize::from(*second).max(1)) {
        meter.feed(chunk);
    }
    let _ = meter.finish();
}

/// A client's request and a provider's answer through every translation, whole and
/// streamed in chunks the first byte sizes.
pub fn gateway_translate(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let request = serde_json::from_slice::<Value>(body).ok();
    for translation in [
        Translation::AnthropicToChat,
        Translation::ResponsesToChat,
        Translation::ChatToAnthropic,
        Translation::ResponsesToAnthropic,
    ] {
        if let Some(request) = &request {
            let _ = translation.request(request);
        }
        let _ = translation.response(200, body);
        let _ = translation.response(429, body);
        let mut stream = translation.stream();
        for chunk in body.chunks(usize::from(first).max(1)) {
            let _ = stream.feed(chunk);
        }
        let _ = stream.finish();
    }
}

/// Rate-limit headers (one `name: value` per line) and a Code Assist quota body.
pub fn quota_headers(data: &[u8]) {
    let mut headers = hyper::HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(line[..colon].trim_ascii()),
            hyper::header::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let _ = quota_windows(&headers, 1_800_000_000_000);
    let _ = code_assist_windows(data);
}

/// Runs a future that never waits (it reads from memory) to its end.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("reading from memory never waits"),
    }
}
