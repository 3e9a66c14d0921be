//! One browser WebSocket carried to the engine host's control socket: each text
//! message is one JSON-RPC message, re-serialised on one line (the socket's framing);
//! each line the host sends comes back as a message. Replies go at once; `event`
//! notifications are gathered (see [`Gathered`]) and go as one JSON-RPC batch (an
//! array). The browser speaks the control API itself, so the dashboard serves exactly
//! what the CLI and the app use.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::time::Instant;

use crate::events::Gathered;

/// Gathered notifications go at once past this many bytes.
const GATHER_BYTES: usize = 256 * 1024;

/// Relays `ws` and `stream` until either side closes.
pub async fn relay(mut ws: WebSocket, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut gathered = Gathered::new(GATHER_BYTES);
    loop {
        let due = gathered.due().map(Instant::from_std);
        tokio::select! {
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                if !flush(&mut gathered, &mut ws).await {
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
                    let weight = line.len() + 1;
                    if gathered.push(line, weight) && !flush(&mut gathered, &mut ws).await {
                        return;
                    }
                }
                Ok(Some(line)) => {
                    // A reply: what was gathered before it goes first, in order.
                    if !flush(&mut gathered, &mut ws).await
                        || ws.send(Message::Text(line.into())).await.is_err()
                    {
                        return;
                    }
                }
                _ => break,
            },
        }
    }
    if flush(&mut gathered, &mut ws).await {
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

/// Gathered lines as one message: the line itself, or a JSON-RPC batch.
fn message(mut lines: Vec<String>) -> Option<String> {
    match lines.len() {
        0 => None,
        1 => lines.pop(),
        _ => Some(format!("[{}]", lines.join(","))),
    }
}

/// Sends what is gathered; false when the page is gone.
async fn flush(gathered: &mut Gathered<String>, ws: &mut WebSocket) -> bool {
    match message(gathered.take()) {
        Some(text) => ws.send(Message::Text(text.into())).await.is_ok(),
        None => true,
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
        assert_eq!(message(Vec::new()), None);
        assert_eq!(
            message(vec![r#"{"a":1}"#.into()]).as_deref(),
            Some(r#"{"a":1}"#)
        );
        let batch = message(vec![r#"{"a":1}"#.into(), r#"{"b":2}"#.into()]).unwrap();
        let batch: serde_json::Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(batch, serde_json::json!([{"a": 1}, {"b": 2}]));
    }
}
