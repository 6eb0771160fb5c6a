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

_DATABASE_AWAY = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
LIVE_LISTENER = "notifications-live"  # the listening connection's application_name, for operators


class LiveHub:
    """Queues per (tenant, user); a notification reaches only its own recipient's queues.

    The listening connection is watched: when PostgreSQL restarts (or the connection is cut) it is
    opened again, so live streams resume by themselves. Notifications committed while it was away
    do not reach open streams; the inbox has them.
    """

    def __init__(self, *, reconnect_every: float = 1.0) -> None:
        self._queues: dict[tuple[str, str], set[asyncio.Queue[str]]] = defaultdict(set)
        self._conn: asyncpg.Connection | None = None
        self._reconnect_every = reconnect_every
        self._lost = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def start(self, dsn: str) -> None:
        with contextlib.suppress(*_DATABASE_AWAY):  # a database that is away now: the watcher keeps trying
            await self._listen(dsn)
        self._watcher = asyncio.create_task(self._keep_listening(dsn), name="notifications-live-listener")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def _listen(self, dsn: str) -> None:
        conn = await asyncpg.connect(dsn, timeout=5, server_settings={"application_name": LIVE_LISTENER})
        conn.add_termination_listener(lambda _conn: self._lost.set())
        await conn.add_listener(CHANNEL, self._on_notify)
        self._conn = conn
        self._lost.clear()

    async def _keep_listening(self, dsn: str) -> None:
        while True:
            if self.listening:
                with contextlib.suppress(TimeoutError):  # a lost connection wakes us; look anyway now and then
                    await asyncio.wait_for(self._lost.wait(), self._reconnect_every)
                continue
            try:
                await self._listen(dsn)
                log.info("live_listener_reconnected")
            except _DATABASE_AWAY as error:
                log.warning("live_listener_unavailable", error=repr(error), retry_in=self._reconnect_every)
                await asyncio.sleep(self._reconnect_every)

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
