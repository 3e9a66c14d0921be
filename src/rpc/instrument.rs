//! The instrumentation hook every message passes: method, direction, size, latency
//! and outcome. Later issues store these records; tests collect them.

use std::time::Duration;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the peer.
    Incoming,
    /// Sent to the peer.
    Outgoing,
}

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A notification, or a request still in flight.
    Sent,
    /// A successful response.
    Ok,
    /// An error response with this code.
    Error(i64),
    /// No response before the timeout.
    Timeout,
    /// The connection ended (the peer crashed or closed its end) before a response.
    Lost,
}

/// One message, as the hook sees it.
#[derive(Debug, Clone)]
pub struct MessageRecord<'a> {
    /// The peer's name (an agent id, a control client).
    pub peer: &'a str,
    /// The method (of the request a response answers).
    pub method: &'a str,
    /// Which way it went.
    pub direction: Direction,
    /// Bytes on the wire (0 for a timeout).
    pub size: usize,
    /// For responses and timeouts: time since the request was sent.
    pub latency: Option<Duration>,
    /// How it ended.
    pub outcome: Outcome,
}

/// Receives every message record. Called on the connection's tasks: keep it cheap.
pub trait Instrument: Send + Sync + 'static {
    /// Records one message.
    fn record(&self, record: &MessageRecord<'_>);
}

/// The hook that records nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoInstrument;

impl Instrument for NoInstrument {
    fn record(&self, _: &MessageRecord<'_>) {}
}
