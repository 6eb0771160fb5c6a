"""The directory's write side on PostgreSQL: record events and apply them to the service's own copy.

The entities service is the directory's source of truth. Its state is the same read model every
service keeps (``conveyor_access.directory``), updated by the same handlers in the transaction that
appends the events, so what a request wrote is what the next request reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from conveyor_access.directory import DIRECTORY_HANDLERS
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore, NewEvent, RecordedEvent


def stream_id(aggregate: str, tenant_id: str, key: str) -> str:
    """Directory ids are chosen per tenant (a user id is the token's ``sub``), so streams name the tenant."""
    return f"{aggregate}:{tenant_id}:{key}"


async def lock_directory(conn: Connection, tenant_id: str) -> None:
    """Serialise a tenant's directory changes until the transaction ends.

    Checks span several aggregates (a move must not close a cycle another move opens; a department
    must stay empty while it is removed), and directory changes are rare admin work.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('conveyor.directory:' || $1, 0))", tenant_id)


@dataclass(frozen=True, slots=True)
class DirectoryWriter:
    """One request's unit of work on the directory: its connection (in a transaction), tenant, author and time."""

    conn: Connection
    store: EventStore
    tenant_id: str
    actor: Actor
    now: datetime

    async def record(self, aggregate: str, key: str, changes: Sequence[EventContract]) -> list[RecordedEvent]:
        """Append ``changes`` to the aggregate's stream after its current version, then apply them here."""
        stream = stream_id(aggregate, self.tenant_id, key)
        version = await self.store.stream_version(self.conn, stream, tenant_id=self.tenant_id)
        recorded = await self.store.append(
            self.conn,
            stream_id=stream,
            tenant_id=self.tenant_id,
            aggregate_type=aggregate,
            expected_version=version,
            events=[NewEvent.of(change, occurred_at=self.now) for change in changes],
            actor=self.actor,
            now=self.now,
        )
        for event in recorded:
            await DIRECTORY_HANDLERS[event.type](self.conn, event.to_envelope())
        return recorded
