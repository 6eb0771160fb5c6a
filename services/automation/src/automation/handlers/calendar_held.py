"""The "calendar entry held" trigger: the notifications service publishes no "held" event, so an entry
of an item counts as held when its end passes and it was not cancelled. Its scheduled/changed events
keep a copy and one durable timer at its end; a cancellation drops the timer."""

from __future__ import annotations

from conveyor_contracts import notifications
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore
from conveyor_timers import Timer, cancel_group, schedule

from automation.adapters import calendar_entries, items
from automation.handlers.triggers import fire_held_triggers
from automation.ports import Clock

HELD_TIMER = "entry_held"


def _group(tenant_id: str, entry_id: str) -> str:
    return f"entry:{tenant_id}:{entry_id}"


async def when_calendar_entry_scheduled_wait_for_its_end(conn: Connection, store: EventStore, event: Envelope) -> None:
    """Scheduled or changed (the whole new state): keep the copy; one timer at the (new) end."""
    entry = notifications.CalendarEntryChanged.model_validate(event.data)
    if entry.item is None:
        return
    await calendar_entries.save(
        conn, event.tenant_id,
        calendar_entries.Entry(entry.entry_id, entry.item.item_id, entry.kind, entry.end, cancelled=False),
    )  # fmt: skip
    group = _group(event.tenant_id, entry.entry_id)
    await cancel_group(conn, event.tenant_id, group)
    await schedule(
        conn, event.tenant_id, f"held:{event.tenant_id}:{entry.entry_id}:{entry.end.isoformat()}", entry.end,
        {"entry_id": entry.entry_id}, kind=HELD_TIMER, group=group,
    )  # fmt: skip


async def when_calendar_entry_cancelled_it_is_not_held(conn: Connection, store: EventStore, event: Envelope) -> None:
    cancelled = notifications.CalendarEntryCancelled.model_validate(event.data)
    await calendar_entries.cancel(conn, event.tenant_id, cancelled.entry_id)
    await cancel_group(conn, event.tenant_id, _group(event.tenant_id, cancelled.entry_id))


async def entry_ended(conn: Connection, store: EventStore, clock: Clock, timer: Timer) -> None:
    """The timer at an entry's end: held unless cancelled (or moved later meanwhile)."""
    now = clock.now()
    entry = await calendar_entries.load(conn, timer.tenant_id, timer.payload["entry_id"])
    if entry is None or entry.cancelled or entry.end_at > now:
        return
    item = await items.load(conn, timer.tenant_id, entry.item_id)
    if item is None:
        return
    await fire_held_triggers(
        conn, store, timer.tenant_id, item, entry_id=entry.entry_id, entry_kind=entry.kind, now=now
    )  # fmt: skip
