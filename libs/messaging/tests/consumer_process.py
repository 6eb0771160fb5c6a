"""Runs a batch consumer in its own process, so a test can see it die between the database commit of
a batch and the offset commit that should follow (SIGKILL from inside, at exactly that point).

Usage: python consumer_process.py <dsn> <kafka bootstrap> <topic> <group> <die at commit n, 0: never>

Tables it writes (made by the test): ``applied`` (the events, one row each; a second apply fails on the
key) and ``repeats`` (per fetch, how many events were skipped as already processed).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from conveyor_messaging.batches import route_mixed
from conveyor_messaging.consumer import EventConsumer, run_consumer
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.kafka import make_consumer, make_producer

THING = "conveyor.test.thing.changed.v1"


async def record_set_based(conn: Connection, events: Sequence[Envelope]) -> None:
    await conn.execute(
        "INSERT INTO applied (event_id, stream_id, version) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
        [e.id for e in events],
        [e.subject for e in events],
        [e.aggregate_version for e in events],
    )


class DyingConsumer(EventConsumer):
    def __init__(self, *, die_at_commit: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._die_at, self._commits = die_at_commit, 0

    async def _apply_in_one_transaction(self, batch: list[tuple[ConsumerRecord, Envelope]]) -> list[ConsumerRecord]:
        applied = await super()._apply_in_one_transaction(batch)
        await self._pool.execute("INSERT INTO repeats (skipped) VALUES ($1)", len(batch) - len(applied))
        return applied

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        self._commits += 1
        if self._commits == self._die_at:  # the batch's transaction has committed; its offsets have not
            os.kill(os.getpid(), signal.SIGKILL)
        await super()._commit(offsets)


async def main(dsn: str, bootstrap: str, topic: str, group: str, die_at_commit: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    producer = make_producer(bootstrap)
    await producer.start()
    kafka_consumer = make_consumer(bootstrap, group_id=group, topics=[topic])
    consumer = DyingConsumer(
        name=group,
        pool=pool,
        consumer=kafka_consumer,
        producer=producer,
        handle_batch=route_mixed({THING: record_set_based}, {}),
        dead_letter_topic=f"{topic}.deadletter",
        batch_size=40,
        die_at_commit=die_at_commit,
    )
    await run_consumer(kafka_consumer, consumer)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
