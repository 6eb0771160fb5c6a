"""The conveyor_testing fixtures against real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from conveyor_testing.plugin import Infra, MakeTopic, _asyncpg_dsn, _with_database

pytestmark = pytest.mark.integration


async def _user_tables(dsn: str) -> list[str]:
    conn = await asyncpg.connect(_asyncpg_dsn(dsn))
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return [row["tablename"] for row in rows]
    finally:
        await conn.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Produce with the settings the services use: idempotent, acks=all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send_and_wait(topic, value, key=str(i).encode())
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """Read `count` messages from the start in a fresh consumer group, commit manually."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for messages in batches.values():
                    received.extend(m.value for m in messages if m.value is not None)
        await consumer.commit()
    finally:
        await consumer.stop()
    return sorted(received)


async def _roundtrip(bootstrap: str, topic: str, count: int = 5) -> list[bytes]:
    sent = [f"{topic}-{i}".encode() for i in range(count)]
    await _produce(bootstrap, topic, sent)
    received = await _consume(bootstrap, topic, count)
    assert received == sorted(sent)
    return received


def test_infra_describes_a_source(infra: Infra) -> None:
    assert infra.source in ("env", "testcontainers", "local")
    assert infra.postgres_dsn.startswith(("postgresql", "postgres"))
    assert ":" in infra.kafka_bootstrap
    assert infra.can_control_kafka == (infra.source != "env")


def test_dsn_helpers() -> None:
    assert (
        _with_database("postgresql://u@h:1/postgres?sslmode=disable", "t_x") == "postgresql://u@h:1/t_x?sslmode=disable"
    )
    assert _asyncpg_dsn("postgresql+psycopg://u@h/db") == "postgresql://u@h/db"


async def test_fresh_database_is_empty_and_usable(fresh_database: str) -> None:
    assert fresh_database.rsplit("/", 1)[1].startswith("t_")
    assert await _user_tables(fresh_database) == []
    conn = await asyncpg.connect(_asyncpg_dsn(fresh_database))
    try:
        await conn.execute("CREATE TABLE marker (id int)")
    finally:
        await conn.close()
    assert await _user_tables(fresh_database) == ["marker"]


async def test_fresh_database_is_distinct_per_test(fresh_database: str, infra: Infra) -> None:
    # The previous test created a table in its database; ours must not see it.
    assert await _user_tables(fresh_database) == []
    assert fresh_database != infra.postgres_dsn


async def test_make_topic_roundtrip(make_topic: MakeTopic, infra: Infra) -> None:
    topic = await make_topic("plugin-test", partitions=3)
    assert topic.startswith("plugin-test-")
    other = await make_topic("plugin-test", partitions=1)
    assert other != topic

    await _roundtrip(infra.kafka_bootstrap, topic)


async def test_make_topic_rejects_bad_prefix(make_topic: MakeTopic) -> None:
    with pytest.raises(ValueError):
        await make_topic("no spaces allowed")


@pytest.mark.slow
async def test_restart_kafka_brings_a_working_broker_back(infra: Infra, make_topic: MakeTopic) -> None:
    if not infra.can_control_kafka:
        pytest.skip("Kafka comes from the environment")
    before = await make_topic("restart-before", partitions=1)
    old = await _roundtrip(infra.kafka_bootstrap, before, count=2)

    await infra.restart_kafka()

    # What was written before the restart survived it, and the broker takes new writes.
    await _produce(infra.kafka_bootstrap, before, [b"after-restart"])
    assert await _consume(infra.kafka_bootstrap, before, 3) == sorted([*old, b"after-restart"])
    after = await make_topic("restart-after", partitions=3)
    await _roundtrip(infra.kafka_bootstrap, after)
