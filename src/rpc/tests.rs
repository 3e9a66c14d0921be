//! Connection behaviour over in-memory pipes: correlation, dispatch, timeouts,
//! faults, size limits and instrumentation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, duplex};

use super::*;

/// Echoes `params` back for `echo`, never answers `hang`, refuses the rest.
struct Echo;

impl Handler for Echo {
    fn request(&self, _conn: Connection, request: Request) -> HandlerFuture {
        Box::pin(async move {
            match request.method.as_str() {
                "echo" => Ok(request.params.unwrap_or(Value::Null)),
                "hang" => std::future::pending().await,
                other => Err(ErrorObject::method_not_found(other)),
            }
        })
    }
    fn notification(&self, _conn: &Connection, _n: Notification) {}
}

#[derive(Default)]
struct Collect(Mutex<Vec<(String, Direction, Outcome)>>);

impl Instrument for Collect {
    fn record(&self, r: &MessageRecord<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push((r.method.to_owned(), r.direction, r.outcome));
        }
    }
}

fn pair(options: ConnectionOptions) -> (Connection, Connection) {
    let (a, b) = duplex(1 << 16);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let (client, _) = Connection::start(ar, aw, options, Arc::new(Echo));
    let (server, _) = Connection::start(br, bw, ConnectionOptions::new("server"), Arc::new(Echo));
    (client, server)
}

/// A connection whose peer is raw bytes we write ourselves.
fn raw_peer(options: ConnectionOptions) -> (Connection, DuplexStream) {
    let (a, b) = duplex(1 << 20);
    let (ar, aw) = tokio::io::split(a);
    let (conn, _) = Connection::start(ar, aw, options, Arc::new(Echo));
    (conn, b)
}

#[tokio::test]
async fn concurrent_requests_are_correlated() {
    let (client, _server) = pair(ConnectionOptions::new("agent"));
    let calls = (0..200).map(|i| {
        let client = client.clone();
        async move { client.request("echo", Some(json!({ "n": i }))).await }
    });
    let results = futures_join_all(calls).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.expect("answered"), json!({ "n": i }));
    }
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn remote_errors_and_timeouts_leave_the_connection_usable() {
    let (client, _server) = pair(ConnectionOptions::new("agent"));
    let err = client
        .request("nope", None)
        .await
        .expect_err("unknown method");
    assert!(
        matches!(err, RpcError::Remote { ref error, .. } if error.code == ErrorObject::METHOD_NOT_FOUND)
    );
    let err = client
        .request_with_timeout("hang", None, Duration::from_millis(50))
        .await
        .expect_err("times out");
    assert!(
        err.to_string()
            .contains("agent: no response to hang within 50 ms"),
        "{err}"
    );
    assert_eq!(
        client
            .request("echo", Some(json!(1)))
            .await
            .expect("still works"),
        json!(1)
    );
}

#[tokio::test]
async fn garbage_faults_the_peer_with_what_it_sent() {
    let (conn, mut peer) = raw_peer(ConnectionOptions::new("gemini"));
    let waiting = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.request("session/prompt", None).await })
    };
    peer.write_all(b"Loaded cached credentials.\n")
        .await
        .expect("write");
    let err = waiting.await.expect("task").expect_err("faulted");
    let text = err.to_string();
    assert!(text.starts_with("gemini: sent not JSON"), "{text}");
    assert!(text.contains("Loaded cached credentials."), "{text}");
    assert!(conn.fault().is_some());
}

#[tokio::test]
async fn invalid_utf8_faults_the_peer() {
    let (conn, mut peer) = raw_peer(ConnectionOptions::new("a"));
    peer.write_all(b"\xff\xfe\xfd\n").await.expect("write");
    conn.closed().await;
    let text = conn.fault().expect("fault").to_string();
    assert!(text.contains("\\xff\\xfe\\xfd"), "{text}");
}

#[tokio::test]
async fn oversized_message_faults_without_buffering_it() {
    let mut options = ConnectionOptions::new("flood");
    options.max_message = 1024;
    let (conn, mut peer) = raw_peer(options);
    tokio::spawn(async move {
        let _ = peer.write_all(&vec![b'x'; 1 << 20]).await;
        peer
    });
    conn.closed().await;
    assert!(matches!(
        conn.fault(),
        Some(RpcError::TooLarge { limit: 1024, .. })
    ));
}

#[tokio::test]
async fn closed_pipe_fails_requests_in_flight() {
    let (conn, peer) = raw_peer(ConnectionOptions::new("crashy"));
    let waiting = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.request("initialize", None).await })
    };
    drop(peer);
    let err = waiting.await.expect("task").expect_err("closed");
    assert!(
        err.to_string().starts_with("crashy: connection closed"),
        "{err}"
    );
}

#[tokio::test]
async fn control_mode_answers_malformed_messages_and_goes_on() {
    let mut options = ConnectionOptions::new("client");
    options.reply_to_malformed = true;
    let (_conn, peer) = raw_peer(options);
    let (read, mut write) = tokio::io::split(peer);
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"not json\n").await.expect("write");
    let reply: Value =
        serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(reply["error"]["code"], ErrorObject::PARSE_ERROR);
    write
        .write_all(b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}\n")
        .await
        .expect("write");
    let reply: Value =
        serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(reply["error"]["code"], ErrorObject::INVALID_REQUEST);
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[5]}\n")
        .await
        .expect("write");
    let reply: Value =
        serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(reply["result"], json!([5]));
    assert_eq!(reply["id"], 2);
}

#[tokio::test]
async fn every_message_is_instrumented() {
    let collect = Arc::new(Collect::default());
    let mut options = ConnectionOptions::new("agent");
    options.instrument = collect.clone();
    let (client, _server) = pair(options);
    client.request("echo", Some(json!(1))).await.expect("echo");
    client.notify("session/cancel", None).expect("notify");
    let _ = client.request("nope", None).await;
    let records = collect.0.lock().expect("lock").clone();
    assert!(records.contains(&("echo".into(), Direction::Outgoing, Outcome::Sent)));
    assert!(records.contains(&("echo".into(), Direction::Incoming, Outcome::Ok)));
    assert!(records.contains(&("session/cancel".into(), Direction::Outgoing, Outcome::Sent)));
    assert!(records.contains(&(
        "nope".into(),
        Direction::Incoming,
        Outcome::Error(ErrorObject::METHOD_NOT_FOUND)
    )));
}

#[tokio::test]
async fn a_peer_that_says_nothing_is_disconnected() {
    let mut options = ConnectionOptions::new("mute");
    options.first_message_timeout = Some(Duration::from_millis(50));
    let (conn, _peer) = raw_peer(options);
    conn.closed().await;
    assert!(
        conn.fault()
            .expect("fault")
            .to_string()
            .contains("mute: connection closed (sent nothing")
    );
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_disconnected() {
    let mut options = ConnectionOptions::new("slow");
    options.max_queued = Some(100);
    // A tiny pipe nobody reads: the writer blocks and notifications pile up.
    let (a, _b) = duplex(64);
    let (ar, aw) = tokio::io::split(a);
    let (conn, _) = Connection::start(ar, aw, options, Arc::new(Echo));
    let mut result = Ok(());
    for _ in 0..1000 {
        result = conn.notify("event", Some(json!({"x": "payload payload payload"})));
        if result.is_err() {
            break;
        }
    }
    assert!(result.is_err(), "sending to a stuck reader fails");
    assert!(
        conn.fault()
            .expect("fault")
            .to_string()
            .contains("slow: stopped reading")
    );
}
