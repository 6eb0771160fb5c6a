"""A consumer whose partitions are taken by another member of its group right after it committed
their offsets keeps consuming (and gets them back when the other leaves)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from backbone_support import PROJECTION_DDL, append_one, record_in_order, wait_for_count
from conveyor_messaging.consumer import EventConsumer, run_consumer
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.kafka import make_consumer
from conveyor_messaging.relay import OutboxRelay, default_topic
from conveyor_testing.plugin import Infra

pytestmark = [pytest.mark.integration, pytest.mark.slow]

store = EventStore(source="/conveyor/test")
STREAMS, VERSIONS = 6, 20


class TakenAfterTheFirstCommit:
    """A real group consumer whose first offset commit returns only once another member of the group
    has taken some of the committed partitions (a rebalance racing the commit); the other member
    leaves again a few seconds later."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self._consumer = make_consumer(bootstrap, group_id=group, topics=[topic])
        self._other = make_consumer(bootstrap, group_id=group, topics=[topic])
        self._raced = False
        self.other_left = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await self._consumer.commit(offsets)
        if self._raced:
            return
        self._raced = True
        await self._other.start()  # returns once the group has rebalanced with both members
        while set(offsets) <= self._consumer.assignment():
            await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_later(3, lambda: asyncio.ensure_future(self._leave()))

    async def _leave(self) -> None:
        await self._other.stop()
        self.other_left.set()


async def write(pool: asyncpg.Pool) -> None:
    async def stream(s: int) -> None:
        for version in range(1, VERSIONS + 1):
            async with pool.acquire() as conn:
                await append_one(store, conn, f"stream-{s}", version)

    await asyncio.gather(*(stream(s) for s in range(STREAMS)))


class TestRebalances:
    async def test_partitions_taken_while_the_commit_was_on_its_way_do_not_end_the_consumer(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, topic_prefix: str, thing_topic: str
    ) -> None:
        # Found by tests/faults (replicas of automation coming and going): after such a commit the
        # lag metric asked aiokafka about a partition no longer assigned; the AssertionError ended
        # the consumer for good, and the service consumed nothing more from that group.
        await pool.execute(PROJECTION_DDL)
        await write(pool)  # the first fetch takes all partitions, so the race takes some of them
        kafka = TakenAfterTheFirstCommit(infra.kafka_bootstrap, f"{thing_topic}-projection", thing_topic)
        consumer = EventConsumer(
            name="projection", pool=pool, consumer=kafka, producer=producer, handle=record_in_order,
            dead_letter_topic=f"{thing_topic}.deadletter",
        )  # fmt: skip
        relay = OutboxRelay(pool=pool, producer=producer, store=store, topic=default_topic(topic_prefix))
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(run_consumer(kafka, consumer))]
        try:
            await asyncio.wait_for(kafka.other_left.wait(), 60)
            applied = await wait_for_count(pool, "SELECT count(*) FROM applied", STREAMS * VERSIONS, timeout=60)
            consuming = not tasks[1].done()
        finally:
            relay.stop()
            consumer.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
        assert consuming, f"the consumer ended: {tasks[1].exception()!r}"
        assert applied == STREAMS * VERSIONS
        assert await pool.fetchval("SELECT count(*) FROM order_violations") == 0
