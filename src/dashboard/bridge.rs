//! One browser WebSocket carried to the engine host's control socket: each text
//! message is one JSON-RPC message, re-serialised on one line (the socket's framing);
//! each line the host sends comes back as a message. Replies go at once; `event`
//! notifications are gathered for a few milliseconds and go as one JSON-RPC batch (an
//! array), because a page handles one message with fifty events much faster than
//! fifty messages: three agents streaming 1,000 lines a second each are thousands
//! of events a second. The browser speaks the control API itself, so the dashboard
//! serves exactly what the CLI and the app use.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::time::Instant;

/// How long the first gathered notification waits for others (under a frame).
const GATHER: Duration = Duration::from_millis(8);
/// Gathered notifications go at once past this many bytes.
const GATHER_BYTES: usize = 256 * 1024;

/// Relays `ws` and `stream` until either side closes.
pub async fn relay(mut ws: WebSocket, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut gathered = Gathered::default();
    loop {
        let due = gathered.due();
        tokio::select! {
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                if !gathered.flush(&mut ws).await {
                    return;
                }
            }
            message = ws.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    let line = match serde_json::from_str::<serde_json::Value>(text.as_str()) {
                        Ok(json) => json.to_string(),
                        Err(e) => {
                            let reply = serde_json::json!({
                                "jsonrpc": "2.0", "id": null,
                                "error": { "code": -32700, "message": format!("parse error: {e}") }
                            });
                            if ws.send(Message::Text(reply.to_string().into())).await.is_err() {
                                return;
                            }
                            continue;
                        }
                    };
                    if write.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            line = lines.next_line() => match line {
                Ok(Some(line)) if is_notification(&line) => {
                    if gathered.push(line) && !gathered.flush(&mut ws).await {
                        return;
                    }
                }
                Ok(Some(line)) => {
                    // A reply: what was gathered before it goes first, in order.
                    if !gathered.flush(&mut ws).await
                        || ws.send(Message::Text(line.into())).await.is_err()
                    {
                        return;
                    }
                }
                _ => break,
            },
        }
    }
    if gathered.flush(&mut ws).await {
        close(ws, "the engine host went away").await;
    }
}

/// Whether a line from the host is a notification (a method, no `id`) rather than a
/// reply.
fn is_notification(line: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        method: Option<serde::de::IgnoredAny>,
        id: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(line)
        .is_ok_and(|probe| probe.method.is_some() && probe.id.is_none())
}

/// Notifications waiting to go to the page together.
#[derive(Default)]
struct Gathered {
    lines: Vec<String>,
    bytes: usize,
    since: Option<Instant>,
}

impl Gathered {
    /// Adds a line; true when enough is gathered to send now.
    fn push(&mut self, line: String) -> bool {
        self.since.get_or_insert_with(Instant::now);
        self.bytes += line.len() + 1;
        self.lines.push(line);
        self.bytes >= GATHER_BYTES
    }

    /// When what is gathered must go.
    fn due(&self) -> Option<Instant> {
        self.since.map(|since| since + GATHER)
    }

    /// The gathered lines as one message: the line itself, or a JSON-RPC batch.
    fn message(&mut self) -> Option<String> {
        self.since = None;
        self.bytes = 0;
        match self.lines.len() {
            0 => None,
            1 => self.lines.pop(),
            _ => Some(format!("[{}]", std::mem::take(&mut self.lines).join(","))),
        }
    }

    /// Sends what is gathered; false when the page is gone.
    async fn flush(&mut self, ws: &mut WebSocket) -> bool {
        match self.message() {
            Some(text) => ws.send(Message::Text(text.into())).await.is_ok(),
            None => true,
        }
    }
}

/// Closes `ws` saying why (the page shows it and reconnects).
pub async fn close(mut ws: WebSocket, reason: &str) {
    let frame = CloseFrame {
        code: 1011,
        reason: reason.into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_notifications_are_told_apart() {
        assert!(is_notification(
            r#"{"jsonrpc":"2.0","method":"event","params":{"id":3}}"#
        ));
        assert!(!is_notification(
            r#"{"id":7,"jsonrpc":"2.0","result":{"id":1}}"#
        ));
        assert!(!is_notification(
            r#"{"id":null,"jsonrpc":"2.0","error":{"code":-32700}}"#
        ));
    }

    #[test]
    fn gathered_lines_go_as_one_batch_in_order() {
        let mut gathered = Gathered::default();
        assert_eq!(gathered.message(), None);
        gathered.push(r#"{"a":1}"#.into());
        assert_eq!(gathered.message().as_deref(), Some(r#"{"a":1}"#));
        assert!(gathered.due().is_none());
        gathered.push(r#"{"a":1}"#.into());
        gathered.push(r#"{"b":2}"#.into());
        assert!(gathered.due().is_some());
        let batch: serde_json::Value = serde_json::from_str(&gathered.message().unwrap()).unwrap();
        assert_eq!(batch, serde_json::json!([{"a": 1}, {"b": 2}]));
    }

    #[test]
    fn a_big_gathering_goes_at_once() {
        let mut gathered = Gathered::default();
        let line = format!(r#"{{"t":"{}"}}"#, "x".repeat(1000));
        let pushes = 1
            + (0..1000)
                .take_while(|_| !gathered.push(line.clone()))
                .count();
        assert_eq!(pushes, GATHER_BYTES.div_ceil(line.len() + 1));
    }
}
