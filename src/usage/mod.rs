//! Usage: what every run cost, in a ledger in the store, priced from a bundled table
//! with overrides, and summarised by agent, preset, model or day.

pub mod blocks;
mod import;
mod metrics;
mod prices;
mod time;

pub use import::{
    Line, LogEntry, LogSource, OpenCodeMessage, codex_session_from_path, opencode_message,
    parse_line,
};
pub use metrics::{BUCKETS, MethodStats, MetricKey, MetricsRecorder};
pub use prices::{LongContext, ModelPrice, PriceTable, Priced, Rates, cost};
pub use time::{TimeError, Timeframe, timeframe_start};
