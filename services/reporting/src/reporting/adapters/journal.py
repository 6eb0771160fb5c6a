"""The journal: every event the projections consumed, as it came, so a rebuild can replay them
without asking Kafka (whose topics hold every tenant's history) and a new projection can start
from the whole past."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import orjson
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope


async def record(conn: Connection, events: Sequence[tuple[str, Envelope]]) -> None:
    """Append ``(topic, event)`` pairs in their order; an event already there is kept once."""
    rows = [
        {
            "event_id": e.id,
            "topic": topic,
            "type": e.type,
            "tenant_id": e.tenant_id,
            "subject": e.subject,
            "time": e.time.isoformat(),
            "actor": str(e.actor),
            "version": e.aggregate_version,
            "data": e.data,
        }
        for topic, e in events
    ]
    await conn.execute(
        """INSERT INTO journal (event_id, topic, type, tenant_id, subject, time, actor, version, data)
           SELECT event_id, topic, type, tenant_id, subject, time, actor, version, data
             FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, topic text, type text,
                  tenant_id text, subject text, time timestamptz, actor text, version int, data jsonb)
           ON CONFLICT (event_id) DO NOTHING""",
        rows,
    )


async def replay(conn: Connection, *, after: int = 0, chunk: int = 5000) -> AsyncIterator[tuple[int, list[Envelope]]]:
    """The journal from position ``after`` on, in chunks: ``(last position, events)``."""
    while True:
        rows = await conn.fetch(
            "SELECT seq, event_id, type, tenant_id, subject, time, actor, version, data::text"
            " FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
            after,
            chunk,
        )
        if not rows:
            return
        after = rows[-1]["seq"]
        yield (
            after,
            [
                Envelope(
                    id=r["event_id"],
                    type=r["type"],
                    source="journal",
                    subject=r["subject"],
                    tenant_id=r["tenant_id"],
                    time=r["time"],
                    actor=Actor.parse(r["actor"]),
                    aggregate_version=r["version"],
                    data=orjson.loads(r["data"]),
                )
                for r in rows
            ],
        )
