"""Calendar entries: who sees them, their time zone, when their reminders are due, and which overlap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conveyor_contracts.notifications import ReminderSpec
from conveyor_kit.domain_errors import Conflict, Invalid, NotFound

DEFAULT_DURATION = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    title: str
    kind: str
    start: datetime
    end: datetime
    description: str | None = None
    organizer_id: str | None = None
    attendee_ids: tuple[str, ...] = ()
    item_id: str | None = None
    entity_type_id: str | None = None
    reminders: tuple[ReminderSpec, ...] = ()
    status: str = "scheduled"
    version: int = 1
    updated_at: datetime | None = None
    time_zone: str | None = None  # IANA name; settled when the entry is scheduled (see ``placed_in_zone``)

    def people(self) -> list[str]:
        """Organizer first, then attendees, each once."""
        seen = [self.organizer_id] if self.organizer_id else []
        return seen + [a for a in self.attendee_ids if a not in seen]


class EntryRefused(Invalid):
    """An entry that cannot be: it ends before it starts, or names an unknown zone, or has a time without an
    offset and no zone to read it in."""

    title, slug = "Invalid calendar entry", "invalid-calendar-entry"


class EntryNotFound(NotFound):
    """No such entry in the tenant's calendar."""


class EntryConflict(Conflict):
    """The entry exists already, is cancelled, or changed since the caller read it."""


def end_of(start: datetime, end: datetime | None) -> datetime:
    final = end or start + DEFAULT_DURATION
    if final < start:
        raise EntryRefused("an entry ends after it starts")
    return final


def due_times(start: datetime, reminders: Iterable[ReminderSpec]) -> list[datetime]:
    """When each reminder is due, each time once, in order."""
    times = {
        spec.at if spec.at is not None else start - timedelta(minutes=spec.minutes_before or 0) for spec in reminders
    }
    return sorted(times)


def overlapping(entries: list[Entry]) -> set[str]:
    """Ids of entries that share some time with another of the list (touching ends do not overlap)."""
    ordered = sorted(entries, key=lambda e: (e.start, e.end))
    found: set[str] = set()
    latest: Entry | None = None
    for entry in ordered:
        if latest is not None and entry.start < latest.end:
            found.update((entry.entry_id, latest.entry_id))
        if latest is None or entry.end > latest.end:
            latest = entry
    return found


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name; any other name is refused."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EntryRefused(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Moscow'") from None


def placed_in_zone(entry: Entry, user_zone: str | None) -> Entry:
    """The entry with its zone settled (its own, else its organizer's, else UTC) and every time without an
    offset read as a wall-clock time of that zone. A time without an offset and no zone to read it in is
    refused rather than taken as UTC, which would silently shift it by the user's offset."""
    name = entry.time_zone or user_zone
    times = [entry.start, entry.end, *(r.at for r in entry.reminders if r.at is not None)]
    if name is None:
        if any(t.tzinfo is None for t in times):
            raise EntryRefused(
                "a time without an offset needs a time zone: send `time_zone`, or set yours in /v1/preferences"
            )
        name = "UTC"
    tz = zone(name)

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment

    reminders = tuple(r.model_copy(update={"at": local(r.at)}) if r.at is not None else r for r in entry.reminders)
    return replace(entry, start=local(entry.start), end=local(entry.end), reminders=reminders, time_zone=name)


_KINDS = {
    "en": {"call": "Call", "meeting": "Meeting", "reminder": "Reminder", "task": "Task", "other": "Event"},
    "ru": {"call": "Звонок", "meeting": "Встреча", "reminder": "Напоминание", "task": "Задача", "other": "Событие"},
}


def reminder_text(entry: Entry, language: str) -> tuple[str, str]:
    """Title and body of a reminder in the user's language (English unless Russian)."""
    local = entry.start.astimezone(zone(entry.time_zone or "UTC"))
    at = f"{local:%Y-%m-%d %H:%M} {entry.time_zone or 'UTC'}"
    kind = _KINDS["ru" if language == "ru" else "en"].get(entry.kind, entry.kind)
    if language == "ru":
        return f"Напоминание: {entry.title}", f"{kind} «{entry.title}» начнётся {at}."
    return f"Reminder: {entry.title}", f'{kind} "{entry.title}" starts at {at}.'
