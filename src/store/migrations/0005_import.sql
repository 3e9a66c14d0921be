-- Usage imported from the agents' own logs: a key per entry (Claude: message id +
-- request id; Codex: file + line) so nothing counts twice, and how far each log
-- file was read, so the next import starts there.
ALTER TABLE usage_events ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX usage_source_key ON usage_events (source_key) WHERE source_key IS NOT NULL;

CREATE TABLE import_offsets (
    path    TEXT    PRIMARY KEY,
    offset  INTEGER NOT NULL,
    size    INTEGER NOT NULL
);
