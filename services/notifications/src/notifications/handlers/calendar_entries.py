"""schedule_entry, change_entry, cancel_entry: the calendar's commands, from users and from robots alike."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from conveyor_contracts.notifications import (
    CalendarEntryCancelled,
    CalendarEntryChanged,
    CalendarEntryScheduled,
    ItemRef,
)
from conveyor_kit.domain_errors import StaleVersion
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from notifications.adapters import calendar_repo, people
from notifications.domain.calendar import Entry, EntryConflict, EntryNotFound, end_of, placed_in_zone
from notifications.handlers.reminders import plan_reminders


def _snapshot(entry: Entry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "title": entry.title,
        "description": entry.description,
        "kind": entry.kind,
        "start": entry.start,
        "end": entry.end,
        "organizer_id": entry.organizer_id,
        "attendee_ids": list(entry.attendee_ids),
        "item": ItemRef(item_id=entry.item_id, entity_type_id=entry.entity_type_id) if entry.item_id else None,
        "reminders": list(entry.reminders),
        "time_zone": entry.time_zone,
    }


async def _record(
    conn: Connection, store: EventStore, tenant_id: str, entry: Entry, event: Any, actor: Actor, now: datetime
) -> None:
    await calendar_repo.save(conn, tenant_id, entry, now)
    await plan_reminders(conn, tenant_id, entry)
    await store.append(
        conn,
        stream_id=f"calendar-entry-{entry.entry_id}",
        tenant_id=tenant_id,
        aggregate_type="calendar_entry",
        expected_version=entry.version - 1 if entry.version > 1 else NO_STREAM,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=actor,
    )


def _check_version(current: Entry, expected_version: int | None) -> None:
    """A write made on a version the caller read: stale when the entry changed since (None: no expectation)."""
    if expected_version is not None and expected_version != current.version:
        raise StaleVersion(
            f"calendar entry {current.entry_id} is at version {current.version}",
            expected=expected_version,
            current=current.version,
        )


async def schedule_entry(
    conn: Connection, store: EventStore, *, tenant_id: str, entry: Entry, actor: Actor, now: datetime
) -> Entry:
    """A new entry with its reminders, in its own zone or its organizer's; an id already taken is a conflict."""
    entry = placed_in_zone(entry, await people.time_zone_of(conn, tenant_id, entry.organizer_id))
    entry = dataclasses.replace(entry, end=end_of(entry.start, entry.end), version=1, updated_at=now)
    if await calendar_repo.load(conn, tenant_id, entry.entry_id) is not None:
        raise EntryConflict(f"calendar entry {entry.entry_id} already exists")
    await _record(conn, store, tenant_id, entry, CalendarEntryScheduled(**_snapshot(entry)), actor, now)
    return entry


async def change_entry(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    entry_id: str,
    changes: dict[str, Any],
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Entry:
    """Change the given fields; pending reminders move with the entry's start. A new zone keeps the instants
    (only how they are shown changes); a time without an offset is read in the entry's zone, the new one if given."""
    current = await calendar_repo.load(conn, tenant_id, entry_id, for_update=True)
    if current is None:
        raise EntryNotFound(f"calendar entry {entry_id}")
    if current.status == "cancelled":
        raise EntryConflict(f"calendar entry {entry_id} is cancelled")
    _check_version(current, expected_version)
    values = {k: v for k, v in changes.items() if v is not None}
    if "attendee_ids" in values:
        values["attendee_ids"] = tuple(values["attendee_ids"])
    if "reminders" in values:
        values["reminders"] = tuple(values["reminders"])
    entry = placed_in_zone(dataclasses.replace(current, **values), current.time_zone)
    if "start" in values and "end" not in values:  # a moved entry keeps its length
        entry = dataclasses.replace(entry, end=entry.start + (current.end - current.start))
    entry = dataclasses.replace(entry, end=end_of(entry.start, entry.end), version=current.version + 1, updated_at=now)
    await _record(conn, store, tenant_id, entry, CalendarEntryChanged(**_snapshot(entry)), actor, now)
    return entry


async def cancel_entry(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    entry_id: str,
    reason: str | None,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> Entry:
    """Cancel an entry (it stays in feeds as CANCELLED so calendars drop it); pending reminders are dropped.
    Cancelling a cancelled entry changes nothing, unless the caller's version is stale."""
    current = await calendar_repo.load(conn, tenant_id, entry_id, for_update=True)
    if current is None:
        raise EntryNotFound(f"calendar entry {entry_id}")
    _check_version(current, expected_version)
    if current.status == "cancelled":
        return current
    entry = dataclasses.replace(current, status="cancelled", version=current.version + 1, updated_at=now)
    event = CalendarEntryCancelled(entry_id=entry_id, reason=reason)
    await _record(conn, store, tenant_id, entry, event, actor, now)
    return entry
