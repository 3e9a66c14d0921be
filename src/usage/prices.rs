//! Prices: the bundled table (with its version), overrides, and the cost of a run's
//! tokens. A model with no price is *unpriced* (`None`), never $0.

use serde::Deserialize;

use crate::agents::event::TokenCounts;
use crate::presets::PriceOverrides;

const BUNDLED: &str = include_str!("prices.toml");

/// Prices of one tier, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    /// Input tokens not served from cache.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Cache reads (input price when unset).
    pub cache_read: Option<f64>,
    /// Cache writes (input price when unset).
    pub cache_write: Option<f64>,
}

/// A long-context tier: above `threshold` prompt tokens, other rates.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongContext {
    /// Prompt tokens (input + cache) above which the tier applies.
    pub threshold: u64,
    /// The tier's rates.
    #[serde(flatten)]
    pub rates: Rates,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// A model name, or a prefix ending in `*`.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The base rates.
    #[serde(flatten)]
    pub rates: Rates,
    /// The long-context tier, if any.
    pub long_context: Option<LongContext>,
}

/// The price table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// The table's version (its date).
    pub version: String,
    /// The rows.
    #[serde(rename = "model")]
    pub models: Vec<ModelPrice>,
}

/// A cost and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced {
    /// USD, or `None` when unpriced.
    pub cost_usd: Option<f64>,
    /// `agent` (reported), `table` (computed here), or `unpriced`.
    pub source: &'static str,
}

impl PriceTable {
    /// The table compiled into aiswitch.
    pub fn bundled() -> Self {
        toml::from_str(BUNDLED).unwrap_or(Self {
            version: "none".into(),
            models: Vec::new(),
        })
    }

    /// Applies per-model overrides (from `config.toml`): a model the table prices
    /// gets the given fields replaced; a model it does not price gets a row when both
    /// input and output are given. Overrides are exact names, so they win.
    pub fn with_overrides(
        mut self,
        overrides: &std::collections::BTreeMap<String, PriceOverrides>,
    ) -> Self {
        for (model, o) in overrides {
            let base = self.lookup(model).map(|m| m.rates);
            let rates = match (base, o.input, o.output) {
                (Some(r), input, output) => Rates {
                    input: input.unwrap_or(r.input),
                    output: output.unwrap_or(r.output),
                    cache_read: o.cache_read.or(r.cache_read),
                    cache_write: o.cache_write.or(r.cache_write),
                },
                (None, Some(input), Some(output)) => Rates {
                    input,
                    output,
                    cache_read: o.cache_read,
                    cache_write: o.cache_write,
                },
                (None, _, _) => continue,
            };
            self.models.retain(|m| m.pattern != *model);
            self.models.push(ModelPrice {
                pattern: model.clone(),
                rates,
                long_context: None,
            });
        }
        self
    }

    /// The row for `model`: an exact name beats a prefix, a longer prefix a shorter.
    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        self.models
            .iter()
            .filter(|m| match m.pattern.strip_suffix('*') {
                Some(prefix) => model.starts_with(prefix),
                None => model == m.pattern,
            })
            .max_by_key(|m| (!m.pattern.ends_with('*'), m.pattern.len()))
    }

    /// Prices a run: the agent's own figure wins; else the table (with the
    /// preset's overrides); else unpriced.
    pub fn price(
        &self,
        model: Option<&str>,
        tokens: &TokenCounts,
        reported: Option<f64>,
        overrides: &PriceOverrides,
    ) -> Priced {
        if let Some(cost) = reported {
            return Priced {
                cost_usd: Some(cost),
                source: "agent",
            };
        }
        let row = model.and_then(|m| self.lookup(m));
        let base = row.map(|r| r.rates);
        let rates = match (base, overrides.input, overrides.output) {
            (_, Some(input), Some(output)) => Some(Rates {
                input,
                output,
                cache_read: overrides.cache_read,
                cache_write: overrides.cache_write,
            }),
            (Some(rates), input, output) => Some(Rates {
                input: input.unwrap_or(rates.input),
                output: output.unwrap_or(rates.output),
                cache_read: overrides.cache_read.or(rates.cache_read),
                cache_write: overrides.cache_write.or(rates.cache_write),
            }),
            (None, _, _) => None,
        };
        let Some(mut rates) = rates else {
            return Priced {
                cost_usd: None,
                source: "unpriced",
            };
        };
        let prompt = tokens.input + tokens.cache_read + tokens.cache_write;
        if overrides.is_empty()
            && let Some(tier) = row
                .and_then(|r| r.long_context)
                .filter(|t| prompt > t.threshold)
        {
            rates = tier.rates;
        }
        Priced {
            cost_usd: Some(cost(tokens, &rates)),
            source: "table",
        }
    }
}

/// The cost of `tokens` at `rates`.
pub fn cost(tokens: &TokenCounts, rates: &Rates) -> f64 {
    let per = |n: u64, usd: f64| n as f64 * usd / 1_000_000.0;
    per(tokens.input, rates.input)
        + per(tokens.output, rates.output)
        + per(tokens.cache_read, rates.cache_read.unwrap_or(rates.input))
        + per(tokens.cache_write, rates.cache_write.unwrap_or(rates.input))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64) -> TokenCounts {
        TokenCounts {
            input,
            output,
            cache_read,
            cache_write,
            reasoning: 0,
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn the_bundled_table_parses_and_has_a_version() {
        let table = PriceTable::bundled();
        assert_eq!(table.version, "2026-11-01");
        assert!(table.models.len() >= 10);
    }

    #[test]
    fn cost_with_cache_tokens_matches_hand_computation() {
        let table = PriceTable::bundled();
        // 11 in × $3 + 7 out × $15 + 1,000 cache read × $0.30 + 500 cache write × $3.75, per million.
        let priced = table.price(
            Some("claude-sonnet-4-5"),
            &tokens(11, 7, 1_000, 500),
            None,
            &PriceOverrides::default(),
        );
        assert_eq!(priced.source, "table");
        assert!(
            close(priced.cost_usd, (33.0 + 105.0 + 300.0 + 1_875.0) / 1e6),
            "{priced:?}"
        );
    }

    #[test]
    fn the_long_context_tier_applies_above_its_threshold() {
        let table = PriceTable::bundled();
        // 150,000 in + 60,000 cache read = 210,000 prompt tokens > 200,000: $6 / $22.50 / $0.60.
        let priced = table.price(
            Some("claude-sonnet-4"),
            &tokens(150_000, 2_000, 60_000, 0),
            None,
            &PriceOverrides::default(),
        );
        assert!(
            close(
                priced.cost_usd,
                (150_000.0 * 6.0 + 2_000.0 * 22.5 + 60_000.0 * 0.6) / 1e6
            ),
            "{priced:?}"
        );
        let below = table.price(
            Some("claude-sonnet-4"),
            &tokens(150_000, 2_000, 0, 0),
            None,
            &PriceOverrides::default(),
        );
        assert!(
            close(below.cost_usd, (150_000.0 * 3.0 + 2_000.0 * 15.0) / 1e6),
            "{below:?}"
        );
    }

    #[test]
    fn unpriced_stays_unpriced_and_reported_wins() {
        let table = PriceTable::bundled();
        let unknown = table.price(
            Some("gpt-fake"),
            &tokens(11, 7, 0, 0),
            None,
            &PriceOverrides::default(),
        );
        assert_eq!(
            unknown,
            Priced {
                cost_usd: None,
                source: "unpriced"
            },
            "never $0"
        );
        let none = table.price(None, &tokens(11, 7, 0, 0), None, &PriceOverrides::default());
        assert_eq!(none.cost_usd, None);
        let reported = table.price(
            Some("gpt-fake"),
            &tokens(11, 7, 0, 0),
            Some(0.5),
            &PriceOverrides::default(),
        );
        assert_eq!(
            reported,
            Priced {
                cost_usd: Some(0.5),
                source: "agent"
            }
        );
    }

    #[test]
    fn overrides_price_an_unknown_model_and_beat_the_table() {
        let table = PriceTable::bundled();
        let overrides = PriceOverrides {
            input: Some(1.0),
            output: Some(2.0),
            ..PriceOverrides::default()
        };
        let custom = table.price(
            Some("my-model"),
            &tokens(1_000_000, 1_000_000, 0, 0),
            None,
            &overrides,
        );
        assert!(close(custom.cost_usd, 3.0));
        let cheaper = PriceOverrides {
            input: Some(1.0),
            ..PriceOverrides::default()
        };
        let mixed = table.price(
            Some("deepseek-chat"),
            &tokens(1_000_000, 1_000_000, 0, 0),
            None,
            &cheaper,
        );
        assert!(
            close(mixed.cost_usd, 1.0 + 1.1),
            "input overridden, output from the table"
        );
    }

    #[test]
    fn config_overrides_change_and_add_rows() {
        let mut overrides = std::collections::BTreeMap::new();
        overrides.insert(
            "deepseek-chat".to_owned(),
            PriceOverrides {
                output: Some(2.0),
                ..PriceOverrides::default()
            },
        );
        overrides.insert(
            "my-local".to_owned(),
            PriceOverrides {
                input: Some(0.0),
                output: Some(0.0),
                ..PriceOverrides::default()
            },
        );
        overrides.insert(
            "half-known".to_owned(),
            PriceOverrides {
                input: Some(1.0),
                ..PriceOverrides::default()
            },
        );
        let table = PriceTable::bundled().with_overrides(&overrides);
        let ds = table.lookup("deepseek-chat").expect("row");
        assert_eq!((ds.rates.input, ds.rates.output), (0.27, 2.0));
        let local = table.price(
            Some("my-local"),
            &tokens(1_000, 1_000, 0, 0),
            None,
            &PriceOverrides::default(),
        );
        assert_eq!(
            local,
            Priced {
                cost_usd: Some(0.0),
                source: "table"
            },
            "priced at zero on purpose, not unpriced"
        );
        assert!(
            table.lookup("half-known").is_none(),
            "an unknown model needs input and output"
        );
    }

    #[test]
    fn exact_names_beat_prefixes() {
        let table = PriceTable::bundled();
        assert_eq!(
            table.lookup("gpt-4.1-mini").map(|m| m.rates.input),
            Some(0.4)
        );
        assert_eq!(table.lookup("gpt-4.1").map(|m| m.rates.input), Some(2.0));
        assert!(table.lookup("gpt-4.1-nano").is_none());
    }
}
