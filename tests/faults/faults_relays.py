"""The services' event stores seen from their databases: the events of a tenant, how many events a
store holds, how many wait for the relay, and how long the relay takes to publish a backlog."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from faults_db import connection


@dataclass(frozen=True, slots=True)
class Stored:
    event_id: str
    stream_id: str
    version: int
    type: str
    data: dict[str, Any]
    actor: str


async def stored_events(dsn: str, tenant: str) -> list[Stored]:
    async with connection(dsn) as conn:
        rows = await conn.fetch(
            "SELECT event_id::text, stream_id, version, type, data::text, metadata->>'actor'"
            " FROM events WHERE tenant_id = $1 ORDER BY stream_id, version",
            tenant,
        )
    return [Stored(r[0], r[1], r[2], r[3], orjson.loads(r[4]), r[5]) for r in rows]


_NEWEST = "SELECT commit_xid::text, position FROM events ORDER BY commit_xid DESC, position DESC LIMIT 1"
_PUBLISHED = (
    "SELECT EXISTS (SELECT 1 FROM relay_checkpoints WHERE (commit_xid, position) >= ($1::text::xid8, $2::bigint))"
)
_UNPUBLISHED = (
    "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM relay_checkpoints c"
    " WHERE (e.commit_xid, e.position) <= (c.commit_xid, c.position))"
)


async def stored(dsn: str) -> int:
    async with connection(dsn) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


async def unpublished(dsn: str) -> int:
    """Events after the relay's checkpoint (all of them when it has none)."""
    async with connection(dsn) as conn:
        return int(await conn.fetchval(_UNPUBLISHED))


@dataclass(frozen=True)
class Backlog:
    """What waits in an outbox at one moment: how many events, and the newest of them."""

    events: int
    newest: tuple[str, int] | None  # (commit xid, position)


async def backlog(dsn: str) -> Backlog:
    async with connection(dsn) as conn:
        waiting = int(await conn.fetchval(_UNPUBLISHED))
        newest = await conn.fetchrow(_NEWEST)
    return Backlog(waiting, (newest[0], newest[1]) if waiting and newest else None)


@dataclass(frozen=True)
class Drain:
    """A relay's backlog when Kafka came back, and how long publishing all of it took."""

    backlog: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.backlog / self.seconds if self.seconds > 0 else float("inf")

    def figures(self) -> dict[str, float]:
        return {"backlog": self.backlog, "seconds": round(self.seconds, 2), "events_per_s": round(self.rate, 1)}


async def drain(dsn: str, waiting: Backlog, since: float, within: float = 300.0) -> Drain:
    """Wait until the relay has published ``waiting``; the seconds it took counted from ``since``."""
    if waiting.newest is None:
        return Drain(0, 0.0)
    async with connection(dsn) as conn:
        while not await conn.fetchval(_PUBLISHED, *waiting.newest):
            if time.monotonic() - since > within:
                raise AssertionError(f"the relay did not publish its backlog of {waiting.events} within {within:g}s")
            await asyncio.sleep(0.02)
        return Drain(waiting.events, time.monotonic() - since)


async def port_open(address: str, within: float = 180.0) -> float:
    """Poll until something accepts TCP connections on ``host:port``; returns that instant."""
    host, _, port = address.split(",")[0].rpartition(":")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return time.monotonic()
    raise AssertionError(f"nothing listened on {address} within {within:g}s")
