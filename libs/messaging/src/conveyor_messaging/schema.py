"""The backbone's tables, applied by each service's first migration.

Why ``commit_xid``: positions come from a sequence in insert order, but transactions commit in
another order, so a reader that remembers "the last position I saw" can skip a row whose
transaction commits after a higher position was read. Each row therefore records a transaction
id, and readers only take rows whose ``commit_xid`` is below the oldest transaction still open
(``pg_snapshot_xmin(pg_current_snapshot())``; the relay may leave out transactions of other databases
of the cluster, ``eventstore.HORIZON_BEYOND_OTHER_DATABASES``): those rows are final, nothing can
appear among them later. ``commit_xid`` is ``greatest(own xid, the stream's previous commit_xid)`` so that an
aggregate's events sort in version order even when a transaction took its xid before reading
the stream (see docs/adr/001-event-backbone.md). Streams belong to a tenant: two tenants may use the
same stream id without meeting.
"""

BACKBONE_DDL_V1 = """
CREATE TABLE IF NOT EXISTS event_streams (
    tenant_id        text   NOT NULL,
    stream_id        text   NOT NULL,
    aggregate_type   text   NOT NULL,
    version          bigint NOT NULL CHECK (version > 0),
    last_commit_xid  xid8   NOT NULL,
    PRIMARY KEY (tenant_id, stream_id)
);

CREATE TABLE IF NOT EXISTS events (
    position     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commit_xid   xid8        NOT NULL,
    event_id     uuid        NOT NULL UNIQUE,
    stream_id    text        NOT NULL,
    version      bigint      NOT NULL,
    tenant_id    text        NOT NULL,
    type         text        NOT NULL,
    data         jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_in_commit_order ON events (commit_xid, position);
CREATE INDEX IF NOT EXISTS events_by_tenant_type ON events (tenant_id, type, position);

CREATE TABLE IF NOT EXISTS relay_checkpoints (
    relay       text PRIMARY KEY,
    commit_xid  xid8        NOT NULL,
    position    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS processed_events (
    consumer      text        NOT NULL,
    event_id      text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
"""
