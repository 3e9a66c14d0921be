//! aiswitch: a local-first control centre for AI coding-agent CLIs and the API
//! providers behind them.
//!
//! This crate is the core library and holds every behaviour; the `aiswitch` CLI, the
//! daemon and the desktop app are thin front-ends over [`Engine`]. It has no GUI
//! dependencies.

pub mod agents;
pub mod alerts;
pub mod atomic_file;
pub mod budget;
pub mod calendar;
pub mod control;
pub mod coordinator;
pub mod daemon;
pub mod dashboard;
pub mod engine;
pub mod env;
mod error;
pub mod escape;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod gateway;
pub mod otlp;
pub mod paths;
pub mod presets;
pub mod prometheus;
pub mod random;
pub mod redact;
pub mod rpc;
pub mod settings;
pub mod shell;
pub mod store;
pub mod supervisor;
pub mod usage;

pub use engine::{AgentRuntime, AgentStatusView, Engine, ImportOutcome, Selection};
pub use error::{EXIT_FAILURE, EXIT_USAGE, Error};

/// The aiswitch version, as the CLI and the app report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
