-- The working directory a usage event belongs to (an imported log's `cwd`, a task's
-- working directory), for `--project`. Unindexed: a project filter reads raw events.
ALTER TABLE usage_events ADD COLUMN project TEXT;
-- The launch a gateway-metered request belonged to (the short id of its token), so an
-- `agents check` reads back exactly its own requests.
ALTER TABLE usage_events ADD COLUMN launch TEXT;
CREATE INDEX usage_launch ON usage_events (launch) WHERE launch IS NOT NULL;
-- The sessions aiswitch recorded itself, which an import skips: found without
-- reading every imported row. It replaces the index of every session (no query
-- looks a session up among imported rows), which cost each imported row.
CREATE INDEX usage_session_ours ON usage_events (session_id)
    WHERE session_id IS NOT NULL AND count_source != 'log_import';
DROP INDEX usage_session;
-- Summaries read whole hours from the rollup and only the partial hours at a period's
-- edges from raw events, which the time index finds. These two cost every insert (a
-- first import is mostly index upkeep) and served no query the time index doesn't.
DROP INDEX usage_preset_at;
DROP INDEX usage_model_at;
