"""Time as a dependency, so tests and test-mode deployments can move it instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator


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


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def clock_from(request: Request) -> Clock:
    """FastAPI dependency: the app's clock."""
    clock: Clock = request.app.state.clock
    return clock


class ClockChange(BaseModel):
    """Either advance by some seconds or set to an instant."""

    advance_seconds: float | None = Field(default=None, ge=0)
    set_to: datetime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        if (self.advance_seconds is None) == (self.set_to is None):
            raise ValueError("give exactly one of advance_seconds or set_to")
        return self


class ClockReading(BaseModel):
    now: datetime


def clock_router() -> APIRouter:
    """`/v1/test/clock`: read and move the clock. Mounted only when the test clock is enabled."""
    router = APIRouter(prefix="/v1/test", tags=["test"])

    @router.get("/clock")
    async def read_clock(request: Request) -> ClockReading:
        return ClockReading(now=clock_from(request).now())

    @router.post("/clock")
    async def move_clock(change: ClockChange, request: Request) -> ClockReading:
        clock = clock_from(request)
        assert isinstance(clock, ControllableClock)
        if change.advance_seconds is not None:
            clock.advance(change.advance_seconds)
        elif change.set_to is not None:
            clock.set(change.set_to)
        return ClockReading(now=clock.now())

    return router
