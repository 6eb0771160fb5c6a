"""A consumer made with ``batch_wait_ms`` takes events that arrive within that time in one fetch."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from conveyor_messaging.kafka import make_consumer
from conveyor_testing.plugin import Infra

pytestmark = pytest.mark.integration

EVENTS = 20


async def fetches_for(infra: Infra, topic: str, producer: AIOKafkaProducer, batch_wait_ms: int | None) -> list[int]:
    """How many records each non-empty fetch brought, for EVENTS records sent 10 ms apart."""
    consumer = make_consumer(
        infra.kafka_bootstrap, group_id=f"batched-{uuid.uuid4().hex[:8]}", topics=[topic], batch_wait_ms=batch_wait_ms
    )
    await consumer.start()
    try:
        while not consumer.assignment():  # joined the group: nothing sent before this is missed
            await consumer.getmany(timeout_ms=100)

        async def send() -> None:
            for n in range(EVENTS):
                await producer.send_and_wait(topic, key=f"k-{n}".encode(), value=b"{}")
                await asyncio.sleep(0.01)

        sending = asyncio.create_task(send())
        sizes: list[int] = []
        while sum(sizes) < EVENTS:
            batches: dict[Any, list[Any]] = await asyncio.wait_for(consumer.getmany(timeout_ms=200), 30)
            if got := sum(len(records) for records in batches.values()):
                sizes.append(got)
        await sending
        return sizes
    finally:
        await consumer.stop()


class TestBatchedFetch:
    async def test_events_arriving_within_the_wait_come_in_one_or_two_fetches(
        self, infra: Infra, make_topic: Any, producer: AIOKafkaProducer
    ) -> None:
        topic = await make_topic("batched", partitions=3)

        # Sent over about 200 ms; a fetch window of 2 s holds them all, or splits them once if one
        # window was already open when the first arrived.
        sizes = await fetches_for(infra, topic, producer, batch_wait_ms=2000)

        assert sum(sizes) == EVENTS
        assert len(sizes) <= 2, sizes
