"""Report periods: inclusive day ranges and the buckets figures are grouped into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``first`` to ``last``, both included (UTC)."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None, today: date, default_days: int = 30) -> Period:
        last = last or today
        return cls(first or last - timedelta(days=default_days - 1), last)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def ratio(part: float, whole: float) -> float | None:
    """``part / whole`` rounded to 4 places; None when the whole is nothing."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class OpenPeriod:
    """The days ``first`` to ``last`` (UTC, both included); a day not given leaves that end open."""

    first: date | None
    last: date | None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC) if self.first else datetime.min.replace(tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        if self.last is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def whole_months(self) -> tuple[datetime, datetime]:
        """``(low, high)``: the calendar months from ``low`` up to ``high`` lie wholly in the period, the days
        before ``low`` and from ``high`` do not; no whole month gives ``low == high == end``."""
        start, end = self.start, self.end
        low = start.replace(day=1)
        if low < start:
            low = low.replace(year=low.year + low.month // 12, month=low.month % 12 + 1)
        high = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (low, high) if low < high else (end, end)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
        }
