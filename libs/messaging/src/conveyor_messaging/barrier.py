"""The barrier that keeps each stream's order across the two lanes (lanes.py, ADR 004).

An interactive event that names a bulk event (``after_bulk``) waits until the consumer has applied
that bulk event: it is parked in ``parked_events`` (already marked processed, so a redelivery does not
park it twice), and so is every later event of its stream while one of them waits. When the bulk
event is applied, the stream's parked events are released in the order they came, in the same
transaction. Bulk events themselves never wait: a bulk change made after a person's change of the same
stream may be applied before it, but a person's change is never applied before the bulk events that
came before it. Streams with no bulk event in the last seven days carry no name and cost one
``EXISTS`` per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka import ConsumerRecord

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope, from_kafka
from conveyor_messaging.lanes import BULK

Stream = tuple[str, str]


def _stream(event: Envelope) -> Stream:
    return event.tenant_id, event.subject


async def hold_back(
    conn: Connection, consumer: str, batch: Sequence[tuple[ConsumerRecord, Envelope]]
) -> list[Envelope]:
    """Park what must wait; returns the events to apply now, in their order."""
    waiting_for = {e.after_bulk for _, e in batch if e.after_bulk}
    anything_parked = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM parked_events WHERE consumer = $1)", consumer)
    if not waiting_for and not anything_parked:
        return [e for _, e in batch]
    applied = await _marked(conn, consumer, waiting_for)
    blocked = await _streams_with_parked(conn, consumer, {_stream(e) for _, e in batch}) if anything_parked else set()
    ready: list[Envelope] = []
    parked: list[tuple[ConsumerRecord, Envelope]] = []
    for record, event in batch:
        stream = _stream(event)
        if event.lane == BULK:  # what the others wait for never waits itself: the bulk lane has its order
            ready.append(event)
            continue
        if stream not in blocked and event.after_bulk and event.after_bulk not in applied:
            blocked.add(stream)
        if stream in blocked:
            parked.append((record, event))
        else:
            ready.append(event)
    if parked:
        await conn.execute(
            "INSERT INTO parked_events (consumer, tenant_id, stream_id, waits_for, key, value, headers)"
            " SELECT $1, t, s, w, k, v, h::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[],"
            " $6::bytea[], $7::text[]) AS p(t, s, w, k, v, h)",
            consumer,
            [e.tenant_id for _, e in parked],
            [e.subject for _, e in parked],
            [e.after_bulk for _, e in parked],
            [r.key for r, _ in parked],
            [r.value for r, _ in parked],
            [orjson.dumps({k: v.decode() for k, v in r.headers or ()}).decode() for r, _ in parked],
        )
    return ready


async def release(conn: Connection, consumer: str, applied: Sequence[Envelope]) -> list[Envelope]:
    """The parked events that may go now that ``applied`` are, removed from the parking, in the order they
    came: each stream's, up to the first one that still waits for a bulk event not applied."""
    rows = await conn.fetch(
        "SELECT seq, tenant_id, stream_id, waits_for, key, value, headers::text FROM parked_events"
        " WHERE consumer = $1 AND (tenant_id, stream_id) IN ("
        "   SELECT tenant_id, stream_id FROM parked_events WHERE consumer = $1 AND waits_for = ANY($2::text[]))"
        " ORDER BY seq",
        consumer,
        [e.id for e in applied],
    )
    if not rows:
        return []
    done = {e.id for e in applied} | await _marked(conn, consumer, {r["waits_for"] for r in rows if r["waits_for"]})
    stuck: set[Stream] = set()
    released: list[tuple[int, Envelope]] = []
    for row in rows:
        stream = (row["tenant_id"], row["stream_id"])
        if stream in stuck or (row["waits_for"] and row["waits_for"] not in done):
            stuck.add(stream)
            continue
        event = _event(row)
        released.append((row["seq"], event))
        done.add(event.id)  # a bulk event parked behind its stream frees what waits for it
    if released:
        await conn.execute(
            "DELETE FROM parked_events WHERE consumer = $1 AND seq = ANY($2::bigint[])",
            consumer,
            [seq for seq, _ in released],
        )
    return [event for _, event in released]


def _event(row: Any) -> Envelope:
    headers = orjson.loads(row["headers"])
    return from_kafka(row["key"], row["value"], [(k, v.encode()) for k, v in headers.items()])


async def _marked(conn: Connection, consumer: str, event_ids: set[str]) -> set[str]:
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
        consumer,
        sorted(event_ids),
    )
    return {row["event_id"] for row in rows}


async def _streams_with_parked(conn: Connection, consumer: str, streams: set[Stream]) -> set[Stream]:
    """Streams of the batch that already have a parked event: their new events queue behind it."""
    rows = await conn.fetch(
        "SELECT DISTINCT tenant_id, stream_id FROM parked_events WHERE consumer = $1"
        " AND (tenant_id, stream_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
        consumer,
        [tenant for tenant, _ in streams],
        [stream for _, stream in streams],
    )
    return {(row["tenant_id"], row["stream_id"]) for row in rows}
