"""Fixtures for the backbone's tests: a migrated database, Kafka clients and topic names per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from conveyor_messaging.kafka import make_producer
from conveyor_messaging.lanes import both_lanes
from conveyor_messaging.schema import BACKBONE_DDL
from conveyor_testing.plugin import Infra


@pytest.fixture
async def backbone_dsn(fresh_database: str) -> str:
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(BACKBONE_DDL)
    finally:
        await conn.close()
    return fresh_database


@pytest.fixture
async def pool(backbone_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(backbone_dsn, min_size=2, max_size=40)
    yield pool
    await pool.close()


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(infra.kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def topic_prefix() -> str:
    """Topics of this test only: the relay maps conveyor.<svc>.<aggregate> under this prefix."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def thing_topic(infra: Infra, topic_prefix: str) -> str:
    """The topic the relay publishes test events to, and its twin of the bulk lane, with three partitions."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from backbone_support import TOPIC

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=3, replication_factor=1) for name in both_lanes([topic_prefix + TOPIC])]
        )
    finally:
        await admin.close()
    return topic_prefix + TOPIC
