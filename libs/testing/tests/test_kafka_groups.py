"""start_groups_at_end: a new group skips what the topic already holds."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.plugin import Infra, MakeTopic

pytestmark = pytest.mark.integration


async def test_a_new_group_starts_after_the_existing_history(infra: Infra, make_topic: MakeTopic) -> None:
    topic = await make_topic("history", partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(6):
            await producer.send_and_wait(topic, f"old-{n}".encode(), key=str(n).encode())
        group = f"fresh-{uuid.uuid4().hex[:8]}"
        await start_groups_at_end(infra.kafka_bootstrap, {group: [topic]})
        await producer.send_and_wait(topic, b"new", key=b"0")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap, group_id=group)
    await consumer.start()
    try:
        seen: list[bytes] = []
        while not seen:
            for records in (await consumer.getmany(timeout_ms=2000)).values():
                seen.extend(r.value for r in records)
        committed = [await consumer.committed(TopicPartition(topic, p)) for p in (0, 1)]
    finally:
        await consumer.stop()
    assert seen == [b"new"]
    assert sum(c or 0 for c in committed) >= 6
