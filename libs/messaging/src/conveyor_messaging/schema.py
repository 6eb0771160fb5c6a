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

# The lanes (lanes.py, ADR 004): each stream remembers its newest bulk event, which an interactive event
# appended after it names; a consumer parks an interactive event whose bulk event it has not applied yet.
# Parked events are kept as Kafka gave them (value and headers), and released in the order they came.
BACKBONE_DDL_V2 = """
ALTER TABLE event_streams ADD COLUMN IF NOT EXISTS last_bulk_event uuid;
ALTER TABLE event_streams ADD COLUMN IF NOT EXISTS last_bulk_at timestamptz;

CREATE TABLE IF NOT EXISTS parked_events (
    consumer    text        NOT NULL,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id   text        NOT NULL,
    stream_id   text        NOT NULL,
    waits_for   text,
    key         bytea,
    value       bytea       NOT NULL,
    headers     jsonb       NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, seq)
);
CREATE INDEX IF NOT EXISTS parked_events_by_stream ON parked_events (consumer, tenant_id, stream_id);
CREATE INDEX IF NOT EXISTS parked_events_waiting ON parked_events (consumer, waits_for);
"""

# Everything above, for a database made in one go (tests, benchmarks); services migrate revision by revision.
BACKBONE_DDL = BACKBONE_DDL_V1 + BACKBONE_DDL_V2
