"""The e-mail worker's round: queued e-mails sent over SMTP, retried with backoff, then given up."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import structlog
from conveyor_contracts.notifications import EmailFailed, EmailSent
from conveyor_kit.clock import Clock
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from notifications.adapters import outbound, smtp
from notifications.config import Settings

log = structlog.get_logger(__name__)
MAILER = Actor.system("mailer")


async def send_due_emails(pool: asyncpg.Pool, store: EventStore, settings: Settings, clock: Clock) -> int:
    """Claimed e-mails are sent outside any transaction; failures wait and retry, then give up."""
    async with pool.acquire() as conn, conn.transaction():
        due = await outbound.claim_emails(conn, clock.now())
    for email in due:
        mail = smtp.message(
            settings,
            email_id=email["email_id"],
            to=list(email["recipients"]),
            subject=email["subject"],
            text=email["body_text"],
            html=email["body_html"],
            now=clock.now(),
            notifies_of=email["kind"] if email["recipient_id"] else None,
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
