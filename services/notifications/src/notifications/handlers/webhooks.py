"""Outgoing webhooks: events queued for the tenant's subscriptions, then attempted with backoff until they give up."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from conveyor_contracts.notifications import WebhookDelivered, WebhookFailed, WebhookSubscriptionDisabled
from conveyor_kit.clock import Clock
from conveyor_messaging.actor import Actor
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from notifications.adapters import outbound
from notifications.adapters.http_target import Outcome, post
from notifications.config import Settings
from notifications.domain.signing import HEADER, header_value

log = structlog.get_logger(__name__)
WORKER = Actor.system("webhooks")


def matches(patterns: list[str], event_type: str) -> bool:
    """``*`` is every event, ``conveyor.pipelines.*`` a prefix, anything else one exact type."""
    return any(p == "*" or p == event_type or (p.endswith("*") and event_type.startswith(p[:-1])) for p in patterns)


async def when_events_published_queue_webhooks(conn: Connection, store: EventStore, events: Sequence[Envelope]) -> None:
    """A fetch of domain events at once: one statement reads the active subscriptions of the fetch's
    tenants (most tenants have none, and then that is all), then each event a subscription matches is
    queued for it."""
    rows = await conn.fetch(
        "SELECT tenant_id, subscription_id, url, event_types, secret FROM webhook_subscriptions"
        " WHERE tenant_id = ANY($1::text[]) AND active",
        sorted({event.tenant_id for event in events}),
    )
    subscriptions: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        subscriptions[row["tenant_id"]].append(row)
    for event in events:
        for row in subscriptions.get(event.tenant_id, ()):
            if matches(list(row["event_types"]), event.type):
                with caused_by(event):
                    await _queue(conn, event, row)


async def _queue(conn: Connection, event: Envelope, subscription: Any) -> None:
    payload = {
        "id": event.id,
        "type": event.type,
        "time": event.time.isoformat(),
        "subject": event.subject,
        "tenant_id": event.tenant_id,
        "actor": str(event.actor),
        "data": event.data,
    }
    await outbound.enqueue_delivery(
        conn,
        tenant_id=event.tenant_id,
        delivery_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription['subscription_id']}:{event.id}")),
        subscription_id=subscription["subscription_id"],
        url=subscription["url"],
        event_type=event.type,
        payload=payload,
        secret=subscription["secret"],
        now=event.time,
    )


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Wait before the next attempt: the base, doubled after every failed attempt."""
    return timedelta(seconds=settings.webhook_backoff_seconds * 2 ** max(attempts - 1, 0))


async def attempt(settings: Settings, delivery: dict[str, Any]) -> Outcome:
    body = json.dumps(json.loads(delivery["payload"]), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Conveyor-Webhooks/1",
        "Conveyor-Delivery": delivery["delivery_id"],
        "Conveyor-Event": delivery["event_type"],
        HEADER: header_value(delivery["secret"], int(time.time()), body),
    }
    return await post(
        delivery["url"],
        body,
        headers,
        allow_list=settings.webhook_allow_hosts,
        timeout=settings.webhook_timeout_seconds,
    )


async def record_attempt(
    conn: Connection, store: EventStore, settings: Settings, delivery: dict[str, Any], outcome: Outcome, now: datetime
) -> None:
    """The attempt goes to the log; the delivery finishes, or waits for its next attempt; the subscription counts."""
    tenant, delivery_id, attempts = delivery["tenant_id"], delivery["delivery_id"], delivery["attempts"]
    await conn.execute(
        """INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, at, status_code, error, duration_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
        tenant,
        delivery_id,
        attempts,
        now,
        outcome.status_code,
        outcome.error,
        outcome.duration_ms,
    )
    subscription = delivery["subscription_id"]
    if outcome.ok:
        await conn.execute(
            "UPDATE webhook_deliveries SET status = 'delivered', finished_at = $3"
            " WHERE tenant_id = $1 AND delivery_id = $2",
            tenant,
            delivery_id,
            now,
        )
        if subscription:
            await conn.execute(
                "UPDATE webhook_subscriptions SET consecutive_failures = 0"
                " WHERE tenant_id = $1 AND subscription_id = $2",
                tenant,
                subscription,
            )
        event: Any = WebhookDelivered(
            delivery_id=delivery_id,
            subscription_id=subscription,
            url=delivery["url"],
            attempts=attempts,
            status_code=outcome.status_code or 0,
            source=delivery.get("source"),
        )
        return await _publish(conn, store, tenant, delivery_id, event, now)
    if attempts >= settings.webhook_max_attempts:
        await _give_up(conn, store, delivery, outcome.error or "failed", now)
    else:
        await conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE tenant_id = $1 AND delivery_id = $2",
            tenant,
            delivery_id,
            now + backoff(settings, attempts),
        )
    if subscription:
        await _count_failure(conn, store, settings, tenant, subscription, now)


async def _give_up(conn: Connection, store: EventStore, delivery: dict[str, Any], error: str, now: datetime) -> None:
    tenant, delivery_id = delivery["tenant_id"], delivery["delivery_id"]
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', finished_at = $3 WHERE tenant_id = $1 AND delivery_id = $2",
        tenant,
        delivery_id,
        now,
    )
    failed = WebhookFailed(
        delivery_id=delivery_id,
        subscription_id=delivery["subscription_id"],
        url=delivery["url"],
        attempts=delivery["attempts"],
        error=error,
        source=delivery.get("source"),
    )
    await _publish(conn, store, tenant, delivery_id, failed, now)


async def _count_failure(
    conn: Connection, store: EventStore, settings: Settings, tenant: str, subscription: str, now: datetime
) -> None:
    row = await conn.fetchrow(
        """UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1
            WHERE tenant_id = $1 AND subscription_id = $2 RETURNING consecutive_failures, active, url""",
        tenant,
        subscription,
    )
    if row is None or not row["active"] or row["consecutive_failures"] < settings.webhook_disable_after_failures:
        return
    await conn.execute(
        "UPDATE webhook_subscriptions SET active = false, disabled_at = $3"
        " WHERE tenant_id = $1 AND subscription_id = $2",
        tenant,
        subscription,
        now,
    )
    await conn.execute(
        """UPDATE webhook_deliveries SET status = 'cancelled', finished_at = $3
            WHERE tenant_id = $1 AND subscription_id = $2 AND status = 'pending'""",
        tenant,
        subscription,
        now,
    )
    log.warning("webhook_subscription_disabled", subscription_id=subscription, failures=row["consecutive_failures"])
    disabled = WebhookSubscriptionDisabled(
        subscription_id=subscription, url=row["url"], consecutive_failures=row["consecutive_failures"]
    )
    await _publish(conn, store, tenant, f"subscription-{subscription}", disabled, now)


async def _publish(conn: Connection, store: EventStore, tenant: str, stream: str, event: Any, now: datetime) -> None:
    await store.append(
        conn,
        stream_id=f"webhook-{stream}",
        tenant_id=tenant,
        aggregate_type="webhook",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(event)],
        actor=WORKER,
        now=now,
    )


async def deliver_due_webhooks(pool: asyncpg.Pool, store: EventStore, settings: Settings, clock: Clock) -> int:
    """One round of the worker: claim due deliveries, call each, record each outcome."""
    async with pool.acquire() as conn, conn.transaction():
        due = await outbound.claim_deliveries(conn, clock.now())
    for delivery in due:
        outcome = await attempt(settings, delivery)
        async with pool.acquire() as conn, conn.transaction():
            await record_attempt(conn, store, settings, delivery, outcome, clock.now())
    return len(due)
