"""The instant an `as_of` names: an RFC 3339 time, a time without a zone, or a plain date.

A time without a zone and a date are read in a zone the caller names (UTC unless told): nothing is
guessed silently. A date means the end of that day, the last state the item had on it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# RFC 3339 (`T`, `t` or a space between date and time; seconds and fractions optional), or a date alone.
_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)


class BadInstant(ValueError):
    """A text that is not a date or time this API reads; the message says what is expected."""


def zone_named(name: str | None) -> tzinfo:
    """The IANA zone of that name (UTC for none)."""
    # Only names of the zone list: ZoneInfo opens any file under the zone folder by its name (a folder
    # such as "Europe" raises IsADirectoryError, "zone.tab" is no zone file).
    if name and name not in _zone_names():
        raise BadInstant(f"{name!r} is not an IANA time zone (e.g. Europe/Moscow)")
    return ZoneInfo(name or "UTC")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def instant_of(text: str, zone: tzinfo) -> datetime:
    """The aware instant `text` names; a zoneless time or a date is taken in `zone`."""
    if not _SHAPE.fullmatch(text):
        raise BadInstant("expected an RFC 3339 time (2026-12-07T08:41:50Z), a local time or a date (2026-12-07)")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time.min, zone) - timedelta(microseconds=1)
        moment = datetime.fromisoformat(_digits_python_reads(text.upper()))
    except (ValueError, OverflowError):
        raise BadInstant(f"{text!r} is not a real date or time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _digits_python_reads(text: str) -> str:
    # RFC 3339 allows any number of fraction digits; Python reads at most six.
    return re.sub(r"(\.\d{6})\d+", r"\1", text)
