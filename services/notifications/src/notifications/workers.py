"""Background work of the notifications service: the reminder timers, and e-mail and webhook loops over PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from conveyor_timers import TimerWorker
from fastapi import FastAPI

from notifications.handlers.reminders import KIND, reminder_handler
from notifications.handlers.send_due import send_due_emails
from notifications.handlers.webhooks import deliver_due_webhooks

log = structlog.get_logger(__name__)


async def _loop(name: str, round_: Callable[[], Awaitable[int]], interval: float) -> None:
    """Run rounds back to back while they find work, otherwise every ``interval``; survive failures."""
    while True:
        try:
            found = await round_()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker_round_failed", worker=name)
            found = 0
        if not found:
            await asyncio.sleep(interval)


@asynccontextmanager
async def workers_on_state(app: FastAPI) -> AsyncIterator[None]:
    """Start the timer worker and the two loops (unless the replica runs no workers); their state is in the database."""
    settings, pool, store, clock = app.state.settings, app.state.pool, app.state.backbone.store, app.state.clock
    tasks: list[asyncio.Task[None]] = []
    timers = TimerWorker(pool, {KIND: reminder_handler(store, clock)}, clock)
    app.state.timers = timers
    if settings.run_workers:
        await timers.start()
        rounds: dict[str, Callable[[], Awaitable[int]]] = {
            "emails": lambda: send_due_emails(pool, store, settings, clock),
            "webhooks": lambda: deliver_due_webhooks(pool, store, settings, clock),
        }
        for name, round_ in rounds.items():
            tasks.append(asyncio.create_task(_loop(name, round_, settings.poll_interval_seconds), name=name))
    try:
        yield
    finally:
        if settings.run_workers:
            await timers.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
