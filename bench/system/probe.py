"""Commit → projection: how long after a create's or a move's 2xx the reporting projection shows it.

A sample of the commands (one create and one move every ``every_s``) is followed in the reporting
service's database, polled every few milliseconds until the projected item has the new row or
stage. The 2xx comes right after the source's commit, so the figure is commit → visible in the
projection, plus the answer's way back to the generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg
from conveyor_kit.background import in_background
from mix import Mix

POLL_S = 0.01
GIVE_UP_S = 60.0


class ProjectionProbe:
    def __init__(self, dsn: str, mix: Mix, tenant_id: str, every_s: float = 0.5) -> None:
        self.dsn = dsn
        self.mix = mix
        self.tenant_id = tenant_id
        self.every_s = every_s
        self.latencies_ms: list[float] = []
        self.gave_up = 0

    async def _follow(self, conn: asyncpg.Connection, item_id: str, stage_id: str | None, since: float) -> None:
        while time.monotonic() - since < GIVE_UP_S:
            row = await conn.fetchrow(
                "SELECT stage_id FROM projection.items WHERE tenant_id = $1 AND item_id = $2", self.tenant_id, item_id
            )
            if row is not None and (stage_id is None or row["stage_id"] == stage_id):
                self.latencies_ms.append((time.monotonic() - since) * 1000)
                return
            await asyncio.sleep(POLL_S)
        self.gave_up += 1

    async def _loop(self, conn: asyncpg.Connection) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            if self.mix.recent_creates:
                item_id, since = self.mix.recent_creates[-1]
                self.mix.recent_creates.clear()
                await self._follow(conn, item_id, None, since)
            if self.mix.recent_moves:
                item_id, stage_id, since = self.mix.recent_moves[-1]
                self.mix.recent_moves.clear()
                await self._follow(conn, item_id, stage_id, since)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ProjectionProbe]:
        conn = await asyncpg.connect(self.dsn)
        try:
            async with in_background(self._loop(conn)):
                yield self
        finally:
            await conn.close()
