//! What can go wrong on a JSON-RPC connection. Every variant names the peer, so an
//! agent's fault reads as that agent's.

use std::time::Duration;

use super::ErrorObject;

/// A connection or request failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RpcError {
    /// The peer closed its end, or the connection faulted earlier.
    #[error("{peer}: connection closed{}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Closed {
        /// The peer's name.
        peer: String,
        /// Why, when known (the fault that closed it).
        reason: Option<String>,
    },
    /// No response within the timeout.
    #[error("{peer}: no response to {method} within {}", humanize(*after))]
    Timeout {
        /// The peer's name.
        peer: String,
        /// The request's method.
        method: String,
        /// The timeout.
        after: Duration,
    },
    /// The peer answered with an error.
    #[error("{peer}: {method} failed: {} (code {})", error.message, error.code)]
    Remote {
        /// The peer's name.
        peer: String,
        /// The request's method.
        method: String,
        /// The error object it sent (boxed: it is large and rare).
        error: Box<ErrorObject>,
    },
    /// The peer sent a message over the size limit.
    #[error("{peer}: sent a message of more than {limit} bytes; the connection was closed")]
    TooLarge {
        /// The peer's name.
        peer: String,
        /// The limit.
        limit: usize,
    },
    /// The peer sent something that is not JSON-RPC.
    #[error("{peer}: sent {reason}: {snippet}")]
    Malformed {
        /// The peer's name.
        peer: String,
        /// What was wrong.
        reason: String,
        /// The start of what it sent, escaped.
        snippet: String,
    },
    /// Reading or writing the transport failed.
    #[error("{peer}: {message}")]
    Io {
        /// The peer's name.
        peer: String,
        /// The I/O error, as text (so the error stays cloneable).
        message: String,
    },
}

impl RpcError {
    /// True when the connection is unusable after this error.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::Timeout { .. } | Self::Remote { .. })
    }
}

/// Shows what a peer sent: the first 80 bytes, with control and non-UTF-8 bytes
/// escaped.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    const MAX: usize = 80;
    let shown = &bytes[..bytes.len().min(MAX)];
    let mut text: String = shown.escape_ascii().to_string();
    if bytes.len() > MAX {
        text.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    text
}

fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
