"""Helpers shared by the backbone tests: writers, a recording projection, Kafka readers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from conveyor_messaging.actor import Actor
from conveyor_messaging.consumer import EventConsumer, Handler, run_consumer
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore, NewEvent
from conveyor_messaging.kafka import make_consumer, make_producer

EVENT_TYPE = "conveyor.test.thing.changed.v1"
TOPIC = "conveyor.test.thing"

PROJECTION_DDL = """
CREATE TABLE applied (
    event_id  text PRIMARY KEY,           -- a second apply of one event fails loudly
    stream_id text NOT NULL,
    version   bigint NOT NULL
);
CREATE TABLE order_violations (stream_id text, version bigint, previous bigint);
"""


async def append_one(store: EventStore, conn: Connection, stream: str, version: int, size: int = 64) -> None:
    await store.append(
        conn,
        stream_id=stream,
        tenant_id="tenant-a",
        aggregate_type="thing",
        expected_version=version - 1,
        events=[NewEvent(EVENT_TYPE, {"seq": version, "pad": "x" * size})],
        actor=Actor.user("writer"),
    )


async def record_in_order(conn: Connection, event: Envelope) -> None:
    """Projection handler: remembers each event and whether it came in version order."""
    previous = await conn.fetchval("SELECT max(version) FROM applied WHERE stream_id = $1", event.subject) or 0
    if event.aggregate_version != previous + 1:
        await conn.execute(
            "INSERT INTO order_violations VALUES ($1, $2, $3)", event.subject, event.aggregate_version, previous
        )
    await conn.execute(
        "INSERT INTO applied (event_id, stream_id, version) VALUES ($1, $2, $3)",
        event.id,
        event.subject,
        event.aggregate_version,
    )


async def wait_for_count(pool: asyncpg.Pool, sql: str, expected: int, timeout: float = 60.0) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    count = -1
    while asyncio.get_running_loop().time() < deadline:
        count = await pool.fetchval(sql)
        if count >= expected:
            return int(count)
        await asyncio.sleep(0.1)
    return int(count)


async def read_topic(
    bootstrap: str, topics: Sequence[str], expected: int, timeout: float = 60.0
) -> list[ConsumerRecord]:
    """Every record of the topics from the beginning, until ``expected`` arrived or time ran out."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=f"reader-{uuid.uuid4().hex}", auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


@contextlib.asynccontextmanager
async def running(*coroutines: Coroutine[Any, Any, None]) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run background loops for the duration of a block, then cancel them."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def projection_consumer(
    pool: asyncpg.Pool,
    bootstrap: str,
    topic: str | Sequence[str],
    *,
    name: str = "projection",
    handle: Handler | None = record_in_order,
    **options: Any,
) -> AsyncIterator[EventConsumer]:
    """An EventConsumer applying ``topic`` (or topics: the first names the group) into the test database,
    running for the block."""
    topics = [topic] if isinstance(topic, str) else list(topic)
    topic = topics[0]
    kafka_consumer = make_consumer(bootstrap, group_id=f"{topic}-{name}", topics=topics)
    producer = make_producer(bootstrap)
    await producer.start()
    consumer = EventConsumer(
        name=name,
        pool=pool,
        consumer=kafka_consumer,
        producer=producer,
        handle=handle,
        dead_letter_topic=f"{topic}.deadletter",
        **options,
    )
    try:
        async with running(run_consumer(kafka_consumer, consumer)):
            yield consumer
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def transaction_open_in_another_database(admin_dsn: str) -> AsyncIterator[None]:
    """An open transaction holding an xid in the server's maintenance database, as another service's
    migration or import would: transaction ids are cluster-wide, so it is older than what follows."""
    elsewhere = await asyncpg.connect(admin_dsn)
    try:
        async with elsewhere.transaction():
            await elsewhere.execute("SELECT pg_current_xact_id()")
            yield
    finally:
        await elsewhere.close()
