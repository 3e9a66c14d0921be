//! Usage: what every run cost, in a ledger in the store, priced from a bundled table
//! with overrides, and summarised by agent, preset, model or day.

mod prices;

pub use prices::{LongContext, ModelPrice, PriceTable, Priced, Rates, cost};
