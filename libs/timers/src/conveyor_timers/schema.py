"""The timers table a service creates in a migration (``execute_script(TIMERS_DDL_V1)``)."""

# Woken on every schedule: the payload is the new timer's due time (ISO 8601).
TIMERS_CHANNEL = "conveyor_timers"

# Fired and failed rows stay (state) so that a key is never scheduled twice; only pending rows are
# in the due index, so a table with many fired rows or 100,000 far-off timers costs the worker one
# index probe per wake-up.
TIMERS_DDL_V1 = """
CREATE TABLE IF NOT EXISTS timers (
    timer_key    text PRIMARY KEY,
    tenant_id    text NOT NULL,
    kind         text NOT NULL,
    group_key    text,
    due_at       timestamptz NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'failed', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    fired_at     timestamptz
);
CREATE INDEX IF NOT EXISTS timers_pending_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS timers_pending_group ON timers (tenant_id, group_key) WHERE state = 'pending';
"""
