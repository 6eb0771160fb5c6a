"""Events the notifications service publishes (`conveyor.notifications.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is the
summary shown in docs/asyncapi.yaml. Commands other services (robots, business processes) send to
the notifications service are contracts too: the sender appends them to its own outbox, on a
stream such as ``command-<idempotency key>``, and a repeated idempotency key does nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from conveyor_messaging.contracts import EventContract
from pydantic import BaseModel, ConfigDict, Field, model_validator

CalendarEntryKind = Literal["call", "meeting", "reminder", "task", "other"]
Language = Literal["en", "ru"]


class ItemRef(BaseModel):
    """The item a notification or a calendar entry is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    entity_type_id: str | None = None


class ReminderSpec(BaseModel):
    """When to remind: ``minutes_before`` the entry's start, or ``at`` a fixed time (exactly one)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    minutes_before: int | None = Field(default=None, ge=0, le=60 * 24 * 60)
    at: datetime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReminderSpec:
        if (self.minutes_before is None) == (self.at is None):
            raise ValueError("a reminder is either minutes_before or at")
        return self


# ---------------------------------------------------------------- commands to the notifications service


class NotificationCommand(EventContract):
    """Base of commands to the notifications service; a repeated idempotency key does nothing twice."""

    idempotency_key: str = Field(min_length=1, max_length=200)


class Notify(NotificationCommand, type_name="conveyor.notifications.notification_command.notify.v1"):
    """Command: notify users through the channels each has chosen for this kind of notification.

    Either ``title`` (and ``body``) or ``template_id`` with ``variables``; a template is rendered in
    each recipient's language unless ``language`` is given.
    """

    recipient_ids: list[str] = Field(min_length=1, max_length=1000)
    kind: str = Field(default="general", min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=20000)
    template_id: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    language: Language | None = None
    item: ItemRef | None = None

    @model_validator(mode="after")
    def _text_or_template(self) -> Notify:
        if (self.title is None) == (self.template_id is None):
            raise ValueError("give a title or a template_id")
        return self


class SendEmail(NotificationCommand, type_name="conveyor.notifications.email_command.send.v1"):
    """Command: send an e-mail to users (their directory address) and/or plain addresses.

    Either ``subject`` with ``body_text`` (and optionally ``body_html``), or ``template_id`` with
    ``variables`` rendered in ``language``.
    """

    to_user_ids: list[str] = Field(default_factory=list, max_length=1000)
    to_addresses: list[str] = Field(default_factory=list, max_length=1000)
    subject: str | None = Field(default=None, max_length=500)
    body_text: str | None = None
    body_html: str | None = None
    template_id: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    language: Language = "en"
    item: ItemRef | None = None

    @model_validator(mode="after")
    def _addressed_and_written(self) -> SendEmail:
        if not self.to_user_ids and not self.to_addresses:
            raise ValueError("give to_user_ids or to_addresses")
        if (self.subject is None) == (self.template_id is None):
            raise ValueError("give a subject or a template_id")
        return self


class CreateCalendarEntry(NotificationCommand, type_name="conveyor.notifications.calendar_command.create_entry.v1"):
    """Command: put an entry (call, meeting, reminder) in the calendars of its organizer and attendees.

    Without ``entry_id`` the entry's id is derived from the tenant and the idempotency key
    (``calendar_entry_id_for``), so the sender knows it in advance to update or cancel it later.
    """

    entry_id: str | None = None
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20000)
    kind: CalendarEntryKind = "meeting"
    start: datetime
    end: datetime | None = None  # defaults to start + 30 minutes
    organizer_id: str | None = None
    attendee_ids: list[str] = Field(default_factory=list, max_length=500)
    item: ItemRef | None = None
    reminders: list[ReminderSpec] = Field(default_factory=list, max_length=20)
    # IANA name; without it the organizer's zone. A time without an offset is read in that zone (refused
    # when there is none).
    time_zone: str | None = Field(default=None, max_length=64)


class UpdateCalendarEntry(NotificationCommand, type_name="conveyor.notifications.calendar_command.update_entry.v1"):
    """Command: change an entry; only the fields given change. Its reminders move with it."""

    entry_id: str
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    kind: CalendarEntryKind | None = None
    start: datetime | None = None
    end: datetime | None = None
    attendee_ids: list[str] | None = None
    reminders: list[ReminderSpec] | None = None
    time_zone: str | None = Field(default=None, max_length=64)


class CancelCalendarEntry(NotificationCommand, type_name="conveyor.notifications.calendar_command.cancel_entry.v1"):
    """Command: cancel an entry; its pending reminders are dropped."""

    entry_id: str
    reason: str | None = None


class CallWebhook(NotificationCommand, type_name="conveyor.notifications.webhook_command.call.v1"):
    """Command: POST a JSON payload to a URL, signed with the tenant's outgoing-webhook secret, with retries."""

    url: str = Field(min_length=1, max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict)


class CommandRejected(EventContract, type_name="conveyor.notifications.command.rejected.v1"):
    """A command could not be carried out (unknown entry, unknown template, bad URL...); nothing changed."""

    idempotency_key: str
    command_type: str
    reason: str


# ---------------------------------------------------------------- notifications


class NotificationCreated(EventContract, type_name="conveyor.notifications.notification.created.v1"):
    """A notification reached a user's in-app inbox."""

    notification_id: str
    recipient_id: str
    kind: str
    title: str
    body: str
    item: ItemRef | None = None
    source: str | None = None  # the command's idempotency key, the reminder or the event that caused it


class NotificationsRead(EventContract, type_name="conveyor.notifications.notification.read.v1"):
    """A user marked notifications read (``all_before`` when they marked everything)."""

    recipient_id: str
    notification_ids: list[str]
    all_before: datetime | None = None


class EmailSent(EventContract, type_name="conveyor.notifications.email.sent.v1"):
    """An e-mail was accepted by the SMTP server."""

    email_id: str
    to: list[str]
    subject: str
    source: str | None = None  # the idempotency key of the command (SendEmail, Notify) that asked for it


class EmailFailed(EventContract, type_name="conveyor.notifications.email.failed.v1"):
    """An e-mail could not be delivered to the SMTP server."""

    email_id: str
    to: list[str]
    subject: str
    error: str
    source: str | None = None


# ---------------------------------------------------------------- calendar


class CalendarEntryScheduled(EventContract, type_name="conveyor.notifications.calendar_entry.scheduled.v1"):
    """A calendar entry was created, by a user or a command; the entry as it is now."""

    entry_id: str
    title: str
    description: str | None = None
    kind: CalendarEntryKind
    start: datetime
    end: datetime
    organizer_id: str | None = None
    attendee_ids: list[str] = Field(default_factory=list)
    item: ItemRef | None = None
    reminders: list[ReminderSpec] = Field(default_factory=list)
    time_zone: str | None = None  # the entry's IANA zone (absent from events recorded before zones)


class CalendarEntryChanged(EventContract, type_name="conveyor.notifications.calendar_entry.changed.v1"):
    """A calendar entry changed; the entry as it is now."""

    entry_id: str
    title: str
    description: str | None = None
    kind: CalendarEntryKind
    start: datetime
    end: datetime
    organizer_id: str | None = None
    attendee_ids: list[str] = Field(default_factory=list)
    item: ItemRef | None = None
    reminders: list[ReminderSpec] = Field(default_factory=list)
    time_zone: str | None = None  # the entry's IANA zone (absent from events recorded before zones)


class CalendarEntryCancelled(EventContract, type_name="conveyor.notifications.calendar_entry.cancelled.v1"):
    """A calendar entry was cancelled."""

    entry_id: str
    reason: str | None = None


class ReminderSent(EventContract, type_name="conveyor.notifications.calendar_entry.reminder_sent.v1"):
    """A reminder of a calendar entry was delivered to a user (once per reminder and user)."""

    entry_id: str
    recipient_id: str
    due_at: datetime
    channels: list[str]


# ---------------------------------------------------------------- outgoing webhooks


class WebhookDelivered(EventContract, type_name="conveyor.notifications.webhook.delivered.v1"):
    """An outgoing webhook call was answered with a 2xx status."""

    delivery_id: str
    subscription_id: str | None
    url: str
    attempts: int
    status_code: int
    source: str | None = None  # the idempotency key of the CallWebhook command that asked for the call


class WebhookFailed(EventContract, type_name="conveyor.notifications.webhook.failed.v1"):
    """An outgoing webhook call failed on every attempt and was given up."""

    delivery_id: str
    subscription_id: str | None
    url: str
    attempts: int
    error: str
    source: str | None = None  # the idempotency key of the CallWebhook command that asked for the call


class WebhookSubscriptionDisabled(EventContract, type_name="conveyor.notifications.webhook.subscription_disabled.v1"):
    """A webhook subscription was disabled after repeated failed deliveries."""

    subscription_id: str
    url: str
    consecutive_failures: int


def calendar_entry_id_for(tenant_id: str, idempotency_key: str) -> str:
    """The id a CreateCalendarEntry without ``entry_id`` gives its entry (stable per tenant and key)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"conveyor:{tenant_id}:calendar-entry:{idempotency_key}"))
