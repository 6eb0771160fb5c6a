"""Each hot consumer alone, draining a backlog through real Kafka into its own fresh database.

For every case: migrate a new database of the service, produce the case's setup events and then
``BENCH_CONSUMERS_EVENTS`` (default 100,000) events to topics of their own, start the consumer the
service's routing table declares (its batch handler, as the backbone runs it), and time from its
first applied event to its last (group join left out). Prints a table and saves
``bench/results/consumers.json`` with ``<service>_<consumer>_events_per_s``; the target is 10,000/s.

    make bench-consumers                       # every case
    BENCH_CONSUMERS_EVENTS=20000 make bench-consumers
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from _infra import drop_database, endpoints, new_database, report
from aiokafka import AIOKafkaProducer
from conveyor_contracts import entities, pipelines
from conveyor_kit.database import create_pool
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.settings import ServiceSettings
from conveyor_messaging.actor import Actor
from conveyor_messaging.consumer import EventConsumer, run_consumer
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_messaging.kafka import make_consumer, make_producer
from conveyor_messaging.runtime import Subscription

EVENTS = int(os.environ.get("BENCH_CONSUMERS_EVENTS", "100000"))
TARGET = 10_000
ACTOR = Actor.user("bench")


def envelope(contract: EventContract, tenant: str, subject: str) -> Envelope:
    return Envelope(
        type=contract.type_name,
        source="/conveyor/bench",
        subject=subject,
        tenant_id=tenant,
        data=contract.model_dump(mode="json"),
        actor=ACTOR,
        aggregate_version=1,
        time=datetime.now(UTC),
    )


@dataclass(frozen=True)
class Case:
    """One consumer of one service: where its schema comes from, its subscription, and its events."""

    service: str
    subscription: Subscription
    migrations: Path
    setup: Callable[[str], list[Envelope]]
    backlog: Callable[[str, int], Iterator[Envelope]]
    settle_s: float = 2.0  # setup events applied before the backlog is timed


def company_type(tenant: str) -> list[Envelope]:
    created = entities.EntityTypeCreated(entity_type_id="company", code="company", name="Company", settings={})
    return [envelope(created, tenant, "company")]


def companies(tenant: str, count: int) -> Iterator[Envelope]:
    for n in range(count):
        item_id = f"item-{n:07d}"
        created = entities.ItemCreated(
            item_id=item_id,
            entity_type_id="company",
            title=f"Company {n}",
            assignee_id=f"user-{n % 40}",
            fields={"inn": f"{7700000000 + n}", "city": "Москва", "buildings": n % 90},
            created_by="bench",
        )
        yield envelope(created, tenant, item_id)


def created_and_placed(tenant: str, count: int) -> Iterator[Envelope]:
    """``count`` events: half the items' creations, then their placements (as automation reads both)."""
    half = count // 2
    yield from companies(tenant, half)
    for n in range(half):
        item_id = f"item-{n:07d}"
        placed = pipelines.ItemPlaced(
            item_id=item_id, entity_type_id="company", pipeline_id="pipe", stage_id="new", stage_semantic="in_progress"
        )
        yield envelope(placed, tenant, item_id)


def cases() -> list[Case]:
    from automation.migrations import MIGRATIONS_PATH as AUTOMATION_MIGRATIONS
    from automation.routing import SUBSCRIPTIONS as AUTOMATION
    from entities.migrations import MIGRATIONS_PATH as ENTITIES_MIGRATIONS
    from entities.routing import SUBSCRIPTIONS as ENTITIES
    from notifications.migrations import MIGRATIONS_PATH as NOTIFICATIONS_MIGRATIONS
    from notifications.routing import SUBSCRIPTIONS as NOTIFICATIONS
    from pipelines.migrations import MIGRATIONS_PATH as PIPELINES_MIGRATIONS
    from pipelines.routing import SUBSCRIPTIONS as PIPELINES

    pipelines = {s.name: s for s in PIPELINES}
    notifications = {s.name: s for s in NOTIFICATIONS}
    automation = {s.name: s for s in AUTOMATION}
    entities_subscriptions = {s.name: s for s in ENTITIES}
    return [
        Case("automation", automation["items"], AUTOMATION_MIGRATIONS, lambda tenant: [], created_and_placed),
        Case("entities", entities_subscriptions["rollups"], ENTITIES_MIGRATIONS, lambda tenant: [], companies),
        Case("pipelines", pipelines["entities"], PIPELINES_MIGRATIONS, company_type, companies),
        Case("notifications", notifications["items"], NOTIFICATIONS_MIGRATIONS, lambda tenant: [], companies),
    ]


async def produce(kafka: str, prefix: str, events: list[Envelope] | Iterator[Envelope]) -> int:
    from conveyor_messaging.contracts import topic_for

    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    count = 0
    try:
        for event in events:
            key, value, headers = to_kafka(event)
            await producer.send(prefix + topic_for(event.type), value=value, key=key, headers=headers)
            count += 1
        await producer.flush()
    finally:
        await producer.stop()
    return count


async def processed(conn: asyncpg.Connection, consumer: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", consumer))


async def run_case(admin_dsn: str, kafka: str, case: Case) -> dict[str, float]:
    dsn = await new_database(admin_dsn, f"bench_consumers_{case.service}")
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    tenant = f"bench-{uuid.uuid4().hex[:6]}"
    name = f"{case.service}.{case.subscription.name}"
    try:
        await upgrade_in_thread(case.migrations, dsn)
        settings = ServiceSettings(database_url=dsn, kafka_bootstrap_servers=kafka, environment="test")
        pool = await create_pool(settings)
        producer = make_producer(kafka)
        await producer.start()
        kafka_consumer = make_consumer(
            kafka, group_id=prefix + name, topics=[prefix + t for t in case.subscription.topics], client_id=name
        )
        # Only what the subscription has: an older checkout (PYTHONPATH, for an A/B) knows no handle_batch.
        handlers = {"handle": case.subscription.handle} if case.subscription.handle else {}
        if getattr(case.subscription, "handle_batch", None) is not None:
            handlers["handle_batch"] = case.subscription.handle_batch
        consumer = EventConsumer(
            name=name,
            pool=pool,
            consumer=kafka_consumer,
            producer=producer,
            dead_letter_topic=prefix + "deadletter",
            **handlers,
        )
        setup = case.setup(tenant)
        await produce(kafka, prefix, setup)
        task = asyncio.create_task(run_consumer(kafka_consumer, consumer))
        conn = await asyncpg.connect(dsn)
        try:
            while await processed(conn, name) < len(setup):
                await asyncio.sleep(0.1)
            produced_at = time.perf_counter()
            produced = await produce(kafka, prefix, case.backlog(tenant, EVENTS))
            produce_s = time.perf_counter() - produced_at
            first_at, first_count, count = 0.0, 0, 0
            deadline = time.perf_counter() + 900
            while count < len(setup) + produced and time.perf_counter() < deadline:
                count = await processed(conn, name)
                if count > len(setup) and not first_at:
                    first_at, first_count = time.perf_counter(), count
                await asyncio.sleep(0.05)
            done = time.perf_counter()
        finally:
            consumer.stop()
            await task
            await conn.close()
            await producer.stop()
            await pool.close()
        applied = count - first_count
        rate = applied / (done - first_at) if done > first_at else float("nan")
        print(f"{name}: {count - len(setup):,} of {produced:,} events applied; produced in {produce_s:.1f} s")
        key = name.replace(".", "_")
        return {f"{key}_events": produced, f"{key}_events_per_s": round(rate, 1)}
    finally:
        await drop_database(admin_dsn, dsn)


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    admin_dsn, kafka = endpoints()
    figures: dict[str, Any] = {}
    targets: dict[str, str] = {}
    for case in cases():
        result = await run_case(admin_dsn, kafka, case)
        figures.update(result)
        targets.update({k: f">= {TARGET:,}" for k in result if k.endswith("_per_s")})
    report("consumers", figures, targets)


if __name__ == "__main__":
    asyncio.run(main())
