"""The working-time functions of the expression language, on the work calendar in effect.

``next_working_time(now)``, ``next_working_time(now, "09:00")``, ``add_working_time(start, hours(2))``
(instants) and ``in_working_time(hours(2))`` (the duration from now to two working hours on, which a
BPMN timer's ``timeDuration`` takes). The calendar and ``now`` are the handler's
(``domain.working_context``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from automation.domain import working_context, working_time

ARITY: dict[str, tuple[int, ...]] = {"next_working_time": (1, 2), "add_working_time": (2,), "in_working_time": (1,)}


class Refused(ValueError):
    """The call cannot be answered: no calendar at hand, an argument of the wrong kind, no working time."""


def call(function: str, arguments: list[Any]) -> datetime | timedelta:
    context = working_context.current()
    if context is None or context.calendar is None:
        raise Refused(f"{function} needs the tenant's work calendar, which is not at hand here")
    calendar = context.calendar
    try:
        match function, arguments:
            case "next_working_time", [start]:
                return working_time.next_working_time(calendar, _instant(function, start))
            case "next_working_time", [start, at]:
                return working_time.next_working_time(calendar, _instant(function, start), _time_of_day(at))
            case "add_working_time", [start, timedelta() as duration]:
                return working_time.add_working_time(calendar, _instant(function, start), duration)
            case "in_working_time", [timedelta() as duration]:
                return working_time.add_working_time(calendar, context.now, duration) - context.now
    except working_time.NoWorkingTime as error:
        raise Refused(str(error)) from None
    raise Refused(f"{function} takes an instant and a duration such as hours(2)")


def _instant(function: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, datetime):
        raise Refused(f"{function}: {value!r} is not an instant")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _time_of_day(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise Refused(f'{value!r} is not a time of day such as "09:00"') from None
