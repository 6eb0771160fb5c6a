"""The tenant's work calendar and the time, for the expressions evaluated inside a handler's step.

Expressions are evaluated synchronously (SpiffWorkflow calls them), so the calendar cannot be loaded
when ``next_working_time(...)`` is met: the handler loads it first, when the expressions it is about
to run mention working time (``mentions_working_time``), and puts it in effect around them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from automation.domain.work_calendar import WorkCalendar

# What an expression, a BPMN file or a saved process state holds when it needs the calendar:
# every working-time function and the user task property have it in their name.
MARKER = "working_time"


@dataclass(frozen=True, slots=True)
class InEffect:
    calendar: WorkCalendar | None  # None: nothing in the step mentions working time
    now: datetime


_in_effect: ContextVar[InEffect | None] = ContextVar("working_context", default=None)


def mentions_working_time(*texts: str | None) -> bool:
    return any(text is not None and MARKER in text for text in texts)


@contextmanager
def in_effect(calendar: WorkCalendar | None, now: datetime) -> Iterator[None]:
    """Expressions evaluated inside the block read ``now`` and count working time on ``calendar``."""
    token = _in_effect.set(InEffect(calendar, now))
    try:
        yield
    finally:
        _in_effect.reset(token)


def current() -> InEffect | None:
    return _in_effect.get()
