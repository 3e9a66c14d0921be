-- RPC metrics per minute, agent and method: messages both ways, completed requests,
-- errors, timeouts, and a log2 histogram of request latency in microseconds.
CREATE TABLE rpc_metrics (
    minute_ms  INTEGER NOT NULL,
    agent      TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    messages   INTEGER NOT NULL,
    requests   INTEGER NOT NULL,
    errors     INTEGER NOT NULL,
    timeouts   INTEGER NOT NULL,
    histogram  TEXT    NOT NULL,   -- JSON array: count per bucket, bucket i < 2^i µs
    PRIMARY KEY (minute_ms, agent, method)
);
