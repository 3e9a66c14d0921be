//! The reference agent's one provider call (prompt `call`): a request to the API its
//! environment names, the way the real CLIs are pointed at a provider, so tests can
//! see what reaches the provider and what the gateway meters. Plain HTTP/1.1 on
//! loopback only: the test's fake provider or aiswitch's gateway.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

/// Where to send, with which credential header, and the body.
fn request(stream: bool) -> Result<(String, String, String, String), String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // Like a CLI logged in with its own account: without a key in the environment,
    // the credential it keeps in the user's home.
    let own_login = || {
        let home = var("HOME")?;
        let path = std::path::Path::new(&home).join(".aiswitch-agent/credentials");
        std::fs::read_to_string(path)
            .ok()
            .map(|t| t.trim().to_owned())
    };
    let anthropic_key = var("ANTHROPIC_AUTH_TOKEN").or_else(own_login);
    if let (Some(base), Some(key)) = (var("ANTHROPIC_BASE_URL"), anthropic_key) {
        let model = var("ANTHROPIC_MODEL").unwrap_or_else(|| "claude-reference".into());
        let body = json!({"model": model, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": "hi"}]});
        return Ok((
            base,
            "/v1/messages".into(),
            format!("Authorization: Bearer {key}"),
            body.to_string(),
        ));
    }
    if let (Some(base), Some(key)) = (var("OPENAI_BASE_URL"), var("OPENAI_API_KEY")) {
        let model = var("OPENAI_MODEL").unwrap_or_else(|| "gpt-reference".into());
        let body = json!({"model": model, "stream": stream, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]});
        return Ok((
            base,
            "/chat/completions".into(),
            format!("Authorization: Bearer {key}"),
            body.to_string(),
        ));
    }
    if let (Some(base), Some(key)) = (var("GOOGLE_GEMINI_BASE_URL"), var("GEMINI_API_KEY")) {
        let model = var("GEMINI_MODEL").unwrap_or_else(|| "gemini-reference".into());
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
        return Ok((
            base,
            format!("/v1beta/models/{model}:{method}"),
            format!("x-goog-api-key: {key}"),
            body.to_string(),
        ));
    }
    Err("no provider in the environment (ANTHROPIC_BASE_URL, OPENAI_BASE_URL or GOOGLE_GEMINI_BASE_URL with its key)".into())
}

/// Makes the call; the reply is the response's status line, or why it failed.
pub fn call(stream: bool) -> String {
    match try_call(stream) {
        Ok(status) => status,
        Err(why) => format!("call failed: {why}"),
    }
}

fn try_call(stream: bool) -> Result<String, String> {
    let (base, path, auth, body) = request(stream)?;
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base} is not an http:// URL"))?;
    let (host, prefix) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("/{}", prefix.trim_end_matches('/'))
    };
    let mut conn = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
    let head = format!(
        "POST {prefix}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())
        .and_then(|()| conn.write_all(body.as_bytes()))
        .map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    conn.read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    Ok(text
        .lines()
        .next()
        .unwrap_or("no response")
        .trim()
        .to_owned())
}
