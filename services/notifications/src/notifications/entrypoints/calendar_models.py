"""Response bodies of /v1/calendar: calendar entries and the secret feed URL."""

from __future__ import annotations

from typing import Annotated, Literal

from conveyor_contracts.notifications import CalendarEntryKind
from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import AfterValidator, ConfigDict, Field

from notifications.domain.calendar import EntryRefused, zone
from notifications.entrypoints.inbox_models import NotificationItemRef


def _known_zone(name: str) -> str:
    try:
        zone(name)
    except EntryRefused as refused:  # a 422 naming the field, as any other bad value
        raise ValueError(refused.detail) from None
    return name


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Moscow"], description="an IANA time zone name"),
    AfterValidator(_known_zone),
]


class CalendarReminderBefore(ApiModel):
    """A reminder due some minutes before the entry's start."""

    minutes_before: int


class CalendarReminderAt(ApiModel):
    """A reminder due at a fixed instant."""

    at: Timestamp


class CalendarEntry(ApiModel):
    """An entry of the caller's calendar (organised or attended)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "0b8e2f6a-5c1d-4e93-8f27-6a4d1c9b3e05",
                    "title": "Meeting ЖКХ «Дом-7»",
                    "description": "Terms of the service contract",
                    "kind": "meeting",
                    "start": "2026-12-08T10:00:00Z",
                    "end": "2026-12-08T11:00:00Z",
                    "organizer_id": "manager-1",
                    "attendee_ids": ["manager-2"],
                    "item": {"item_id": "3b0c6a52-4f7d-4d8e-a1c2-9e5b7f0d2a61", "entity_type_id": "company"},
                    "reminders": [{"minutes_before": 15}],
                    "time_zone": "Europe/Moscow",
                    "status": "scheduled",
                    "version": 1,
                    "overlaps": False,
                }
            ]
        },
    )

    id: str
    title: str
    description: str | None
    kind: CalendarEntryKind
    start: Timestamp
    end: Timestamp
    organizer_id: str | None = Field(description="who organises it (null for an entry booked by a robot or process)")
    attendee_ids: list[str]
    item: NotificationItemRef | None = Field(description="the item it is about, if any")
    reminders: list[CalendarReminderBefore | CalendarReminderAt] = Field(
        description="each either `minutes_before` the start or `at` a fixed instant"
    )
    time_zone: str = Field(
        description="the IANA zone the entry was made in (its own, else its organizer's, else UTC): the feed "
        "shows it in this zone, and a time sent without an offset is read in it"
    )
    status: Literal["scheduled", "cancelled"]
    version: int = Field(description="changes with every change: the `ETag`, sent as `If-Match` to change or cancel")
    overlaps: bool = Field(description="in a list: true when it shares time with another entry of the asked range")


class CalendarFeedUrl(ApiModel):
    """A new secret iCalendar feed URL, shown once."""

    url: str = Field(description="the feed to subscribe a calendar app to; the token in it is the credential")
    token: str
