"""Arithmetic in working time: add or take off working hours, find the next working moment.

Every instant in and out is aware; results are in UTC. Working periods are the calendar's hours on
its working dates, in its time zone, so a day on which the clocks change has the real length of its
stretches (an hour from 01:00 to 04:00 local time on a spring-forward night is two hours, not three).
A local time that does not exist that night (02:30) is read as the instant after the gap would
give it by the offset before the change, and one that happens twice as its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from automation.domain.work_calendar import WorkCalendar

# How far a search goes before concluding that a calendar has no working time (every date off).
HORIZON_DAYS = 3 * 366
ZERO = timedelta(0)


class NoWorkingTime(ValueError):
    """The calendar has no working time within the horizon: every day is off."""


def add_working_time(calendar: WorkCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant after ``duration`` of working time from ``start``. Time outside working hours does
    not count; a zero duration is the next working moment (``start`` itself when it is one). Counting
    ends at the close of a period rather than at the next opening (16:00 plus 2 hours closing at 18:00
    is 18:00)."""
    if duration < ZERO:
        return subtract_working_time(calendar, start, -duration)
    remaining = duration
    for begin, end in _periods_after(calendar, start):
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days of {start.isoformat()}")


def subtract_working_time(calendar: WorkCalendar, end: datetime, duration: timedelta) -> datetime:
    """The instant ``duration`` of working time before ``end`` (a robot "2 working hours before the
    meeting"); a zero duration is the last working moment at or before ``end``."""
    remaining = duration
    for begin, stop in _periods_before(calendar, end):
        if remaining <= stop - begin:
            return stop - remaining
        remaining -= stop - begin
    raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days before {end.isoformat()}")


def next_working_time(calendar: WorkCalendar, instant: datetime, at: time | None = None) -> datetime:
    """Without ``at``: the next working moment (``instant`` itself within working hours). With ``at``:
    that local time of the first working day on which it is later than ``instant`` ("the next working
    morning at 09:00": from Friday 10:00 that is Monday 09:00, from Monday 08:00 Monday 09:00)."""
    if at is None:
        return add_working_time(calendar, instant, ZERO)
    day = instant.astimezone(calendar.zone).date()
    for offset in range(HORIZON_DAYS):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_date(candidate):
            found = _instant(calendar, candidate, at)
            if found > instant:
                return found
    raise NoWorkingTime(f"no working day within {HORIZON_DAYS} days of {instant.isoformat()}")


def is_working_time(calendar: WorkCalendar, instant: datetime) -> bool:
    return add_working_time(calendar, instant, ZERO) == instant.astimezone(UTC)


def _periods_after(calendar: WorkCalendar, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working periods that end after ``instant``, in order, the first clipped to start there."""
    instant = instant.astimezone(UTC)
    first = instant.astimezone(calendar.zone).date() - timedelta(days=1)
    for offset in range(HORIZON_DAYS):
        for begin, end in _periods_of(calendar, first + timedelta(days=offset)):
            if end > instant:
                yield max(begin, instant), end


def _periods_before(calendar: WorkCalendar, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working periods that begin before ``instant``, latest first, the first clipped to end there."""
    instant = instant.astimezone(UTC)
    last = instant.astimezone(calendar.zone).date() + timedelta(days=1)
    for offset in range(HORIZON_DAYS):
        for begin, end in reversed(_periods_of(calendar, last - timedelta(days=offset))):
            if begin < instant:
                yield begin, min(end, instant)


def _periods_of(calendar: WorkCalendar, day: date) -> list[tuple[datetime, datetime]]:
    if not calendar.is_working_date(day):
        return []
    periods = []
    for hours in calendar.hours:
        end_day = day + timedelta(days=1) if hours.ends_next_day() else day
        begin, end = _instant(calendar, day, hours.start), _instant(calendar, end_day, hours.end)
        if end > begin:  # a stretch swallowed whole by a clock change has no length
            periods.append((begin, end))
    return periods


def _instant(calendar: WorkCalendar, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=calendar.zone).astimezone(UTC)
