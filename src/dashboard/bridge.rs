//! One browser WebSocket carried to the engine host's control socket: each text
//! message is one JSON-RPC message, re-serialised on one line (the socket's framing);
//! each line the host sends (replies, `event` notifications) is one message back.
//! The browser speaks the control API itself, so the dashboard serves exactly what
//! the CLI and the app use.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// Relays `ws` and `stream` until either side closes.
pub async fn relay(mut ws: WebSocket, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        tokio::select! {
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
                Ok(Some(line)) => {
                    if ws.send(Message::Text(line.into())).await.is_err() {
                        return;
                    }
                }
                _ => break,
            },
        }
    }
    close(ws, "the engine host went away").await;
}

/// Closes `ws` saying why (the page shows it and reconnects).
pub async fn close(mut ws: WebSocket, reason: &str) {
    let frame = CloseFrame {
        code: 1011,
        reason: reason.into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
}
