"""Reminders as durable timers: planned with their entry, moved or dropped when it changes, fired once each."""

from __future__ import annotations

from datetime import datetime

import structlog
from conveyor_contracts.notifications import ItemRef, ReminderSent
from conveyor_kit.clock import Clock
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent
from conveyor_timers import Timer, TimerHandler, cancel_group, reschedule

from notifications.adapters import calendar_repo, people
from notifications.domain.calendar import Entry, due_times, reminder_text
from notifications.handlers.deliver import Message, deliver

log = structlog.get_logger(__name__)
KIND = "notifications.reminder"
REMINDERS = Actor.system("reminders")


def _group(entry_id: str) -> str:
    return f"calendar-entry:{entry_id}"


def _key(tenant_id: str, entry_id: str, recipient_id: str, due_at: datetime) -> str:
    # One key per person and due time: a fired key stays fired, so nobody is reminded of one moment twice.
    return f"notifications:reminder:{tenant_id}:{entry_id}:{recipient_id}:{due_at.isoformat()}"


async def plan_reminders(conn: Connection, tenant_id: str, entry: Entry) -> None:
    """Drop the entry's pending reminders, then (re)schedule those it wants now; cancelled entries want none."""
    await cancel_group(conn, tenant_id, _group(entry.entry_id))
    if entry.status == "cancelled":
        return
    for due_at in due_times(entry.start, entry.reminders):
        for person in entry.people():
            payload = {"entry_id": entry.entry_id, "recipient_id": person}
            await reschedule(
                conn,
                tenant_id,
                _key(tenant_id, entry.entry_id, person, due_at),
                due_at,
                payload,
                kind=KIND,
                group=_group(entry.entry_id),
            )


def reminder_handler(store: EventStore, clock: Clock) -> TimerHandler:
    """The timer worker's handler: deliver through the person's channels, in the transaction that fires the timer."""

    async def fire_reminder(conn: Connection, timer: Timer) -> None:
        entry = await calendar_repo.load(conn, timer.tenant_id, timer.payload["entry_id"])
        if entry is None or entry.status == "cancelled":
            return
        now, recipient = clock.now(), timer.payload["recipient_id"]
        language = (await people.preferences(conn, timer.tenant_id, recipient))["language"]
        title, body = reminder_text(entry, language)
        message = Message(
            kind="reminder",
            title=title,
            body=body,
            item=ItemRef(item_id=entry.item_id, entity_type_id=entry.entity_type_id) if entry.item_id else None,
            source=f"reminder:{entry.entry_id}:{timer.due_at.isoformat()}",
        )
        channels = await deliver(
            conn, store, tenant_id=timer.tenant_id, recipient_id=recipient, message=message, actor=REMINDERS, now=now
        )
        sent = ReminderSent(
            entry_id=entry.entry_id, recipient_id=recipient, due_at=timer.due_at, channels=list(channels)
        )
        await store.append(
            conn,
            stream_id=f"calendar-reminders-{entry.entry_id}",
            tenant_id=timer.tenant_id,
            aggregate_type="calendar_entry",
            expected_version=ANY_VERSION,
            events=[NewEvent.of(sent, occurred_at=now)],
            actor=REMINDERS,
        )
        log.info("reminder_sent", entry_id=entry.entry_id, lag_ms=(now - timer.due_at).total_seconds() * 1000)

    return fire_reminder
