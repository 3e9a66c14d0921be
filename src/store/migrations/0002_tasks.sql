-- Coordinated tasks, each agent's run, and each run's full event transcript.
CREATE TABLE tasks (
    id            TEXT    PRIMARY KEY,
    prompt        TEXT    NOT NULL,
    agents        TEXT    NOT NULL,   -- comma-separated instance names
    order_mode    TEXT    NOT NULL,
    chain         INTEGER NOT NULL,
    coordination  TEXT    NOT NULL,
    workdir       TEXT    NOT NULL,
    status        TEXT    NOT NULL,   -- running | succeeded | failed | interrupted
    pid           INTEGER NOT NULL,   -- the process running it, to detect a dead one
    started_ms    INTEGER NOT NULL,
    ended_ms      INTEGER,
    result        TEXT                -- the aggregated result (JSON) once finished
);
CREATE INDEX tasks_started ON tasks (started_ms);

CREATE TABLE runs (
    task_id       TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent         TEXT    NOT NULL,
    preset        TEXT,
    status        TEXT    NOT NULL,
    stop_reason   TEXT,
    duration_ms   INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read    INTEGER NOT NULL,
    cache_write   INTEGER NOT NULL,
    cost_usd      REAL,
    PRIMARY KEY (task_id, agent)
);

CREATE TABLE run_events (
    id       INTEGER PRIMARY KEY,
    task_id  TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent    TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    event    TEXT    NOT NULL           -- one run event (JSON)
);
CREATE INDEX run_events_run ON run_events (task_id, agent, seq);
