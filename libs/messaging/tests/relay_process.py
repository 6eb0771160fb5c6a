"""Runs an outbox relay in its own process, so a test can kill it with SIGKILL mid-batch.

Usage: python relay_process.py <dsn> <kafka bootstrap> <topic prefix> [batch size]
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.kafka import make_producer
from conveyor_messaging.relay import OutboxRelay, default_topic


async def main(dsn: str, bootstrap: str, prefix: str, batch_size: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    producer = make_producer(bootstrap)
    await producer.start()
    relay = OutboxRelay(
        pool=pool,
        producer=producer,
        store=EventStore(source="/test"),
        topic=default_topic(prefix),
        batch_size=batch_size,
    )
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 50))
