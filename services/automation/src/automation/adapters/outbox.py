"""Commands to other services, sent through this service's own outbox."""

from __future__ import annotations

from datetime import datetime

from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, ConcurrencyConflict, EventStore, NewEvent


async def send_command(
    conn: Connection,
    store: EventStore,
    tenant_id: str,
    command: EventContract,
    *,
    key: str,
    actor: Actor,
    now: datetime,
) -> bool:
    """Append ``command`` on stream ``command-<key>``; False when that key was sent before (nothing sent).

    ``now`` is the service clock's time: the receiving service stamps the changes a command makes with
    the command's time, so a command stamped with the wall clock would put a robot's change at the
    wrong moment whenever the clock is not the wall clock (tests moving time, a replayed timer)."""
    try:
        async with conn.transaction():  # a savepoint: a repeated key must not undo the caller's work
            await store.append(
                conn,
                stream_id=f"command-{key}",
                tenant_id=tenant_id,
                aggregate_type="command",
                expected_version=NO_STREAM,
                events=[NewEvent.of(command)],
                actor=actor,
                now=now,
            )
    except ConcurrencyConflict:
        return False
    return True
