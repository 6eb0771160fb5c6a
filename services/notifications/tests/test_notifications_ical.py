"""Unit specifications of the iCalendar feed and of entries' zones, each feed read by two independent parsers
(icalendar and vobject) so that neither one's leniency hides a malformed document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from conveyor_contracts.notifications import ReminderSpec
from icalendar import Calendar
from notifications.domain.calendar import Entry, EntryRefused, placed_in_zone, reminder_text
from notifications.domain.ical import Feed, Person


def _attendees(event: Any) -> list[Any]:
    """The event's ATTENDEE properties (icalendar types them as any property value)."""
    return list(event["attendee"])


pytestmark = pytest.mark.unit
MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2026, 12, 8, 10, 0, tzinfo=MOSCOW)  # 07:00 UTC


def _entry(**changes: object) -> Entry:
    values: dict[str, object] = {
        "entry_id": "e1",
        "title": "Call ЖКХ «Дом-7»",
        "kind": "call",
        "start": START.astimezone(UTC),  # stored as an instant, as PostgreSQL gives it back
        "end": (START + timedelta(hours=1)).astimezone(UTC),
        "organizer_id": "u1",
        "attendee_ids": ("u2", "u3"),
        "reminders": (ReminderSpec(minutes_before=15), ReminderSpec(at=datetime(2026, 12, 7, 18, 0, tzinfo=UTC))),
        "time_zone": "Europe/Moscow",
    }
    return Entry(**{**values, **changes})  # type: ignore[arg-type]


def _feed(*entries: Entry) -> bytes:
    people = {"u1": Person(name="Анна Петрова", email="anna@example.test"), "u2": Person(name="Boris Ivanov")}
    return Feed(user_id="u1", domain="conveyor.test", entries=list(entries), people=people).to_ical()


class TestFeedReadByIcalendar:
    def test_an_event_is_in_its_entrys_zone_with_that_zones_definition(self) -> None:
        parsed = Calendar.from_ical(_feed(_entry()))
        [event] = parsed.walk("VEVENT")
        [timezone] = parsed.walk("VTIMEZONE")
        assert str(timezone["tzid"]) == "Europe/Moscow"
        assert event["dtstart"].params["TZID"] == "Europe/Moscow"
        assert event.decoded("dtstart") == START and event.decoded("dtstart").utcoffset() == timedelta(hours=3)

    def test_each_reminder_is_an_alarm(self) -> None:
        [event] = Calendar.from_ical(_feed(_entry())).walk("VEVENT")
        triggers = [alarm.decoded("trigger") for alarm in event.walk("VALARM")]
        assert triggers == [timedelta(minutes=-15), datetime(2026, 12, 7, 18, 0, tzinfo=UTC)]
        assert {str(alarm["action"]) for alarm in event.walk("VALARM")} == {"DISPLAY"}

    def test_people_carry_their_names_and_addresses_when_the_directory_knows_them(self) -> None:
        [event] = Calendar.from_ical(_feed(_entry())).walk("VEVENT")
        assert str(event["organizer"]) == "mailto:anna@example.test"
        assert event["organizer"].params["CN"] == "Анна Петрова"
        attendees = {str(a): a.params.get("CN") for a in _attendees(event)}
        assert attendees == {"urn:conveyor:user:u2": "Boris Ivanov", "urn:conveyor:user:u3": None}

    def test_a_utc_entry_needs_no_zone_definition(self) -> None:
        parsed = Calendar.from_ical(_feed(_entry(time_zone="UTC")))
        [event] = parsed.walk("VEVENT")
        assert parsed.walk("VTIMEZONE") == [] and event.decoded("dtstart") == START


class TestFeedReadByVobject:
    def test_the_same_feed_reads_the_same_in_an_independent_parser(self) -> None:
        moved = _entry(entry_id="e2", time_zone="America/New_York", reminders=(), attendee_ids=())
        calendar = vobject.readOne(_feed(_entry(), moved).decode())
        first, second = calendar.vevent_list
        assert first.dtstart.value == START and first.dtstart.value.utcoffset() == timedelta(hours=3)
        assert second.dtstart.value == START and second.dtstart.value.utcoffset() == timedelta(hours=-5)
        assert sorted(tz.tzid.value for tz in calendar.vtimezone_list) == ["America/New_York", "Europe/Moscow"]
        assert [alarm.trigger.value for alarm in first.valarm_list] == [
            timedelta(minutes=-15),
            datetime(2026, 12, 7, 18, 0, tzinfo=UTC),
        ]
        assert first.organizer.params["CN"] == ["Анна Петрова"]
        assert [a.params.get("CN") for a in first.attendee_list] == [["Boris Ivanov"], None]
        assert first.summary.value == "Call ЖКХ «Дом-7»" and first.uid.value == "e1@conveyor.test"


class TestEntryZones:
    def test_a_time_without_an_offset_is_a_wall_clock_time_of_the_entrys_zone(self) -> None:
        naive = _entry(start=datetime(2026, 12, 8, 10, 0), end=datetime(2026, 12, 8, 11, 0), reminders=())
        placed = placed_in_zone(naive, user_zone="Asia/Tokyo")
        assert placed.start == START and placed.time_zone == "Europe/Moscow"

    def test_without_its_own_zone_an_entry_takes_its_organizers(self) -> None:
        naive = _entry(start=datetime(2026, 12, 8, 10, 0), end=datetime(2026, 12, 8, 11, 0), time_zone=None)
        placed = placed_in_zone(naive, user_zone="Europe/Moscow")
        assert placed.start == START and placed.time_zone == "Europe/Moscow"

    def test_a_time_without_an_offset_and_no_zone_at_all_is_refused_not_taken_as_utc(self) -> None:
        naive = _entry(start=datetime(2026, 12, 8, 10, 0), time_zone=None)
        with pytest.raises(EntryRefused, match="time zone"):
            placed_in_zone(naive, user_zone=None)

    def test_a_time_with_an_offset_and_no_zone_keeps_its_instant_and_shows_in_utc(self) -> None:
        placed = placed_in_zone(_entry(time_zone=None), user_zone=None)
        assert placed.start == START and placed.time_zone == "UTC"

    def test_an_unknown_zone_is_refused(self) -> None:
        with pytest.raises(EntryRefused, match="Mars/Olympus"):
            placed_in_zone(_entry(time_zone="Mars/Olympus"), user_zone=None)

    def test_a_reminder_tells_the_start_in_the_entrys_zone(self) -> None:
        assert reminder_text(_entry(), "en")[1] == 'Call "Call ЖКХ «Дом-7»" starts at 2026-12-08 10:00 Europe/Moscow.'
