"""Backbone benchmark: append, relay, consume and commit-to-consume latency with 1 KB events.

Also appends the same events through the ``eventsourcing`` library's PostgreSQL recorder on the
same server, and reports our append rate as a ratio to it. Prints a table and writes
bench/results/backbone.json. ``BENCH_SECONDS`` (default 5) sets each timed phase's length.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).parent))
from _infra import drop_database, endpoints, new_database, percentile, report
from conveyor_messaging.actor import Actor
from conveyor_messaging.consumer import EventConsumer, run_consumer
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore, NewEvent
from conveyor_messaging.kafka import make_consumer, make_producer
from conveyor_messaging.relay import OutboxRelay, default_topic
from conveyor_messaging.schema import BACKBONE_DDL

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
PAYLOAD = {"title": "Benchmark item", "body": "x" * 960}  # about 1 KB of JSON
EVENT_TYPE = "conveyor.bench.thing.changed.v1"
store = EventStore(source="/conveyor/bench")


async def append_rate(pool: asyncpg.Pool, writers: int) -> float:
    """Each writer appends one 1 KB event per transaction to its own streams, for SECONDS."""
    deadline = time.perf_counter() + SECONDS
    counts = [0] * writers

    async def writer(w: int) -> None:
        stream, version = f"w{w}-{uuid.uuid4().hex[:6]}", 0
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                await store.append(
                    conn,
                    stream_id=stream,
                    tenant_id="bench",
                    aggregate_type="thing",
                    expected_version=version,
                    events=[NewEvent(EVENT_TYPE, PAYLOAD)],
                    actor=Actor.system("bench"),
                )
                version += 1
                counts[w] += 1
                if version == 100:  # streams of realistic length
                    stream, version = f"w{w}-{uuid.uuid4().hex[:6]}", 0

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return sum(counts) / (time.perf_counter() - started)


def eventsourcing_rate(dsn: str, writers: int) -> float:
    """The same appends through eventsourcing's PostgresApplicationRecorder (psycopg, threads)."""
    import orjson
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    url = urlparse(dsn)
    datastore = PostgresDatastore(
        dbname=url.path.lstrip("/"),
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        pool_size=writers,
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    state = orjson.dumps(PAYLOAD)
    deadline = time.perf_counter() + SECONDS
    counts = [0] * writers

    def writer(w: int) -> None:
        originator, version = uuid.uuid4(), 0
        while time.perf_counter() < deadline:
            version += 1
            recorder.insert_events([StoredEvent(originator, version, EVENT_TYPE, state)])
            counts[w] += 1
            if version == 100:
                originator, version = uuid.uuid4(), 0

    started = time.perf_counter()
    with ThreadPoolExecutor(writers) as executor:
        list(executor.map(writer, range(writers)))
    elapsed = time.perf_counter() - started
    datastore.close()
    return sum(counts) / elapsed


async def relay_rate(pool: asyncpg.Pool, bootstrap: str, prefix: str) -> tuple[float, int]:
    """Publish everything appended so far from a cold start; events/s from first read to last ack."""
    total = await pool.fetchval("SELECT count(*) FROM events")
    last = await pool.fetchval("SELECT max(position) FROM events")
    producer = make_producer(bootstrap)
    await producer.start()
    relay = OutboxRelay(pool=pool, producer=producer, store=store, topic=default_topic(prefix), name="bench")
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while (await pool.fetchval("SELECT position FROM relay_checkpoints WHERE relay = 'bench'") or 0) < last:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    relay.stop()
    await task
    await producer.stop()
    return total / elapsed, int(total)


PROJECTION = """
CREATE TABLE IF NOT EXISTS thing_projection (stream_id text PRIMARY KEY, version bigint NOT NULL, title text);
"""


async def project(conn: asyncpg.Connection, event: Envelope) -> None:
    await conn.execute(
        "INSERT INTO thing_projection (stream_id, version, title) VALUES ($1, $2, $3)"
        " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, title = excluded.title",
        event.subject,
        event.aggregate_version,
        event.data["title"],
    )


async def consume_rate(pool: asyncpg.Pool, bootstrap: str, topic: str, total: int) -> float:
    """Apply the whole topic into an idempotent projection; events/s until the last is processed."""
    await pool.execute(PROJECTION)
    kafka_consumer = make_consumer(bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}", topics=[topic])
    producer = make_producer(bootstrap)
    await producer.start()
    consumer = EventConsumer(
        name="bench-projection", pool=pool, consumer=kafka_consumer, producer=producer, handle=project
    )
    started = time.perf_counter()
    task = asyncio.create_task(run_consumer(kafka_consumer, consumer))
    while await pool.fetchval("SELECT count(*) FROM processed_events WHERE consumer = 'bench-projection'") < total:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    consumer.stop()
    await task
    await producer.stop()
    return total / elapsed


async def latency(
    pool: asyncpg.Pool, bootstrap: str, prefix: str, topic: str, rate: int = 500
) -> tuple[float, float, int]:
    """Commit-to-consume latency at a steady ``rate``: from the append's commit to the handler."""
    committed: dict[str, float] = {}
    latencies: list[float] = []

    async def measure(conn: asyncpg.Connection, event: Envelope) -> None:
        sent = committed.get(event.id)
        if sent is not None:
            latencies.append(time.perf_counter() - sent)

    producer = make_producer(bootstrap)
    await producer.start()
    relay = OutboxRelay(pool=pool, producer=producer, store=store, topic=default_topic(prefix), name="latency")
    # Start after what is already there, so only the paced events count.
    await pool.execute(
        "INSERT INTO relay_checkpoints (relay, commit_xid, position)"
        " SELECT 'latency', commit_xid, position FROM events ORDER BY commit_xid DESC, position DESC LIMIT 1"
    )
    kafka_consumer = make_consumer(bootstrap, group_id=f"latency-{uuid.uuid4().hex[:6]}", topics=[topic])
    kafka_consumer._auto_offset_reset = "latest"
    consumer = EventConsumer(name="latency", pool=pool, consumer=kafka_consumer, producer=producer, handle=measure)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(run_consumer(kafka_consumer, consumer))]
    await asyncio.sleep(3)  # group join and partition assignment

    count = int(rate * SECONDS * 2)
    interval = 1 / rate
    start = time.perf_counter()
    async with pool.acquire() as conn:
        for i in range(count):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            (recorded,) = await store.append(
                conn,
                stream_id=f"lat-{i % 50}-{start}",
                tenant_id="bench",
                aggregate_type="thing",
                expected_version=i // 50,
                events=[NewEvent(EVENT_TYPE, PAYLOAD)],
                actor=Actor.system("bench"),
            )
            committed[str(recorded.event_id)] = time.perf_counter()
    deadline = time.perf_counter() + 30
    while len(latencies) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    relay.stop()
    consumer.stop()
    await asyncio.gather(*tasks)
    await producer.stop()
    return percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000, len(latencies)


async def ensure_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()


async def main() -> None:
    admin_dsn, bootstrap = endpoints()
    ours_dsn = await new_database(admin_dsn, "bench_backbone")
    theirs_dsn = await new_database(admin_dsn, "bench_eventsourcing")
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topic = prefix + "conveyor.bench.thing"
    await ensure_topic(bootstrap, topic)
    pool = await asyncpg.create_pool(ours_dsn, min_size=4, max_size=70)
    try:
        await pool.execute(BACKBONE_DDL)
        figures: dict[str, float | int] = {}
        for writers in (1, 16, 64):
            figures[f"append_{writers}_writers_events_per_s"] = round(await append_rate(pool, writers), 1)
        theirs = await asyncio.to_thread(eventsourcing_rate, theirs_dsn, 16)
        figures["eventsourcing_recorder_16_writers_events_per_s"] = round(theirs, 1)
        figures["append_16_writers_ratio_to_eventsourcing"] = round(
            figures["append_16_writers_events_per_s"] / theirs, 2
        )
        rate, total = await relay_rate(pool, bootstrap, prefix)
        figures["relay_events_per_s"] = round(rate, 1)
        figures["relay_events_published"] = total
        figures["consumer_idempotent_projection_events_per_s"] = round(
            await consume_rate(pool, bootstrap, topic, total), 1
        )
        p50, p99, samples = await latency(pool, bootstrap, prefix, topic)
        figures["commit_to_consume_p50_ms_at_500_per_s"] = round(p50, 1)
        figures["commit_to_consume_p99_ms_at_500_per_s"] = round(p99, 1)
        figures["commit_to_consume_samples"] = samples
        figures["event_size_bytes"] = len(__import__("orjson").dumps(PAYLOAD))
        report(
            "backbone",
            figures,
            {
                "append_16_writers_events_per_s": ">= 5,000",
                "append_16_writers_ratio_to_eventsourcing": ">= 3",
                "relay_events_per_s": ">= 5,000",
                "commit_to_consume_p50_ms_at_500_per_s": "<= 50",
                "commit_to_consume_p99_ms_at_500_per_s": "<= 250",
            },
        )
    finally:
        await pool.close()
        await drop_database(admin_dsn, ours_dsn)
        await drop_database(admin_dsn, theirs_dsn)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    asyncio.run(main())
