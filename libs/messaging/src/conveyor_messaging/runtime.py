"""Runs one service's side of the backbone: its outbox relay and its consumers, as background tasks.

A service's bootstrap builds one ``Backbone`` with the subscriptions from its routing table and
starts it for the app's lifetime. Nothing here connects before ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from conveyor_messaging.consumer import EventConsumer, Handler, run_consumer
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.kafka import make_consumer, make_producer
from conveyor_messaging.relay import OutboxRelay, default_topic

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A consumer of the service: a name (its group and processed-marks key), topics and a handler."""

    name: str
    topics: Sequence[str]
    handle: Handler
    # How long events may wait to be fetched together (``make_consumer``'s ``batch_wait_ms``); None:
    # each is fetched as soon as it arrives. For consumers whose work may be late by that much.
    batch_wait_ms: int | None = None


class Backbone:
    """The relay and consumers of one service process."""

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        subscriptions: Sequence[Subscription] = (),
        topic_prefix: str = "",
        run_workers: bool = True,
        group_suffix: str = "",
    ) -> None:
        self.service = service
        self.store = EventStore(source=f"/conveyor/{service}")
        self._pool = pool
        self._bootstrap = bootstrap_servers
        self._subscriptions = subscriptions
        self._prefix = topic_prefix
        self._run_workers = run_workers
        self._group_suffix = group_suffix
        self._producer: AIOKafkaProducer | None = None
        self._relay: OutboxRelay | None = None
        self._consumers: list[EventConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if not self._run_workers:
            log.info("backbone_workers_disabled", service=self.service)
            return
        self._producer = make_producer(self._bootstrap, client_id=f"conveyor-{self.service}")
        await self._producer.start()
        self._relay = OutboxRelay(
            pool=self._pool,
            # Its own producers: after a failed batch it starts a new one (see relay.py).
            new_producer=lambda: make_producer(self._bootstrap, client_id=f"conveyor-{self.service}-relay"),
            store=self.store,
            name=self.service,
            topic=default_topic(self._prefix),
        )
        self._tasks.append(asyncio.create_task(self._relay.run(), name=f"{self.service}-relay"))
        for sub in self._subscriptions:
            group = f"{self.service}.{sub.name}{self._group_suffix}"
            kafka_consumer = make_consumer(
                self._bootstrap,
                group_id=group,
                topics=[self._prefix + t for t in sub.topics],
                client_id=group,
                batch_wait_ms=sub.batch_wait_ms,
            )
            consumer = EventConsumer(
                name=group, pool=self._pool, consumer=kafka_consumer, producer=self._producer, handle=sub.handle
            )
            self._consumers.append(consumer)
            self._tasks.append(asyncio.create_task(run_consumer(kafka_consumer, consumer), name=group))
        log.info("backbone_started", service=self.service, consumers=[c.name for c in self._consumers])

    async def stop(self) -> None:
        if self._relay:
            self._relay.stop()
        for consumer in self._consumers:
            consumer.stop()
        done, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception():
                log.error("backbone_worker_failed", task=task.get_name(), error=repr(task.exception()))
        if self._producer:
            with contextlib.suppress(Exception):
                await self._producer.stop()
        self._tasks.clear()

    def status(self) -> tuple[bool, dict[str, Any]]:
        """For /health/ready: every worker still running."""
        if not self._run_workers:
            return True, {"workers": "disabled"}
        dead = [t.get_name() for t in self._tasks if t.done()]
        return not dead, {"workers": [t.get_name() for t in self._tasks], "stopped": dead}
