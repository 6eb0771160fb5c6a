"""deliver: one notification to one user, through the channels they chose for its kind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from conveyor_contracts.notifications import ItemRef, NotificationCreated
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from notifications.adapters import inbox, outbound, people
from notifications.domain.preferences import Channel, channels_for


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    title: str
    body: str
    html: str | None = None
    item: ItemRef | None = None
    source: str | None = None  # what caused it: a command's key, a reminder, an event id


async def deliver(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    recipient_id: str,
    message: Message,
    actor: Actor,
    now: datetime,
    notification_id: str | None = None,
) -> list[Channel]:
    """In-app and/or e-mail per the recipient's preferences, in the caller's transaction; returns the channels used."""
    prefs = await people.preferences(conn, tenant_id, recipient_id)
    channels = channels_for(prefs["channels"], message.kind)
    used: list[Channel] = []
    notification_id = notification_id or str(uuid.uuid4())
    if "in_app" in channels:
        await inbox.add(
            conn,
            tenant_id=tenant_id,
            notification_id=notification_id,
            recipient_id=recipient_id,
            kind=message.kind,
            title=message.title,
            body=message.body,
            item_id=message.item.item_id if message.item else None,
            entity_type_id=message.item.entity_type_id if message.item else None,
            source=message.source,
            now=now,
        )
        created = NotificationCreated(
            notification_id=notification_id,
            recipient_id=recipient_id,
            kind=message.kind,
            title=message.title,
            body=message.body,
            item=message.item,
            source=message.source,
        )
        await store.append(
            conn,
            stream_id=f"notification-{notification_id}",
            tenant_id=tenant_id,
            aggregate_type="notification",
            expected_version=NO_STREAM,
            events=[NewEvent.of(created, occurred_at=now)],
            actor=actor,
        )
        used.append("in_app")
    address = await people.email_of(conn, tenant_id, recipient_id) if "email" in channels else None
    if address:
        await outbound.enqueue_email(
            conn,
            tenant_id=tenant_id,
            email_id=f"{notification_id}-email",
            recipients=[address],
            subject=message.title,
            text=message.body,
            html=message.html,
            source=message.source,
            now=now,
            notifies=(recipient_id, message.kind),
        )
        used.append("email")
    return used
