"""Calendar entries: who sees them, when their reminders are due, which overlap, and how they look in iCalendar."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from conveyor_contracts.notifications import ReminderSpec
from conveyor_kit.domain_errors import Conflict, Invalid, NotFound
from icalendar import Calendar, Event, vCalAddress

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

    def people(self) -> list[str]:
        """Organizer first, then attendees, each once."""
        seen = [self.organizer_id] if self.organizer_id else []
        return seen + [a for a in self.attendee_ids if a not in seen]


class EntryRefused(Invalid):
    """An entry that cannot be: it ends before it starts."""

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


@dataclass(slots=True)
class Feed:
    """One user's calendar as an iCalendar document."""

    user_id: str
    domain: str
    entries: list[Entry] = field(default_factory=list)

    def to_ical(self) -> bytes:
        calendar = Calendar()
        calendar.add("prodid", "-//Conveyor//notifications//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", f"Conveyor: {self.user_id}")
        for entry in self.entries:
            calendar.add_component(_event(entry, self.domain))
        return bytes(calendar.to_ical())


def _event(entry: Entry, domain: str) -> Event:
    event = Event()
    event.add("uid", f"{entry.entry_id}@{domain}")
    event.add("summary", entry.title)
    event.add("dtstart", entry.start)
    event.add("dtend", entry.end)
    event.add("dtstamp", entry.updated_at or entry.start)
    event.add("sequence", entry.version - 1)
    event.add("status", "CANCELLED" if entry.status == "cancelled" else "CONFIRMED")
    event.add("categories", [entry.kind.upper()])
    if entry.description:
        event.add("description", entry.description)
    if entry.organizer_id:
        event.add("organizer", vCalAddress(f"urn:conveyor:user:{entry.organizer_id}"))
    for attendee in entry.attendee_ids:
        event.add("attendee", vCalAddress(f"urn:conveyor:user:{attendee}"))
    if entry.item_id:
        event.add("x-conveyor-item", entry.item_id)
    return event


_KINDS = {
    "en": {"call": "Call", "meeting": "Meeting", "reminder": "Reminder", "task": "Task", "other": "Event"},
    "ru": {"call": "Звонок", "meeting": "Встреча", "reminder": "Напоминание", "task": "Задача", "other": "Событие"},
}


def reminder_text(entry: Entry, language: str) -> tuple[str, str]:
    """Title and body of a reminder in the user's language (English unless Russian)."""
    at = entry.start.strftime("%Y-%m-%d %H:%M UTC")
    kind = _KINDS["ru" if language == "ru" else "en"].get(entry.kind, entry.kind)
    if language == "ru":
        return f"Напоминание: {entry.title}", f"{kind} «{entry.title}» начнётся {at}."
    return f"Reminder: {entry.title}", f'{kind} "{entry.title}" starts at {at}.'
