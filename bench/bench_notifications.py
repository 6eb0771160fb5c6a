"""Notifications benchmark: notifications delivered per second, and how late reminders arrive.

The notifications app runs in-process (its lifespan: relay, consumers, timer worker) on a fresh
database and the real Kafka, with its own consumer groups started at the end of their topics.

1. Delivery: Notify commands are published to Kafka as a robot would (each to 10 recipients, default
   in-app channel); throughput = notifications in the inbox ÷ time from the first send to the last row.
2. Reminders: with 10,000 far-future reminders pending, calendar entries are created through the HTTP
   API with a reminder ``at`` 1-6 s ahead (system clock). Lag = the delivered notification's
   ``created_at`` (the service clock when the reminder fired) − its due time; negative would be early.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import structlog
from _infra import drop_database, endpoints, new_database, percentile, report
from aiokafka import AIOKafkaProducer
from conveyor_contracts.notifications import Notify
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end
from notifications.config import Settings
from notifications.entrypoints.http import create
from notifications.migrations import MIGRATIONS_PATH
from notifications.routing import SUBSCRIPTIONS

COMMANDS = int(os.environ.get("BENCH_NOTIFY_COMMANDS", "500"))
RECIPIENTS = 10
REMINDERS = int(os.environ.get("BENCH_REMINDERS", "200"))
PENDING = int(os.environ.get("BENCH_REMINDERS_PENDING", "10000"))
SECRET = "bench-notifications-secret-long-enough-for-hs256"


async def deliveries_per_second(producer: AIOKafkaProducer, pool: asyncpg.Pool, tenant: str) -> dict[str, float]:
    started = time.perf_counter()
    for n in range(COMMANDS):
        command = Notify(
            idempotency_key=f"bench-{n}",
            recipient_ids=[f"user-{n % 50}-{r}" for r in range(RECIPIENTS)],
            kind="task",
            title=f"Task {n}",
            body="Please look at the company card.",
        )
        envelope = Envelope(
            type=command.type_name,
            source="/conveyor/automation",
            subject=command.idempotency_key,
            tenant_id=tenant,
            data=command.model_dump(mode="json"),
            actor=Actor.parse("robot:bench"),
        )
        key, value, headers = to_kafka(envelope)
        await producer.send(command.topic(), value=value, key=key, headers=headers)
    await producer.flush()
    expected = COMMANDS * RECIPIENTS
    async with pool.acquire() as conn:
        while (await conn.fetchval("SELECT count(*) FROM inbox WHERE tenant_id = $1", tenant)) < expected:
            await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    return {"notifications_delivered": expected, "delivery_notifications_per_s": expected / elapsed}


async def reminder_lag(client: httpx.AsyncClient, pool: asyncpg.Pool, tenant: str) -> dict[str, float]:
    token = mint_token(tenant_id=tenant, user_id="planner", roles=("admin",), secret=SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO timers (timer_key, tenant_id, kind, due_at, payload)"
            " SELECT 'far-' || n, $1, 'notifications.reminder', now() + interval '1 day' + n * interval '1 second',"
            " '{}'::jsonb FROM generate_series(1, $2) AS n",
            tenant,
            PENDING,
        )
        await conn.execute("ANALYZE timers")
    now = datetime.now(UTC)
    for n in range(REMINDERS):
        due = now + timedelta(seconds=1 + random.uniform(0, 5))
        body = {
            "title": f"Call {n}",
            "kind": "call",
            "start": (due + timedelta(hours=1)).isoformat(),
            "reminders": [{"at": due.isoformat()}],
        }
        response = await client.post("/v1/calendar/entries", json=body, headers=headers)
        assert response.status_code == 201, response.text
    async with pool.acquire() as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                # the source is `reminder:<entry id>:<due time>`
                """SELECT created_at, split_part(source, ':', 3) || ':' || split_part(source, ':', 4) || ':'
                          || split_part(source, ':', 5) || ':' || split_part(source, ':', 6) AS due
                     FROM inbox WHERE tenant_id = $1 AND kind = 'reminder'""",
                tenant,
            )
            if len(rows) >= REMINDERS:
                break
            await asyncio.sleep(0.2)
    lags = [(r["created_at"] - datetime.fromisoformat(r["due"])).total_seconds() * 1000 for r in rows]
    return {
        "reminders_pending": PENDING,
        "reminders_delivered": len(lags),
        "reminder_lag_p50_ms": percentile(lags, 50),
        "reminder_lag_p99_ms": percentile(lags, 99),
        "reminder_lag_max_ms": max(lags),
        "reminders_early": sum(1 for lag in lags if lag < 0),
    }


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    admin, kafka = endpoints()
    dsn = await new_database(admin, "bench_notifications")
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        for sub in SUBSCRIPTIONS:
            await start_groups_at_end(kafka, {f"notifications.{sub.name}{suffix}": sub.topics})
        settings = Settings(
            database_url=dsn,
            kafka_bootstrap_servers=kafka,
            environment="test",
            jwt_secret=SECRET,
            consumer_group_suffix=suffix,
            log_level="WARNING",
        )
        app = create(settings)
        producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
        await producer.start()
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
            ):
                tenant = f"bench-{uuid.uuid4().hex[:8]}"
                figures: dict[str, float] = {}
                figures.update(await deliveries_per_second(producer, app.state.pool, tenant))
                figures.update(await reminder_lag(client, app.state.pool, tenant))
        finally:
            await producer.stop()
    finally:
        await drop_database(admin, dsn)
    report(
        "notifications",
        figures,
        {"reminder_lag_p99_ms": "≤ 1000", "reminders_early": "0"},
    )


if __name__ == "__main__":
    asyncio.run(main())
