-- Who a ledger row belongs to, exactly: `agent` is the agent's id (the manifest's, so
-- `--agents claude,claude` counts under `claude`), `instance` the label of one copy in
-- a task (`claude-2`), and `session_id` the CLI's own session (Claude's session id,
-- Codex's thread id, the ACP session), which its own logs carry too: a call that
-- aiswitch recorded is skipped when the logs are imported.
ALTER TABLE usage_events ADD COLUMN instance TEXT;
ALTER TABLE usage_events ADD COLUMN session_id TEXT;
CREATE INDEX usage_session ON usage_events (session_id) WHERE session_id IS NOT NULL;

-- A USD budget with a hard stop can also refuse runs it cannot price.
ALTER TABLE budgets ADD COLUMN refuse_unpriced INTEGER NOT NULL DEFAULT 0;
