-- Budgets, the alerts they fire (once per threshold per period, across restarts),
-- reservations held by runs in flight under a hard stop, and alerts in general.
CREATE TABLE budgets (
    id           INTEGER PRIMARY KEY,
    scope        TEXT    NOT NULL,       -- global | agent:NAME | preset:NAME
    period       TEXT    NOT NULL,       -- day | week | month
    limit_usd    REAL,
    limit_tokens INTEGER,
    thresholds   TEXT    NOT NULL,       -- JSON array of percents, increasing
    hard_stop    INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
);

CREATE TABLE budget_fired (
    budget_id    INTEGER NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
    period_start INTEGER NOT NULL,
    threshold    INTEGER NOT NULL,
    PRIMARY KEY (budget_id, period_start, threshold)
);

CREATE TABLE reservations (
    id          INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,        -- a dead holder's reservations are dropped
    task_id     TEXT,
    agent       TEXT    NOT NULL,
    preset      TEXT,
    usd         REAL    NOT NULL,
    tokens      INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE alerts (
    id        INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    kind      TEXT    NOT NULL,          -- budget_threshold | agent_crashed | task_failed | ...
    subject   TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    dedup_key TEXT    NOT NULL UNIQUE,
    acked     INTEGER NOT NULL DEFAULT 0
);
