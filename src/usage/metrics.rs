//! RPC metrics: an instrumentation hook that aggregates every message per minute,
//! agent and method (a log2 latency histogram), flushed to the store by the engine.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::rpc::{Direction, Instrument, MessageRecord, Outcome};

/// Histogram buckets: bucket `i` counts latencies below 2^i microseconds.
pub const BUCKETS: usize = 40;

/// Aggregates for one (minute, agent, method).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodStats {
    /// Messages both ways.
    pub messages: u64,
    /// Requests answered or timed out.
    pub requests: u64,
    /// Error responses.
    pub errors: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Latency histogram.
    pub histogram: Vec<u64>,
}

impl Default for MethodStats {
    fn default() -> Self {
        Self {
            messages: 0,
            requests: 0,
            errors: 0,
            timeouts: 0,
            histogram: vec![0; BUCKETS],
        }
    }
}

impl MethodStats {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Self) {
        self.messages += other.messages;
        self.requests += other.requests;
        self.errors += other.errors;
        self.timeouts += other.timeouts;
        self.histogram.resize(BUCKETS, 0);
        for (a, b) in self.histogram.iter_mut().zip(&other.histogram) {
            *a += b;
        }
    }

    /// The `p`th percentile latency in microseconds (a bucket's upper bound), when
    /// any request completed.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        let total: u64 = self.histogram.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in self.histogram.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(1u64 << i);
            }
        }
        None
    }
}

/// The key of one aggregate.
pub type MetricKey = (i64, String, String);

/// The hook: cheap to call from connection tasks (one short lock per message).
#[derive(Debug, Default)]
pub struct MetricsRecorder {
    /// Locked per message, never across an `.await`.
    pending: Mutex<HashMap<MetricKey, MethodStats>>,
}

impl MetricsRecorder {
    /// Takes what was recorded since the last call.
    pub fn take(&self) -> HashMap<MetricKey, MethodStats> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl Instrument for MetricsRecorder {
    fn record(&self, record: &MessageRecord<'_>) {
        let minute = crate::store::now_ms() / 60_000 * 60_000;
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = pending
            .entry((minute, record.peer.to_owned(), record.method.to_owned()))
            .or_default();
        if record.size > 0 {
            stats.messages += 1;
        }
        // A request completes with the incoming response, its timeout, or the end of
        // the connection (a crash).
        let completed = matches!(
            (record.direction, record.outcome),
            (Direction::Incoming, Outcome::Ok | Outcome::Error(_))
                | (_, Outcome::Timeout | Outcome::Lost)
        );
        if completed && let Some(latency) = record.latency {
            stats.requests += 1;
            match record.outcome {
                Outcome::Error(_) | Outcome::Lost => stats.errors += 1,
                Outcome::Timeout => stats.timeouts += 1,
                _ => {}
            }
            let us = u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            let bucket = (64 - us.leading_zeros()) as usize;
            stats.histogram[bucket.min(BUCKETS - 1)] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_from_the_histogram() {
        let mut stats = MethodStats::default();
        stats.histogram[7] = 90; // < 128 µs
        stats.histogram[10] = 10; // < 1024 µs
        assert_eq!(stats.percentile_us(50.0), Some(128));
        assert_eq!(stats.percentile_us(95.0), Some(1024));
        assert_eq!(MethodStats::default().percentile_us(50.0), None);
    }
}
