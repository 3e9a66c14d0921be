//! JSON-RPC 2.0: message types, framing (newline-delimited and `Content-Length`), and
//! a connection that correlates responses, dispatches incoming requests and
//! notifications, times requests out, limits message size, and reports every message
//! to an instrumentation hook.
//!
//! One layer serves both the agents (over their stdio) and, later, the control socket.
//! It knows nothing about ACP or agents.

mod connection;
mod error;
mod framing;
mod instrument;
mod msg;
mod pending;

pub use connection::{Connection, ConnectionOptions, Handler, HandlerFuture};
pub use error::RpcError;
pub use framing::{DEFAULT_MAX_MESSAGE, Framing};
pub use instrument::{Direction, Instrument, MessageRecord, NoInstrument, Outcome};
pub use msg::{ErrorObject, Message, Notification, ParseError, Request, RequestId, Response};

#[cfg(test)]
mod tests;
