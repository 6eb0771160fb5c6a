"""Event store on PostgreSQL: append to a stream with an expected version, read a stream, read all.

The store works on a connection the caller owns, so that a handler's state writes, the events it
records and its "processed" mark commit in one transaction (the unit of work). The events table is
also the transactional outbox: the relay publishes what this module appended once it commits.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import structlog

from conveyor_messaging import consistency
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.lanes import BULK, INTERACTIVE, current_lane

NO_STREAM = 0
"""Expected version of a stream that must not exist yet."""
ANY_VERSION = -1
"""Append whatever the stream's version is (for streams with a single writer, e.g. logs)."""

OUTBOX_CHANNEL = "conveyor_outbox"


class ConcurrencyConflict(Exception):
    """Somebody else appended to the stream first; reload and decide again (HTTP 412 at the edge: the
    caller's If-Match is stale)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: its wire type and JSON-able data."""

    type: str
    data: dict[str, Any]
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime | None = None

    @classmethod
    def of(cls, contract: EventContract, *, occurred_at: datetime | None = None) -> NewEvent:
        return cls(contract.type_name, contract.model_dump(mode="json"), occurred_at=occurred_at)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A point in the store's commit order: everything up to and including it has been read."""

    commit_xid: int = 0
    position: int = 0


START = Checkpoint()


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored; ``data_json`` is kept raw so the relay can forward it untouched."""

    position: int
    commit_xid: int
    event_id: uuid.UUID
    stream_id: str
    version: int
    tenant_id: str
    type: str
    data_json: bytes
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime

    @property
    def data(self) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.data_json)
        return result

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.commit_xid, self.position)

    def to_envelope(self, *, with_data: bool = True) -> Envelope:
        """The CloudEvent; ``with_data=False`` skips decoding when only the context is needed."""
        meta = self.metadata
        return Envelope(
            id=str(self.event_id),
            type=self.type,
            source=meta.get("source", "/conveyor"),
            subject=self.stream_id,
            tenant_id=self.tenant_id,
            data=self.data if with_data else {},
            actor=Actor.parse(meta.get("actor", "system:unknown")),
            aggregate_version=self.version,
            time=self.occurred_at,
            correlation_id=meta.get("correlation_id"),
            causation_id=meta.get("causation_id"),
            lane=meta.get("lane", INTERACTIVE),
            after_bulk=meta.get("after_bulk"),
        )


# The horizon of the statement's snapshot: events that commit below it are final (see schema.py).
HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())"

# Transaction ids are cluster-wide, so the plain horizon is held back by a long transaction in any
# database of the cluster: another service's migration, index build or bulk import would stop this
# service's relay for its whole length. This one leaves out the snapshot's in-progress ids that are
# seen, right after it was taken, as the transaction of a backend of another database: a backend
# belongs to one database, so they cannot commit events here. An id not seen that way (it ended
# meanwhile, it is in this database, or the role may not read other backends' transaction ids, see
# docs/adr/001) still counts, as in the plain horizon. Reading every backend's activity costs
# PostgreSQL more than the read itself, so the relay asks for it only when it has waited a while.
HORIZON_BEYOND_OTHER_DATABASES = (
    "SELECT coalesce((SELECT min(x) FROM pg_snapshot_xip(h.snap) AS x"
    "   WHERE (x::text::bigint % 4294967296) NOT IN ("
    "     SELECT a.backend_xid::text::bigint FROM pg_stat_get_activity(NULL) AS a"
    "     WHERE a.backend_xid IS NOT NULL"
    "       AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),"
    "   pg_snapshot_xmax(h.snap))"
    " FROM (SELECT pg_current_snapshot() AS snap) AS h"
)


def _horizon(beyond_other_databases: bool) -> str:
    return HORIZON_BEYOND_OTHER_DATABASES if beyond_other_databases else HORIZON


_COLUMNS = (
    "position, commit_xid::text::bigint, event_id, stream_id, version, tenant_id, type,"
    " data::text, metadata::text, occurred_at, recorded_at"
)

# Each append is one statement: claim the next versions in event_streams (the optimistic check),
# insert the events, and send the relay a wake-up that PostgreSQL delivers only on commit.
# $11 is the id of the append's last event when it goes by the bulk lane (NULL otherwise): the stream
# remembers it as its newest bulk event, and an interactive append names the one it finds (lanes.py),
# unless it is older than seven days: by then every consumer has long applied it, and its
# processed mark may be gone (CONVEYOR_PROCESSED_MARKS_RETENTION_HOURS must be longer).
_CLAIM_NEW = """
    INSERT INTO event_streams (stream_id, tenant_id, aggregate_type, version, last_commit_xid, last_bulk_event,
                               last_bulk_at)
    VALUES ($1, $2, $3, $4::bigint + $5::bigint, pg_current_xact_id(), $11::uuid,
            CASE WHEN $11::uuid IS NOT NULL THEN now() END)
    ON CONFLICT (tenant_id, stream_id) DO NOTHING
    RETURNING $4::bigint AS base, last_commit_xid, last_bulk_event, last_bulk_at"""
_CLAIM_EXPECTED = """
    UPDATE event_streams
       SET version = version + $5, last_commit_xid = greatest(pg_current_xact_id(), last_commit_xid),
           last_bulk_event = coalesce($11::uuid, last_bulk_event),
           last_bulk_at = CASE WHEN $11::uuid IS NOT NULL THEN now() ELSE last_bulk_at END
     WHERE tenant_id = $2 AND stream_id = $1 AND aggregate_type = $3 AND version = $4
    RETURNING version - $5 AS base, last_commit_xid, last_bulk_event, last_bulk_at"""
_CLAIM_ANY = """
    INSERT INTO event_streams AS s (stream_id, tenant_id, aggregate_type, version, last_commit_xid, last_bulk_event,
                                    last_bulk_at)
    VALUES ($1, $2, $3, $5, pg_current_xact_id(), $11::uuid, CASE WHEN $11::uuid IS NOT NULL THEN now() END)
    ON CONFLICT (tenant_id, stream_id) DO UPDATE
       SET version = s.version + $5, last_commit_xid = greatest(pg_current_xact_id(), s.last_commit_xid),
           last_bulk_event = coalesce($11::uuid, s.last_bulk_event),
           last_bulk_at = CASE WHEN $11::uuid IS NOT NULL THEN now() ELSE s.last_bulk_at END
     -- $4 is always -1 here; it is named so that the three claims share one parameter list.
     WHERE s.aggregate_type = $3 AND $4::bigint = -1
    RETURNING version - $5 AS base, last_commit_xid, last_bulk_event, last_bulk_at"""
_WRITE = """
    , written AS (
        INSERT INTO events (commit_xid, event_id, stream_id, version, tenant_id, type, data, metadata, occurred_at)
        SELECT head.last_commit_xid, e.event_id, $1, head.base + e.ord, $2, e.type, e.data::jsonb,
               CASE WHEN $11::uuid IS NULL AND head.last_bulk_at > now() - interval '7 days'
                    THEN $9::text::jsonb || jsonb_build_object('after_bulk', head.last_bulk_event::text)
                    ELSE $9::text::jsonb END,
               e.occurred_at
          FROM head, unnest($6::uuid[], $7::text[], $8::text[], $10::timestamptz[])
               WITH ORDINALITY AS e(event_id, type, data, occurred_at, ord)
        RETURNING position, commit_xid, version, recorded_at
    )
    SELECT position, commit_xid::text::bigint AS commit_xid, version, recorded_at{notify}
      FROM written ORDER BY version"""

# Bulk creation: one head row and one first event per stream, joined on the stream; a stream that
# exists already yields no row, and the caller turns the shortfall into a conflict. Each row has its
# own tenant and metadata, so that a consumer's batch can start the streams of many causes at once.
_NEW_STREAMS = """
    WITH wanted AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                             $8::timestamptz[], $9::bool[])
               AS w(tenant_id, stream_id, aggregate_type, event_id, type, data, metadata, occurred_at, bulk)
    ), heads AS (
        INSERT INTO event_streams (tenant_id, stream_id, aggregate_type, version, last_commit_xid, last_bulk_event,
                                   last_bulk_at)
        SELECT tenant_id, stream_id, aggregate_type, 1, pg_current_xact_id(), CASE WHEN bulk THEN event_id END,
               CASE WHEN bulk THEN now() END
          FROM wanted
        ON CONFLICT (tenant_id, stream_id) DO NOTHING
        RETURNING tenant_id, stream_id, last_commit_xid
    ), written AS (
        INSERT INTO events (commit_xid, event_id, stream_id, version, tenant_id, type, data, metadata, occurred_at)
        SELECT h.last_commit_xid, w.event_id, w.stream_id, 1, w.tenant_id, w.type, w.data::jsonb,
               w.metadata::jsonb, w.occurred_at
          FROM wanted w JOIN heads h USING (tenant_id, stream_id)
        RETURNING tenant_id, stream_id, position, commit_xid, recorded_at
    )
    SELECT tenant_id, stream_id, position, commit_xid::text::bigint AS commit_xid, recorded_at{notify}
      FROM written"""


@dataclass(frozen=True, slots=True)
class FirstEvent:
    """The first event of a new stream, with the tenant, actor and cause of its own (``append_first_events``)."""

    tenant_id: str
    stream_id: str
    aggregate_type: str
    event: NewEvent
    actor: Actor
    correlation_id: str | None = None
    causation_id: str | None = None
    lane: str | None = None  # None: the lane bound to the context (lanes.current_lane)


class EventStore:
    """Appends and reads event streams in one service's database."""

    def __init__(self, *, source: str, notify: bool = True) -> None:
        self.source = source
        self._notify_sql = notify_sql = f", pg_notify('{OUTBOX_CHANNEL}', '')" if notify else ""
        write = _WRITE.format(notify=notify_sql)
        self._sql = {
            "new": f"WITH head AS ({_CLAIM_NEW}){write}",
            "expected": f"WITH head AS ({_CLAIM_EXPECTED}){write}",
            "any": f"WITH head AS ({_CLAIM_ANY}){write}",
        }

    async def append(
        self,
        conn: Connection,
        *,
        stream_id: str,
        tenant_id: str,
        aggregate_type: str,
        expected_version: int,
        events: Sequence[NewEvent],
        actor: Actor,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        now: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` after ``expected_version``; raise ConcurrencyConflict if it moved on."""
        if not events:
            return []
        if expected_version < ANY_VERSION:
            raise ValueError(f"invalid expected version {expected_version}")
        mode = "any" if expected_version == ANY_VERSION else "new" if expected_version == NO_STREAM else "expected"
        occurred = now or datetime.now(UTC)
        metadata = self._metadata(actor, aggregate_type, correlation_id, causation_id)
        bulk = metadata.get("lane") == BULK
        meta_json = orjson.dumps(metadata).decode()
        data_texts = [orjson.dumps(e.data).decode() for e in events]
        rows = await conn.fetch(
            self._sql[mode],
            stream_id,
            tenant_id,
            aggregate_type,
            expected_version,
            len(events),
            [e.event_id for e in events],
            [e.type for e in events],
            data_texts,
            meta_json,
            [e.occurred_at or occurred for e in events],
            events[-1].event_id if bulk else None,
        )
        if not rows:
            actual = await conn.fetchval(
                "SELECT version FROM event_streams WHERE stream_id = $1 AND tenant_id = $2", stream_id, tenant_id
            )
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        recorded = [
            RecordedEvent(
                position=row["position"],
                commit_xid=row["commit_xid"],
                event_id=event.event_id,
                stream_id=stream_id,
                version=row["version"],
                tenant_id=tenant_id,
                type=event.type,
                data_json=text.encode(),
                metadata=metadata,
                occurred_at=event.occurred_at or occurred,
                recorded_at=row["recorded_at"],
            )
            for row, event, text in zip(rows, events, data_texts, strict=True)
        ]
        consistency.note(recorded)  # a request's consistency token names what it wrote
        return recorded

    async def append_new_streams(
        self,
        conn: Connection,
        *,
        tenant_id: str,
        aggregate_type: str,
        streams: Sequence[tuple[str, NewEvent]],
        actor: Actor,
        now: datetime | None = None,
    ) -> list[RecordedEvent]:
        """Start many streams of one tenant with their first event in one statement (bulk creation,
        e.g. imports). Every stream must be new: if any exists already, nothing is written and
        ConcurrencyConflict names the first of them."""
        return await self.append_first_events(
            conn,
            [FirstEvent(tenant_id, stream_id, aggregate_type, event, actor) for stream_id, event in streams],
            now=now,
        )

    async def append_first_events(
        self, conn: Connection, firsts: Sequence[FirstEvent], *, now: datetime | None = None
    ) -> list[RecordedEvent]:
        """Start many streams, of any tenants and causes, with their first event in one statement.

        What a batch reaction uses to record the events of a whole fetch (an item placed for each item
        created). Every stream must be new, as ``append_new_streams`` says.
        """
        if not firsts:
            return []
        occurred = now or datetime.now(UTC)
        # A batch's events mostly share their cause (an import's chunk: all of them), so each distinct
        # metadata is built and encoded once.
        # Each first event's own lane counts (a batch reaction's events follow their causes' lanes).
        causes: dict[tuple[Actor, str, str | None, str | None, str | None], tuple[dict[str, Any], str]] = {}
        for f in firsts:
            cause = (f.actor, f.aggregate_type, f.correlation_id, f.causation_id, f.lane)
            if cause not in causes:
                meta = self._metadata(*cause)
                causes[cause] = (meta, orjson.dumps(meta).decode())
        of_each = [causes[(f.actor, f.aggregate_type, f.correlation_id, f.causation_id, f.lane)] for f in firsts]
        metadata = [meta for meta, _ in of_each]
        meta_texts = [text for _, text in of_each]
        data_texts = [orjson.dumps(f.event.data).decode() for f in firsts]
        # A savepoint (or a transaction of its own) so that a refused batch leaves nothing behind.
        async with conn.transaction():
            rows = await conn.fetch(
                _NEW_STREAMS.format(notify=self._notify_sql),
                [f.tenant_id for f in firsts],
                [f.stream_id for f in firsts],
                [f.aggregate_type for f in firsts],
                [f.event.event_id for f in firsts],
                [f.event.type for f in firsts],
                data_texts,
                meta_texts,
                [f.event.occurred_at or occurred for f in firsts],
                [m.get("lane") == BULK for m in metadata],
            )
            if len(rows) != len(firsts):
                written = {(row["tenant_id"], row["stream_id"]) for row in rows}
                taken = next(f.stream_id for f in firsts if (f.tenant_id, f.stream_id) not in written)
                raise ConcurrencyConflict(taken, NO_STREAM, 1)
        by_stream = {(row["tenant_id"], row["stream_id"]): row for row in rows}
        recorded = [
            RecordedEvent(
                position=row["position"],
                commit_xid=row["commit_xid"],
                event_id=f.event.event_id,
                stream_id=f.stream_id,
                version=1,
                tenant_id=f.tenant_id,
                type=f.event.type,
                data_json=text.encode(),
                metadata=meta,
                occurred_at=f.event.occurred_at or occurred,
                recorded_at=row["recorded_at"],
            )
            for f, text, meta in zip(firsts, data_texts, metadata, strict=True)
            for row in (by_stream[(f.tenant_id, f.stream_id)],)
        ]
        consistency.note(recorded)
        return recorded

    def _metadata(
        self,
        actor: Actor,
        aggregate_type: str,
        correlation_id: str | None,
        causation_id: str | None,
        lane: str | None = None,
    ) -> dict[str, Any]:
        # Ids bound by the HTTP middleware or the consumer carry the chain along: request or
        # event → the events it causes → what consumers do with them.
        context = structlog.contextvars.get_contextvars()
        correlation_id = correlation_id or context.get("correlation_id")
        causation_id = causation_id or context.get("causation_id") or context.get("request_id")
        metadata: dict[str, Any] = {"source": self.source, "actor": str(actor), "aggregate_type": aggregate_type}
        if correlation_id:
            metadata["correlation_id"] = correlation_id
        if causation_id:
            metadata["causation_id"] = causation_id
        if (lane or current_lane()) == BULK:
            metadata["lane"] = BULK
        return metadata

    async def read_stream(
        self,
        conn: Connection,
        stream_id: str,
        *,
        tenant_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> list[RecordedEvent]:
        """The stream's events in version order; empty for another tenant's stream."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND tenant_id = $2"
            " AND version >= $3 AND ($4::bigint IS NULL OR version <= $4) ORDER BY version",
            stream_id,
            tenant_id,
            from_version,
            to_version,
        )
        return [_recorded(row) for row in rows]

    async def stream_version(self, conn: Connection, stream_id: str, *, tenant_id: str) -> int:
        version = await conn.fetchval(
            "SELECT version FROM event_streams WHERE stream_id = $1 AND tenant_id = $2", stream_id, tenant_id
        )
        return int(version or 0)

    async def read_all(
        self, conn: Connection, *, after: Checkpoint = START, limit: int = 500, beyond_other_databases: bool = False
    ) -> list[RecordedEvent]:
        """Events after ``after`` in commit order, only those no open transaction can precede (with
        ``beyond_other_databases``, open transactions of other databases are known not to)."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events"
            " WHERE (commit_xid, position) > ($1::text::xid8, $2::bigint)"
            f"   AND commit_xid < ({_horizon(beyond_other_databases)})"
            " ORDER BY commit_xid, position LIMIT $3",
            str(after.commit_xid),
            after.position,
            limit,
        )
        return [_recorded(row) for row in rows]

    async def read_next(
        self, conn: Connection, *, after: Checkpoint = START, limit: int = 500, beyond_other_databases: bool = False
    ) -> tuple[list[RecordedEvent], bool]:
        """``read_all`` and ``has_held_back`` in one statement, for a relay that polls: the events it
        may publish, and whether committed ones wait behind a still-open transaction.

        Rows below the horizon sort before every row at or above it (the order is by ``commit_xid``),
        so the ones to publish are the leading rows marked final; a row after them is held back.
        Held-back rows come without their data, and at most ``limit`` rows are read either way.
        ``beyond_other_databases``: as in ``read_all``.
        """
        rows = await conn.fetch(
            f"WITH horizon AS (SELECT ({_horizon(beyond_other_databases)}) AS xmin)"
            " SELECT e.position, e.commit_xid::text::bigint, e.event_id, e.stream_id, e.version, e.tenant_id, e.type,"
            "  CASE WHEN e.commit_xid < h.xmin THEN e.data::text END,"
            "  CASE WHEN e.commit_xid < h.xmin THEN e.metadata::text END,"
            "  e.occurred_at, e.recorded_at, e.commit_xid < h.xmin AS final"
            " FROM events e, horizon h WHERE (e.commit_xid, e.position) > ($1::text::xid8, $2::bigint)"
            " ORDER BY e.commit_xid, e.position LIMIT $3",
            str(after.commit_xid),
            after.position,
            limit,
        )
        events = [_recorded(row) for row in itertools.takewhile(lambda row: row["final"], rows)]
        return events, len(events) < len(rows)

    async def has_held_back(self, conn: Connection, *, after: Checkpoint) -> bool:
        """True when committed events wait behind a still-open transaction (read again soon)."""
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM events WHERE (commit_xid, position) > ($1::text::xid8, $2::bigint))",
                str(after.commit_xid),
                after.position,
            )
        )


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        commit_xid=row[1],
        event_id=row[2],
        stream_id=row[3],
        version=row[4],
        tenant_id=row[5],
        type=row[6],
        data_json=row[7].encode(),
        metadata=orjson.loads(row[8]),
        occurred_at=row[9],
        recorded_at=row[10],
    )
