-- The hourly rollup keeps each count source apart (gateway, agent, log_import), so
-- totals by source — the Prometheus page, `tokens summary --by source` — are read
-- from it instead of from every event.
CREATE TABLE usage_hourly_by_source (
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
    count_source  TEXT    NOT NULL,
    PRIMARY KEY (hour_ms, agent, preset, model, count_source)
);
INSERT INTO usage_hourly_by_source
SELECT at_ms - at_ms % 3600000, agent, coalesce(preset, ''), coalesce(model, ''), count(*), sum(input), sum(output),
       sum(cache_read), sum(cache_write), sum(reasoning), coalesce(sum(cost_usd), 0), sum(cost_usd IS NULL), count_source
FROM usage_events GROUP BY 1, 2, 3, 4, count_source;
DROP TABLE usage_hourly;
ALTER TABLE usage_hourly_by_source RENAME TO usage_hourly;
