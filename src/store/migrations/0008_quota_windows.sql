-- Quota windows the provider gateway read from rate-limit headers: the latest state
-- of each window per provider account (the preset), replaced by every response.
CREATE TABLE quota_windows (
    preset TEXT NOT NULL,
    provider TEXT NOT NULL,
    window TEXT NOT NULL,
    used_percent REAL NOT NULL,
    resets_at_ms INTEGER,
    window_minutes INTEGER,
    status TEXT,
    seen_at_ms INTEGER NOT NULL,
    PRIMARY KEY (preset, window)
);
