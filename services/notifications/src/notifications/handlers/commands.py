"""Reactions to the commands robots and processes send: notify, e-mail, calendar entries, webhook calls."""

from __future__ import annotations

import uuid

import structlog
from conveyor_contracts.notifications import (
    CallWebhook,
    CancelCalendarEntry,
    CommandRejected,
    CreateCalendarEntry,
    Notify,
    SendEmail,
    UpdateCalendarEntry,
    calendar_entry_id_for,
)
from conveyor_kit.domain_errors import DomainError
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from notifications.adapters import outbound, people, templates_repo
from notifications.domain.calendar import DEFAULT_DURATION, Entry
from notifications.domain.templates import TemplateRefused, render
from notifications.handlers.calendar_entries import cancel_entry, change_entry, schedule_entry
from notifications.handlers.deliver import Message, deliver

log = structlog.get_logger(__name__)


async def _first_time(conn: Connection, event: Envelope, key: str) -> bool:
    if await people.first_time(conn, event.tenant_id, key, event.type, event.time):
        return True
    log.info("command_repeated", key=key, command_type=event.type)
    return False


async def _reject(conn: Connection, store: EventStore, event: Envelope, key: str, reason: str) -> None:
    log.warning("command_rejected", key=key, command_type=event.type, reason=reason)
    await store.append(
        conn,
        stream_id=f"command-rejected-{key}",
        tenant_id=event.tenant_id,
        aggregate_type="command",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(CommandRejected(idempotency_key=key, command_type=event.type, reason=reason))],
        actor=event.actor,
        now=event.time,  # the command's time, i.e. the sender's clock
    )


async def when_notify_commanded_notify_users(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = Notify.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    template = await templates_repo.load(conn, event.tenant_id, command.template_id) if command.template_id else None
    if command.template_id and template is None:
        return await _reject(conn, store, event, command.idempotency_key, f"unknown template {command.template_id}")
    for index, recipient in enumerate(dict.fromkeys(command.recipient_ids)):
        html = None
        if template is not None:
            language = command.language or (await people.preferences(conn, event.tenant_id, recipient))["language"]
            try:
                rendered = render(template["variants"], language, command.variables)
            except TemplateRefused as refused:
                return await _reject(conn, store, event, command.idempotency_key, str(refused))
            title, body, html = rendered.subject, rendered.text, rendered.html
        else:
            title, body = command.title or "", command.body or ""
        message = Message(
            kind=command.kind, title=title, body=body, html=html, item=command.item, source=command.idempotency_key
        )
        notification_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.tenant_id}:{command.idempotency_key}:{index}"))
        await deliver(
            conn,
            store,
            tenant_id=event.tenant_id,
            recipient_id=recipient,
            message=message,
            actor=event.actor,
            now=event.time,
            notification_id=notification_id,
        )


async def when_email_commanded_send_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = SendEmail.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    if command.template_id:
        template = await templates_repo.load(conn, event.tenant_id, command.template_id)
        if template is None:
            return await _reject(conn, store, event, command.idempotency_key, f"unknown template {command.template_id}")
        try:
            rendered = render(template["variants"], command.language, command.variables)
        except TemplateRefused as refused:
            return await _reject(conn, store, event, command.idempotency_key, str(refused))
        subject, text, html = rendered.subject, rendered.text, rendered.html
    else:
        subject, text, html = command.subject or "", command.body_text or "", command.body_html
    addresses = list(command.to_addresses)
    for user_id in command.to_user_ids:
        address = await people.email_of(conn, event.tenant_id, user_id)
        if address:
            addresses.append(address)
    if not addresses:
        return await _reject(conn, store, event, command.idempotency_key, "no recipient has an e-mail address")
    email_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.tenant_id}:email:{command.idempotency_key}"))
    await outbound.enqueue_email(
        conn,
        tenant_id=event.tenant_id,
        email_id=email_id,
        recipients=list(dict.fromkeys(addresses)),
        subject=subject,
        text=text,
        html=html,
        source=command.idempotency_key,
        now=event.time,
    )


async def when_calendar_entry_commanded_schedule_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = CreateCalendarEntry.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    entry = Entry(
        entry_id=command.entry_id or calendar_entry_id_for(event.tenant_id, command.idempotency_key),
        title=command.title,
        kind=command.kind,
        start=command.start,
        end=command.end or command.start + DEFAULT_DURATION,
        description=command.description,
        organizer_id=command.organizer_id,
        attendee_ids=tuple(command.attendee_ids),
        item_id=command.item.item_id if command.item else None,
        entity_type_id=command.item.entity_type_id if command.item else None,
        reminders=tuple(command.reminders),
        time_zone=command.time_zone,
    )
    try:
        await schedule_entry(conn, store, tenant_id=event.tenant_id, entry=entry, actor=event.actor, now=event.time)
    except DomainError as refused:
        await _reject(conn, store, event, command.idempotency_key, refused.detail)


async def when_calendar_entry_change_commanded_change_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = UpdateCalendarEntry.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    changes = command.model_dump(exclude={"idempotency_key", "entry_id"}, exclude_none=True)
    if command.reminders is not None:
        changes["reminders"] = command.reminders
    try:
        await change_entry(
            conn,
            store,
            tenant_id=event.tenant_id,
            entry_id=command.entry_id,
            changes=changes,
            actor=event.actor,
            now=event.time,
        )
    except DomainError as refused:
        await _reject(conn, store, event, command.idempotency_key, refused.detail)


async def when_calendar_entry_cancel_commanded_cancel_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = CancelCalendarEntry.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    try:
        await cancel_entry(
            conn,
            store,
            tenant_id=event.tenant_id,
            entry_id=command.entry_id,
            reason=command.reason,
            actor=event.actor,
            now=event.time,
        )
    except DomainError as refused:
        await _reject(conn, store, event, command.idempotency_key, refused.detail)


async def when_webhook_call_commanded_queue_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    command = CallWebhook.model_validate(event.data)
    if not await _first_time(conn, event, command.idempotency_key):
        return
    settings = await people.tenant_settings(conn, event.tenant_id)
    delivery_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.tenant_id}:webhook:{command.idempotency_key}"))
    await outbound.enqueue_delivery(
        conn,
        tenant_id=event.tenant_id,
        delivery_id=delivery_id,
        subscription_id=None,
        url=command.url,
        event_type=event.type,
        payload=command.payload,
        secret=settings["webhook_secret"],
        now=event.time,
        source=command.idempotency_key,
    )
