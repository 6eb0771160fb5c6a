"""The workers' rounds: due reminders delivered through each user's channels, queued e-mails sent over SMTP."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import structlog
from conveyor_contracts.notifications import EmailFailed, EmailSent, ItemRef, ReminderSent
from conveyor_kit.clock import Clock
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from notifications.adapters import calendar_repo, outbound, smtp
from notifications.config import Settings
from notifications.handlers.deliver import Message, deliver

log = structlog.get_logger(__name__)
REMINDERS = Actor.system("reminders")
MAILER = Actor.system("mailer")


async def send_due_reminders(pool: asyncpg.Pool, store: EventStore, clock: Clock) -> int:
    """Each due reminder is marked sent and delivered in one transaction, so it is sent once."""
    async with pool.acquire() as conn, conn.transaction():
        now = clock.now()
        due = await calendar_repo.claim_due_reminders(conn, now)
        for reminder in due:
            entry = await calendar_repo.load(conn, reminder["tenant_id"], reminder["entry_id"])
            if entry is None or entry.status == "cancelled":
                continue
            at = entry.start.strftime("%Y-%m-%d %H:%M UTC")
            message = Message(
                kind="reminder",
                title=f"Reminder: {entry.title}",
                body=f'{entry.kind.capitalize()} "{entry.title}" starts at {at}.',
                item=ItemRef(item_id=entry.item_id, entity_type_id=entry.entity_type_id) if entry.item_id else None,
                source=f"reminder:{entry.entry_id}:{reminder['due_at'].isoformat()}",
            )
            channels = await deliver(
                conn,
                store,
                tenant_id=reminder["tenant_id"],
                recipient_id=reminder["recipient_id"],
                message=message,
                actor=REMINDERS,
                now=now,
            )
            sent = ReminderSent(
                entry_id=entry.entry_id,
                recipient_id=reminder["recipient_id"],
                due_at=reminder["due_at"],
                channels=list(channels),
            )
            await store.append(
                conn,
                stream_id=f"calendar-reminders-{entry.entry_id}",
                tenant_id=reminder["tenant_id"],
                aggregate_type="calendar_entry",
                expected_version=ANY_VERSION,
                events=[NewEvent.of(sent, occurred_at=now)],
                actor=REMINDERS,
            )
            log.info("reminder_sent", entry_id=entry.entry_id, lag_ms=(now - reminder["due_at"]).total_seconds() * 1000)
    return len(due)


async def send_due_emails(pool: asyncpg.Pool, store: EventStore, settings: Settings, clock: Clock) -> int:
    """Claimed e-mails are sent outside any transaction; failures wait and retry, then give up."""
    async with pool.acquire() as conn, conn.transaction():
        due = await outbound.claim_emails(conn, clock.now())
    for email in due:
        mail = smtp.message(
            settings,
            to=list(email["recipients"]),
            subject=email["subject"],
            text=email["body_text"],
            html=email["body_html"],
        )
        error: str | None = None
        try:
            await smtp.send(settings, mail)
        except Exception as failure:  # any SMTP or network error is retried
            error = f"{type(failure).__name__}: {failure}"
        async with pool.acquire() as conn, conn.transaction():
            tenant, email_id, now = email["tenant_id"], email["email_id"], clock.now()
            event: EmailSent | EmailFailed | None = None
            if error is None:
                await outbound.finish_email(conn, tenant, email_id, status="sent", error=None, at=now)
                event = EmailSent(
                    email_id=email_id, to=list(email["recipients"]), subject=email["subject"], source=email["source"]
                )
            elif email["attempts"] >= settings.email_max_attempts:
                await outbound.finish_email(conn, tenant, email_id, status="failed", error=error, at=now)
                event = EmailFailed(
                    email_id=email_id,
                    to=list(email["recipients"]),
                    subject=email["subject"],
                    error=error,
                    source=email["source"],
                )
            else:
                retry_at = now + timedelta(seconds=5 * 2 ** (email["attempts"] - 1))
                await outbound.finish_email(conn, tenant, email_id, status="pending", error=error, at=retry_at)
            if event is not None:
                await store.append(
                    conn,
                    stream_id=f"email-{email_id}",
                    tenant_id=tenant,
                    aggregate_type="email",
                    expected_version=ANY_VERSION,
                    events=[NewEvent.of(event, occurred_at=now)],
                    actor=MAILER,
                )
    return len(due)
