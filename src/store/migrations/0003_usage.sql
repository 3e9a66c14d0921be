-- The usage ledger: one row per agent run (or imported log entry), with where the
-- counts and the cost came from.
CREATE TABLE usage_events (
    id            INTEGER PRIMARY KEY,
    at_ms         INTEGER NOT NULL,
    agent         TEXT    NOT NULL,
    preset        TEXT,
    provider      TEXT,
    model         TEXT,
    task_id       TEXT,
    input         INTEGER NOT NULL,
    output        INTEGER NOT NULL,
    cache_read    INTEGER NOT NULL,
    cache_write   INTEGER NOT NULL,
    reasoning     INTEGER NOT NULL,
    cost_usd      REAL,                 -- NULL: unpriced (never 0 by default)
    cost_source   TEXT    NOT NULL,     -- agent | table | unpriced
    count_source  TEXT    NOT NULL,     -- agent | log_import | gateway | estimate
    price_version TEXT
);
CREATE INDEX usage_at ON usage_events (at_ms);
CREATE INDEX usage_agent_at ON usage_events (agent, at_ms);
CREATE INDEX usage_preset_at ON usage_events (preset, at_ms);
CREATE INDEX usage_model_at ON usage_events (model, at_ms);

-- Hourly rollup, updated in the same transaction as every insert (per batch and
-- group, by `Store::insert_usage`, the one writer), so summaries over long periods
-- read hundreds of rows instead of millions; raw events are read only for the
-- partial hours at the edges of a period.
CREATE TABLE usage_hourly (
    hour_ms       INTEGER NOT NULL,
    agent         TEXT    NOT NULL,
    preset        TEXT    NOT NULL,     -- '' when none
    model         TEXT    NOT NULL,     -- '' when unknown
    runs          INTEGER NOT NULL,
    input         INTEGER NOT NULL,
    output        INTEGER NOT NULL,
    cache_read    INTEGER NOT NULL,
    cache_write   INTEGER NOT NULL,
    reasoning     INTEGER NOT NULL,
    cost_usd      REAL    NOT NULL,
    unpriced_runs INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, agent, preset, model)
);

