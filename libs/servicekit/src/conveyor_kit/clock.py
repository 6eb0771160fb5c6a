"""Time as a dependency, so tests and test-mode deployments can move it instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator

from conveyor_kit.problems import Problem
from conveyor_kit.shared_clock import FileClock

if TYPE_CHECKING:
    from conveyor_kit.settings import ServiceSettings


class Clock(Protocol):
    """Where a service reads the current time from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ControllableClock:
    """A clock that stands still until told to move; for tests and test-mode deployments."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _utc(start or datetime.now(UTC))

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (naive values are taken as UTC)."""
        self._now = _utc(instant)

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds`; moving backward is refused, as real clocks never do."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now += timedelta(seconds=seconds)


class MovableClock(Clock, Protocol):
    """A clock that tests move: one service's own (``ControllableClock``) or a machine's (``FileClock``)."""

    def set(self, instant: datetime) -> None: ...

    def advance(self, seconds: float) -> None: ...


def clock_for(settings: ServiceSettings) -> Clock:
    """The wall clock; in a test mode the service's own controllable clock, or the shared one of a file."""
    if settings.test_clock_file is not None:
        return FileClock(settings.test_clock_file)
    return ControllableClock() if settings.test_clock_enabled else SystemClock()


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def clock_from(request: Request) -> Clock:
    """FastAPI dependency: the app's clock."""
    clock: Clock = request.app.state.clock
    return clock


class ClockChange(BaseModel):
    """Either advance by some seconds or set to an instant; a shared clock may also start or stop running."""

    advance_seconds: float | None = Field(default=None, ge=0)
    set_to: datetime | None = None
    ticking: bool | None = Field(
        default=None, description="Shared clock only: run on with the wall clock after the move, or stand still."
    )

    @model_validator(mode="after")
    def _one_move(self) -> ClockChange:
        if self.advance_seconds is not None and self.set_to is not None:
            raise ValueError("give one of advance_seconds or set_to, not both")
        if self.advance_seconds is None and self.set_to is None and self.ticking is None:
            raise ValueError("give one of advance_seconds or set_to (or ticking, for a shared clock)")
        return self


class ClockReading(BaseModel):
    now: datetime
    shared: bool = Field(description="Whether every service on the machine reads this clock (a file clock).")


def clock_router() -> APIRouter:
    """`/v1/test/clock`: read and move the clock. Mounted only when the test clock is enabled."""
    router = APIRouter(prefix="/v1/test", tags=["test"])

    @router.get("/clock")
    async def read_clock(request: Request) -> ClockReading:
        clock = clock_from(request)
        return ClockReading(now=clock.now(), shared=isinstance(clock, FileClock))

    @router.post("/clock")
    async def move_clock(change: ClockChange, request: Request) -> ClockReading:
        clock = clock_from(request)
        assert isinstance(clock, ControllableClock | FileClock)
        if change.ticking is not None and not isinstance(clock, FileClock):
            raise Problem(422, detail="only a shared clock (CONVEYOR_TEST_CLOCK_FILE) runs on; this one stands still")
        if change.advance_seconds is not None:
            clock.advance(change.advance_seconds)
        if isinstance(clock, FileClock) and (change.set_to is not None or change.ticking is not None):
            clock.set(change.set_to or clock.now(), ticking=change.ticking)
        elif change.set_to is not None:
            clock.set(change.set_to)
        _wake_timers(request.app.state)
        return ClockReading(now=clock.now(), shared=isinstance(clock, FileClock))

    return router


def _wake_timers(state: Any) -> None:
    # This service's timer worker looks for due timers at once; the other services' workers notice the
    # moved file at their next look, within their `max_idle` (a second).
    timers = getattr(state, "timers", None)
    if timers is not None and hasattr(timers, "wake"):
        timers.wake()
