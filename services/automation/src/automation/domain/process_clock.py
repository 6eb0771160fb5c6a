"""SpiffWorkflow's timer events read ``datetime.now()``; here they read the service's injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from automation.ports import Clock


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_clock: Clock = _WallClock()


class _ClockedDatetime(datetime):
    """``datetime`` whose ``now()`` is the service clock's, for SpiffWorkflow's timer module only."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockedDatetime:
        instant = _clock.now()
        moved = instant.astimezone(tz) if tz is not None else instant.astimezone(UTC).replace(tzinfo=None)
        return (
            cls.fromtimestamp(moved.timestamp(), tz)
            if tz is not None
            else cls(*moved.timetuple()[:6], moved.microsecond)
        )


def service_now() -> datetime:
    """The service clock's time, for work that runs outside a timer (an at-once robot in a consumer)."""
    return _clock.now()


def use_clock(clock: Clock) -> None:
    """Timers of every process in this process read ``clock`` (the service has one clock)."""
    global _clock
    _clock = clock


spiff_timer.datetime = _ClockedDatetime
