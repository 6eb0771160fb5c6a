"""The automation service's timer worker: which handler fires which kind of durable timer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore
from conveyor_timers import Timer, TimerHandler, TimerWorker
from fastapi import FastAPI

from automation.domain.process_clock import use_clock
from automation.domain.robot_timers import ROBOT_TIMER
from automation.handlers.calendar_held import HELD_TIMER, entry_ended
from automation.handlers.idle_triggers import IDLE_TRIGGER_TIMER
from automation.handlers.processes import PROCESS_TIMER, wake_process
from automation.handlers.run_robot import run_robot
from automation.handlers.triggers import fire_idle_trigger
from automation.ports import Clock


def timer_handlers(store: EventStore, clock: Clock) -> dict[str, TimerHandler]:
    async def fire_robot(conn: Connection, timer: Timer) -> None:
        await run_robot(conn, store, clock, timer)

    async def wake_a_process(conn: Connection, timer: Timer) -> None:
        await wake_process(conn, store, clock.now(), timer)

    async def held_if_not_cancelled(conn: Connection, timer: Timer) -> None:
        await entry_ended(conn, store, clock, timer)

    async def move_if_still_idle(conn: Connection, timer: Timer) -> None:
        await fire_idle_trigger(conn, store, clock, timer)

    return {
        ROBOT_TIMER: fire_robot,
        PROCESS_TIMER: wake_a_process,
        HELD_TIMER: held_if_not_cancelled,
        IDLE_TRIGGER_TIMER: move_if_still_idle,
    }


@asynccontextmanager
async def timers_on_state(app: FastAPI) -> AsyncIterator[TimerWorker | None]:
    """Run the timer worker for the app's lifetime (not on API-only replicas); ``app.state.timers``."""
    settings = app.state.settings
    use_clock(app.state.clock)
    if not settings.run_workers:
        app.state.timers = None
        yield None
        return
    worker = TimerWorker(app.state.pool, timer_handlers(app.state.backbone.store, app.state.clock), app.state.clock)
    await worker.start()
    app.state.timers = worker
    try:
        yield worker
    finally:
        await worker.stop()
