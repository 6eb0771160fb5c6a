"""A tenant's work calendar: working days and hours in its time zone, and the days off.

Robots and timers "in working time", tasks' due dates and ``next_working_time(...)`` count on it
(``domain.working_time``). A tenant that never saved one works Monday to Friday, 09:00 to 18:00 UTC.

Days off are the tenant's own dates, plus, when ``holiday_country`` is set, that country's public
holidays as the ``holidays`` package knows them (and its ``holiday_subdivision``, a state or
region): movable feasts and holidays moved by decree are kept up to date there, not by every tenant
once a year. ``working_dates`` are days worked although their weekday is off or they are a holiday
(a Saturday that makes up for a bridge day); they win over everything else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container
from datetime import date, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)
MAX_DATES = 1000
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _local_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        return time.fromisoformat(value)
    raise ValueError('a local time of day written "HH:MM", e.g. "09:00"')


# A wall-clock time of the calendar's zone, written "09:00" (JSON Schema's "time" format wants an offset).
LocalTime = Annotated[
    time,
    PlainValidator(_local_time),
    PlainSerializer(lambda at: at.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": f"^{_HH_MM.pattern}$", "examples": ["09:00"]}),
]


class WorkingHours(BaseModel):
    """One stretch of a working day in local time; ``end`` 00:00 is the midnight that ends the day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _in_order(self) -> WorkingHours:
        if self.end != MIDNIGHT and self.end <= self.start:
            raise ValueError("end must be after start (00:00 ends the day; a stretch does not cross midnight)")
        return self

    def ends_next_day(self) -> bool:
        return self.end == MIDNIGHT


class WorkCalendar(BaseModel):
    """Working days and hours in a time zone, and the days off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = Field(default="UTC", description="An IANA time zone, e.g. Europe/Berlin.")
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1, max_length=7)
    hours: list[WorkingHours] = Field(
        default_factory=lambda: [WorkingHours(start=time(9), end=time(18))], min_length=1, max_length=6,
        description="Stretches of every working day, in order, not overlapping (a lunch break sits between two).",
    )  # fmt: skip
    holidays: list[date] = Field(default_factory=list, max_length=MAX_DATES, description="The tenant's own days off.")
    working_dates: list[date] = Field(
        default_factory=list, max_length=MAX_DATES, description="Days worked although off by weekday or holiday."
    )
    holiday_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 code: that country's public holidays are off too."
    )
    holiday_subdivision: str | None = Field(default=None, min_length=1, max_length=10)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        if name not in _zones():
            raise ValueError(f"unknown time zone {name!r}; give an IANA name such as Europe/Berlin")
        return name

    @field_validator("working_days")
    @classmethod
    def _days_once_each(cls, days: list[Weekday]) -> list[Weekday]:
        return sorted(set(days), key=WEEKDAYS.index)

    @model_validator(mode="after")
    def _hours_in_order_and_country_known(self) -> WorkCalendar:
        for before, after in zip(self.hours, self.hours[1:], strict=False):
            if before.ends_next_day() or after.start < before.end:
                raise ValueError("hours must be in order and must not overlap")
        if self.holiday_country is not None:
            supported = holidays.list_supported_countries()
            if self.holiday_country not in supported:
                raise ValueError(f"no public holidays are known for country {self.holiday_country!r}")
            subdivisions = supported[self.holiday_country]
            if self.holiday_subdivision is not None and self.holiday_subdivision not in subdivisions:
                raise ValueError(f"{self.holiday_country} has no subdivision {self.holiday_subdivision!r}")
        elif self.holiday_subdivision is not None:
            raise ValueError("holiday_subdivision needs holiday_country")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_working_date(self, day: date) -> bool:
        """Whether ``day`` (a local date) has working hours."""
        if day in self._working_dates:
            return True
        if day in self._holidays or day in self._country_holidays:
            return False
        return WEEKDAYS[day.weekday()] in self.working_days

    @functools.cached_property
    def _working_dates(self) -> frozenset[date]:
        return frozenset(self.working_dates)

    @functools.cached_property
    def _holidays(self) -> frozenset[date]:
        return frozenset(self.holidays)

    @property
    def _country_holidays(self) -> Container[date]:
        if self.holiday_country is None:
            return frozenset()
        return _public_holidays(self.holiday_country, self.holiday_subdivision)


DEFAULT = WorkCalendar()


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.cache
def _public_holidays(country: str, subdivision: str | None) -> Container[date]:
    # The package fills in each year when a date of it is first asked about.
    try:
        found: Container[date] = holidays.country_holidays(country, subdiv=subdivision)
    except (NotImplementedError, ZoneInfoNotFoundError):  # pragma: no cover: refused when saved
        return frozenset()
    return found
