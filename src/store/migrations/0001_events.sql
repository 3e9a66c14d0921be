-- Every change a command makes: what, when, which preset. Never a secret:
-- `detail` holds field and variable names, not values.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    preset  TEXT,
    detail  TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at_ms);
CREATE INDEX events_preset ON events (preset, at_ms);
