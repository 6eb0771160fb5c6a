"""A user's calendar as an iCalendar (RFC 5545) document: events in their own zone, alarms, named people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta

from conveyor_contracts.notifications import ReminderSpec
from icalendar import Alarm, Calendar, Event, vCalAddress

from notifications.domain.calendar import Entry, zone


@dataclass(frozen=True, slots=True)
class Person:
    """Who an organizer or attendee is, as the directory copy knows them."""

    name: str | None = None
    email: str | None = None


@dataclass(slots=True)
class Feed:
    """One user's calendar as an iCalendar document."""

    user_id: str
    domain: str
    entries: list[Entry] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)

    def to_ical(self) -> bytes:
        calendar = Calendar()
        calendar.add("prodid", "-//Conveyor//notifications//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", f"Conveyor: {self.user_id}")
        for entry in self.entries:
            calendar.add_component(_event(entry, self.domain, self.people))
        if self.entries:
            # One VTIMEZONE per TZID used, built from the zoneinfo database (UTC needs none), spanning only the
            # feed's own dates: a definition back to 1970 lists every past rule change as RDATEs, which some
            # readers (vobject's, as its test found) get wrong, placing a Moscow 2026 time at +04:00.
            first = min(e.start for e in self.entries).date() - timedelta(days=1)
            last = max(e.end for e in self.entries).date() + timedelta(days=366)
            calendar.add_missing_timezones(first_date=first, last_date=last)
        return bytes(calendar.to_ical())


def _event(entry: Entry, domain: str, people: dict[str, Person]) -> Event:
    tz = zone(entry.time_zone or "UTC")
    event = Event()
    event.add("uid", f"{entry.entry_id}@{domain}")
    event.add("summary", entry.title)
    event.add("dtstart", entry.start.astimezone(tz))
    event.add("dtend", entry.end.astimezone(tz))
    event.add("dtstamp", (entry.updated_at or entry.start).astimezone(UTC))
    event.add("sequence", entry.version - 1)
    event.add("status", "CANCELLED" if entry.status == "cancelled" else "CONFIRMED")
    event.add("categories", [entry.kind.upper()])
    if entry.description:
        event.add("description", entry.description)
    if entry.organizer_id:
        event.add("organizer", _address(entry.organizer_id, people))
    for attendee in entry.attendee_ids:
        event.add("attendee", _address(attendee, people))
    if entry.item_id:
        event.add("x-conveyor-item", entry.item_id)
    for reminder in entry.reminders:
        event.add_component(_alarm(entry.title, reminder))
    return event


def _address(user_id: str, people: dict[str, Person]) -> vCalAddress:
    """``mailto:`` when the directory knows the address (what calendar apps match people by), else the user's URN;
    the display name as ``CN`` when known."""
    person = people.get(user_id, Person())
    address = vCalAddress(f"mailto:{person.email}" if person.email else f"urn:conveyor:user:{user_id}")
    if person.name:
        address.params["CN"] = person.name
    return address


def _alarm(title: str, reminder: ReminderSpec) -> Alarm:
    """A display alarm: relative to the start, or at an instant (which RFC 5545 wants in UTC)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    if reminder.at is not None:
        alarm.add("trigger", reminder.at.astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
    else:
        alarm.add("trigger", timedelta(minutes=-(reminder.minutes_before or 0)))
    return alarm
