"""Fixtures for the directory read model's tests: a database with its tables, and a feed of events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from conveyor_access.directory import DIRECTORY_DDL_V1, DIRECTORY_HANDLERS
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope


class DirectoryFeed:
    """Applies directory events to the read model the way a service's consumer does."""

    def __init__(self, conn: asyncpg.Connection, tenant_id: str) -> None:
        self.conn = conn
        self.tenant_id = tenant_id

    async def apply(self, contract: EventContract, *, version: int = 1, tenant_id: str | None = None) -> Envelope:
        event = Envelope(
            type=contract.type_name,
            source="/conveyor/entities",
            subject=f"stream-{uuid.uuid4().hex}",
            tenant_id=tenant_id or self.tenant_id,
            data=contract.model_dump(mode="json"),
            actor=Actor.user("admin"),
            aggregate_version=version,
        )
        await self.replay(event)
        return event

    async def replay(self, event: Envelope) -> None:
        async with self.conn.transaction():
            await DIRECTORY_HANDLERS[event.type](self.conn, event)


@pytest.fixture
async def directory(fresh_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a new database holding only the directory's tables."""
    conn = await asyncpg.connect(fresh_database)
    await conn.execute(DIRECTORY_DDL_V1)
    yield conn
    await conn.close()


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def feed(directory: asyncpg.Connection, tenant: str) -> DirectoryFeed:
    return DirectoryFeed(directory, tenant)
