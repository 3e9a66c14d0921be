//! How a process that committed events tells the engine host: one JSON-RPC
//! notification, `event.wake`, on the host's control socket. It carries nothing but
//! "look at the table": the host reads the new rows itself, in id order. No host
//! running means nothing to tell; a host that starts later reads from where its
//! subscribers ask.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The notification's method.
pub const METHOD: &str = "event.wake";

/// Tells the host listening on `socket`, if any, that new events are in the store.
/// Never fails the caller: the events are committed either way, and a subscriber
/// that misses the wake-up reads them on its next one or when it resumes.
pub fn host(socket: &Path) {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return;
    };
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let line = format!("{{\"jsonrpc\":\"2.0\",\"method\":\"{METHOD}\"}}\n");
    if let Err(e) = stream.write_all(line.as_bytes()) {
        tracing::debug!(error = %e, "cannot wake the engine host");
    }
}
