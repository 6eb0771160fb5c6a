"""Change a tenant's work calendar; the change is recorded as an event with the calendar as it is now.

Timers already set keep their due time: a robot "two working hours after entry" that was scheduled
before the change fires when it was due then, as a changed robot's pending runs do."""

from __future__ import annotations

from datetime import datetime

from conveyor_contracts.automation import WorkCalendarSaved
from conveyor_kit.domain_errors import StaleVersion
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore, NewEvent

from automation.adapters import work_calendars
from automation.domain.work_calendar import WorkCalendar


async def save_work_calendar(
    conn: Connection, store: EventStore, *, tenant_id: str, calendar: WorkCalendar, expected_version: int | None,
    actor: Actor, now: datetime,
) -> work_calendars.SavedCalendar:  # fmt: skip
    """Replace the tenant's calendar, if it is still at ``expected_version`` (0: never saved; None: any)."""
    current = await work_calendars.load(conn, tenant_id, lock=True)
    if expected_version is not None and expected_version != current.version:
        raise StaleVersion(
            f"the work calendar is at version {current.version}, not {expected_version}",
            expected=expected_version, current=current.version,
        )  # fmt: skip
    version = current.version + 1
    await work_calendars.save(conn, tenant_id, calendar, version, now)
    dumped = calendar.model_dump(mode="json")
    saved = WorkCalendarSaved(version=version, **dumped)
    await store.append(
        conn, stream_id=f"work-calendar-{tenant_id}", tenant_id=tenant_id, aggregate_type="work_calendar",
        expected_version=current.version, events=[NewEvent.of(saved)], actor=actor, now=now,
    )  # fmt: skip
    return work_calendars.SavedCalendar(calendar, version, now)
