"""Live inbox streams: one LISTEN connection per process fans new notifications out to their user's streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from typing import Any

import asyncpg
import structlog

from notifications.adapters.inbox import CHANNEL

log = structlog.get_logger(__name__)


class LiveHub:
    """Queues per (tenant, user); a notification reaches only its own recipient's queues."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], set[asyncio.Queue[str]]] = defaultdict(set)
        self._conn: asyncpg.Connection | None = None

    async def start(self, dsn: str) -> None:
        self._conn = await asyncpg.connect(dsn)
        await self._conn.add_listener(CHANNEL, self._on_notify)

    async def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        wake = json.loads(str(payload))
        for queue in self._queues.get((wake["tenant_id"], wake["recipient_id"]), ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(wake["notification_id"])

    def subscribe(self, tenant_id: str, user_id: str) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self._queues[(tenant_id, user_id)].add(queue)
        return queue

    def unsubscribe(self, tenant_id: str, user_id: str, queue: asyncio.Queue[str]) -> None:
        queues = self._queues.get((tenant_id, user_id))
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[(tenant_id, user_id)]
