"""Durable queues of outgoing e-mails and webhook calls; workers claim due rows with a lease."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from conveyor_messaging.db import Connection

LEASE = timedelta(seconds=60)  # a claimed row is retried after this if its worker died mid-send
# A row never attempted is due at once, whatever its clock said when it was queued (commands carry their
# sender's time); later attempts wait for their backoff by the service's clock.


async def enqueue_email(
    conn: Connection,
    *,
    tenant_id: str,
    email_id: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str | None,
    source: str | None,
    now: datetime,
    notifies: tuple[str, str] | None = None,
) -> None:
    """Queue an e-mail; ``notifies`` is (user id, kind) when it is a notification to a user."""
    await conn.execute(
        """INSERT INTO emails (tenant_id, email_id, recipients, subject, body_text, body_html, source,
                               next_attempt_at, created_at, recipient_id, kind)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) ON CONFLICT DO NOTHING""",
        tenant_id,
        email_id,
        recipients,
        subject,
        text,
        html,
        source,
        now,
        notifies[0] if notifies else None,
        notifies[1] if notifies else None,
    )


async def claim_emails(conn: Connection, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """UPDATE emails SET next_attempt_at = $2, attempts = attempts + 1
            WHERE (tenant_id, email_id) IN (
                SELECT tenant_id, email_id FROM emails
                 WHERE status = 'pending' AND (attempts = 0 OR next_attempt_at <= $1)
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING *""",
        now,
        now + LEASE,
        limit,
    )
    return [dict(r) for r in rows]


async def finish_email(
    conn: Connection, tenant_id: str, email_id: str, *, status: str, error: str | None, at: datetime
) -> None:
    """``sent``, ``failed`` (given up), or ``pending`` again with ``at`` as its next attempt."""
    await conn.execute(
        """UPDATE emails SET status = $3, last_error = $4,
                  sent_at = CASE WHEN $3 = 'sent' THEN $5 ELSE sent_at END,
                  next_attempt_at = CASE WHEN $3 = 'pending' THEN $5 ELSE next_attempt_at END
            WHERE tenant_id = $1 AND email_id = $2""",
        tenant_id,
        email_id,
        status,
        error,
        at,
    )


async def enqueue_delivery(
    conn: Connection,
    *,
    tenant_id: str,
    delivery_id: str,
    subscription_id: str | None,
    url: str,
    event_type: str,
    payload: dict[str, Any],
    secret: str,
    now: datetime,
    source: str | None = None,
) -> None:
    """Queue a webhook call; ``source`` is the idempotency key of the command that asked for it."""
    await conn.execute(
        """INSERT INTO webhook_deliveries (tenant_id, delivery_id, subscription_id, url, event_type, payload, secret,
                                           next_attempt_at, created_at, source)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8, $9) ON CONFLICT DO NOTHING""",
        tenant_id,
        delivery_id,
        subscription_id,
        url,
        event_type,
        json.dumps(payload),
        secret,
        now,
        source,
    )


async def claim_deliveries(conn: Connection, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """UPDATE webhook_deliveries SET next_attempt_at = $2, attempts = attempts + 1
            WHERE (tenant_id, delivery_id) IN (
                SELECT tenant_id, delivery_id FROM webhook_deliveries
                 WHERE status = 'pending' AND (attempts = 0 OR next_attempt_at <= $1)
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING *""",
        now,
        now + LEASE,
        limit,
    )
    return [dict(r) for r in rows]
