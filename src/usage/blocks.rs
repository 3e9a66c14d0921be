//! 5-hour usage blocks, the windows Claude's plans meter by (as ccusage reports them):
//! a block starts at the hour of its first call and lasts five hours; the first call
//! after it starts the next. Each block has its totals, its burn rate and, while it
//! runs, where that rate ends it.

use serde::Serialize;

const HOUR_MS: i64 = 3_600_000;
/// A block's length.
pub const BLOCK_MS: i64 = 5 * HOUR_MS;

/// One block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    /// Its start (the hour of its first call), ms since the epoch.
    pub start_ms: i64,
    /// Its end, five hours later.
    pub end_ms: i64,
    /// Calls in it.
    pub calls: u64,
    /// Tokens (input, output, cache reads and writes).
    pub tokens: u64,
    /// Cost of the priced calls, USD.
    pub cost_usd: f64,
    /// Calls with no price.
    pub unpriced_calls: u64,
    /// True while now is inside it.
    pub active: bool,
    /// Tokens per hour, from its start to its last call (to now while active).
    pub tokens_per_hour: f64,
    /// USD per hour, likewise.
    pub usd_per_hour: f64,
    /// While active: tokens at its end if the rate holds.
    pub projected_tokens: Option<u64>,
    /// While active: USD at its end if the rate holds.
    pub projected_usd: Option<f64>,
}

/// The blocks of `calls` (when, tokens, cost; oldest first) as of `now_ms`.
pub fn blocks(calls: &[(i64, u64, Option<f64>)], now_ms: i64) -> Vec<Block> {
    let mut out: Vec<(Block, i64)> = Vec::new();
    for &(at, tokens, cost) in calls {
        let open = out.last().is_some_and(|(b, _)| at < b.end_ms);
        if !open {
            let start = at - at.rem_euclid(HOUR_MS);
            let block = Block {
                start_ms: start,
                end_ms: start + BLOCK_MS,
                calls: 0,
                tokens: 0,
                cost_usd: 0.0,
                unpriced_calls: 0,
                active: false,
                tokens_per_hour: 0.0,
                usd_per_hour: 0.0,
                projected_tokens: None,
                projected_usd: None,
            };
            out.push((block, at));
        }
        if let Some((block, last)) = out.last_mut() {
            block.calls += 1;
            block.tokens += tokens;
            match cost {
                Some(c) => block.cost_usd += c,
                None => block.unpriced_calls += 1,
            }
            *last = at;
        }
    }
    out.into_iter()
        .map(|(mut block, last)| {
            block.active = block.start_ms <= now_ms && now_ms < block.end_ms;
            let until = if block.active { now_ms } else { last };
            // At least a minute, so one early call does not read as a huge rate.
            let hours = ((until - block.start_ms).max(60_000)) as f64 / HOUR_MS as f64;
            block.tokens_per_hour = block.tokens as f64 / hours;
            block.usd_per_hour = block.cost_usd / hours;
            if block.active {
                let left = (block.end_ms - now_ms) as f64 / HOUR_MS as f64;
                block.projected_tokens = Some(block.tokens + (block.tokens_per_hour * left) as u64);
                block.projected_usd = Some(block.cost_usd + block.usd_per_hour * left);
            }
            block
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_fall_into_five_hour_blocks_from_the_hour_of_the_first() {
        let h = HOUR_MS;
        let calls = [
            (10 * h + 20 * 60_000, 100, Some(0.10)), // 10:20 opens 10:00–15:00
            (12 * h, 300, None),
            (14 * h + 59 * 60_000, 200, Some(0.20)), // still in it
            (15 * h + 30 * 60_000, 50, Some(0.05)),  // opens 15:00–20:00
        ];
        let now = 16 * h + 30 * 60_000;
        let b = blocks(&calls, now);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].start_ms, b[0].end_ms), (10 * h, 15 * h));
        assert_eq!((b[0].calls, b[0].tokens, b[0].unpriced_calls), (3, 600, 1));
        assert!(!b[0].active && b[0].projected_tokens.is_none());
        assert_eq!(b[1].start_ms, 15 * h);
        assert!(b[1].active);
        // 50 tokens in 1.5 h: 33.3 per hour; 3.5 h left: 50 + 116 = 166.
        assert!((b[1].tokens_per_hour - 50.0 / 1.5).abs() < 1e-9);
        assert_eq!(b[1].projected_tokens, Some(166));
    }
}
