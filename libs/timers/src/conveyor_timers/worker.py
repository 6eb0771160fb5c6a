"""The worker that fires due timers: once each, in the transaction that marks them fired."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg
import structlog
from conveyor_messaging.db import DATABASE_AWAY, DATABASE_FAILURES, Connection, keeps_session_state

from conveyor_timers.schema import TIMERS_CHANNEL
from conveyor_timers.store import Timer, timer_from

log = structlog.get_logger("conveyor.timers")

TimerHandler = Callable[[Connection, Timer], Awaitable[None]]


class Clock(Protocol):
    """Where the worker reads the time (``conveyor_kit.clock`` clocks fit)."""

    def now(self) -> datetime: ...


_CLAIM_DUE = """
    SELECT * FROM timers
     WHERE state = 'pending' AND due_at <= $1
     ORDER BY due_at
     LIMIT $2
     FOR UPDATE SKIP LOCKED"""

_NEXT_DUE = "SELECT min(due_at) FROM timers WHERE state = 'pending'"


class TimerWorker:
    """Fires due timers of one database; run one per process, any number of processes.

    ``max_idle`` bounds every sleep, so a lost notification (a dropped listening connection)
    delays a timer by at most that long; a handler failure is retried after ``backoff(attempts)``.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, TimerHandler],
        clock: Clock,
        *,
        batch_size: int = 100,
        max_idle: float = 1.0,
        max_attempts: int = 8,
        backoff: Callable[[int], float] = lambda attempts: min(2.0 ** (attempts - 1), 300.0),
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._clock = clock
        self._batch_size = batch_size
        self._max_idle = max_idle
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listener: Any = None

    def wake(self) -> None:
        """Look for due timers now (after a controllable clock moved, or a nearer timer appeared)."""
        self._woken.set()

    async def start(self) -> None:
        """Listen for newly scheduled timers and start firing in the background."""
        self._listener = await self._pool.acquire()
        keeps_session_state(self._listener)  # its LISTEN goes with the session
        await self._listener.add_listener(TIMERS_CHANNEL, self._on_notify)
        self._task = asyncio.create_task(self.run(), name="conveyor-timers")

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(TIMERS_CHANNEL, self._on_notify)
            await self._pool.release(self._listener)
            self._listener = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        while not self._stopping:
            try:
                fired = await self.fire_due()
                delay = 0.0 if fired >= self._batch_size else await self._seconds_to_next_due()
            except DATABASE_FAILURES as error:
                log.warning("timers_unavailable", error=repr(error))
                delay = self._max_idle
            if delay > 0:
                await self._sleep(delay)

    async def fire_due(self) -> int:
        """Fire one batch of due timers; returns how many were taken (fired or put back to retry)."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM_DUE, self._clock.now(), self._batch_size)
            for row in rows:
                await self._fire(conn, timer_from(row))
        return len(rows)

    async def _fire(self, conn: Connection, timer: Timer) -> None:
        handler = self._handlers.get(timer.kind)
        try:
            async with conn.transaction():  # a savepoint: a failing handler leaves no writes behind
                if handler is None:
                    raise LookupError(f"no handler for timers of kind {timer.kind!r}")
                await handler(conn, timer)
        except DATABASE_AWAY:
            raise
        except Exception as error:
            await self._put_back(conn, timer, error)
            return
        fired_at = self._clock.now()
        await conn.execute(
            "UPDATE timers SET state = 'fired', fired_at = $2, attempts = attempts + 1 WHERE timer_key = $1",
            timer.key,
            fired_at,
        )
        log.debug("timer_fired", key=timer.key, kind=timer.kind, lag_ms=(fired_at - timer.due_at).total_seconds() * 1e3)

    async def _put_back(self, conn: Connection, timer: Timer, error: Exception) -> None:
        attempts = timer.attempts + 1
        if attempts >= self._max_attempts:
            state, due_at = "failed", timer.due_at
            log.error("timer_failed", key=timer.key, kind=timer.kind, attempts=attempts, error=repr(error))
        else:
            state, due_at = "pending", self._clock.now() + timedelta(seconds=self._backoff(attempts))
            log.warning("timer_retry", key=timer.key, kind=timer.kind, attempts=attempts, error=repr(error))
        await conn.execute(
            "UPDATE timers SET state = $2, due_at = $3, attempts = $4, last_error = $5 WHERE timer_key = $1",
            timer.key,
            state,
            due_at,
            attempts,
            repr(error)[:2000],
        )

    async def _seconds_to_next_due(self) -> float:
        async with self._pool.acquire() as conn:
            next_due: datetime | None = await conn.fetchval(_NEXT_DUE)
        if next_due is None:
            return self._max_idle
        return max(0.0, min((next_due - self._clock.now()).total_seconds(), self._max_idle))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), timeout=seconds)
        self._woken.clear()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        self.wake()
