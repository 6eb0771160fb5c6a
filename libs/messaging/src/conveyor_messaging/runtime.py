"""Runs one service's side of the backbone: its outbox relay and its consumers, as background tasks.

A service's bootstrap builds one ``Backbone`` with the subscriptions from its routing table and
starts it for the app's lifetime. Nothing here connects before ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from conveyor_messaging import metrics
from conveyor_messaging.batches import BatchHandler, Handler
from conveyor_messaging.consumer import EventConsumer, run_consumer
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.kafka import make_consumer, make_producer
from conveyor_messaging.lanes import both_lanes
from conveyor_messaging.processed_marks import keep_pruning
from conveyor_messaging.relay import OutboxRelay, default_topic

log = structlog.get_logger(__name__)

FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0


@dataclass(frozen=True, slots=True)
class Subscription:
    """A consumer of the service: a name (its group and processed-marks key), topics, and either a
    per-event ``handle`` or a ``handle_batch`` that takes every new event of a fetch (``batches.py``)."""

    name: str
    topics: Sequence[str]
    handle: Handler | None = None
    handle_batch: BatchHandler | None = None
    # How long events may wait to be fetched together (``make_consumer``'s ``batch_wait_ms``); None:
    # each is fetched as soon as it arrives. For consumers whose work may be late by that much.
    batch_wait_ms: int | None = None

    def __post_init__(self) -> None:
        if (self.handle is None) == (self.handle_batch is None):
            raise ValueError(f"subscription {self.name!r}: give either handle or handle_batch")


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
        default_batch_wait_ms: int | None = None,
        processed_marks_retention: timedelta | None = None,
    ) -> None:
        self.service = service
        self.store = EventStore(source=f"/conveyor/{service}")
        self._pool = pool
        self._bootstrap = bootstrap_servers
        self._subscriptions = subscriptions
        self._prefix = topic_prefix
        self._run_workers = run_workers
        self._group_suffix = group_suffix
        self._default_batch_wait_ms = default_batch_wait_ms  # for subscriptions without their own
        self._marks_retention = processed_marks_retention  # None: marks are kept forever
        self._producer: AIOKafkaProducer | None = None
        self._relay: OutboxRelay | None = None
        self._consumers: dict[str, EventConsumer] = {}  # the current life of each consumer
        self._tasks: list[asyncio.Task[None]] = []
        self._restarting: set[str] = set()
        self._stopped = asyncio.Event()

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
        self._supervise(f"{self.service}-relay", self._relay.run)
        for sub in self._subscriptions:
            group = f"{self.service}.{sub.name}{self._group_suffix}"
            self._supervise(group, functools.partial(self._consume, sub, group))
        if self._marks_retention is not None:
            retention = self._marks_retention
            self._supervise(f"{self.service}-marks", lambda: keep_pruning(self._pool, retention, self._stopped))
        log.info("backbone_started", service=self.service, consumers=[t.get_name() for t in self._tasks[1:]])

    def consumers_by_topic(self) -> dict[str, list[str]]:
        """Topic -> the consumer groups (processed-marks keys) of this service that read it; what a
        consistency token is checked against (consistency.py), whether or not this process runs them."""
        found: dict[str, list[str]] = {}
        for sub in self._subscriptions:
            for topic in sub.topics:
                found.setdefault(topic, []).append(f"{self.service}.{sub.name}{self._group_suffix}")
        return found

    def batch_wait_of(self, sub: Subscription) -> int | None:
        """The subscription's own batch wait, else the service's default (``consumer_batch_wait_ms``)."""
        return self._default_batch_wait_ms if sub.batch_wait_ms is None else sub.batch_wait_ms

    async def _consume(self, sub: Subscription, group: str) -> None:
        """One life of a consumer: a new Kafka consumer each time (a stopped one cannot start again)."""
        kafka_consumer = make_consumer(
            self._bootstrap,
            group_id=group,
            topics=both_lanes(self._prefix + t for t in sub.topics),
            client_id=group,
            batch_wait_ms=self.batch_wait_of(sub),
        )
        assert self._producer is not None
        consumer = EventConsumer(
            name=group,
            pool=self._pool,
            consumer=kafka_consumer,
            producer=self._producer,
            handle=sub.handle,
            handle_batch=sub.handle_batch,
        )
        self._consumers[group] = consumer
        if self._stopped.is_set():
            return
        await run_consumer(kafka_consumer, consumer)

    def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self._tasks.append(asyncio.create_task(self._keep_running(name, run), name=name))

    async def _keep_running(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run a worker until the backbone stops, starting it again whenever it dies.

        The workers retry what they expect (the database or Kafka away) by themselves; this is for
        what nobody expected. Without it one such error stopped a relay or a consumer for the rest
        of the process's life, with /health/ready the only sign. The worker restarts with backoff,
        and /health/ready reports it as restarting meanwhile.
        """
        delay = FIRST_RESTART_DELAY
        while not self._stopped.is_set():
            try:
                await run()
                return
            except Exception as exc:  # what the worker did not expect; CancelledError passes
                if self._stopped.is_set():
                    return
                metrics.WORKER_RESTARTS.labels(name).inc()
                log.exception("backbone_worker_died", task=name, error=repr(exc), restart_in=delay)
                self._restarting.add(name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                self._restarting.discard(name)
                delay = min(delay * 2, MAX_RESTART_DELAY)

    async def stop(self) -> None:
        self._stopped.set()
        if self._relay:
            self._relay.stop()
        for consumer in self._consumers.values():
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
        """For /health/ready: every worker still running, and how far behind each consumer is.

        Lag is reported, never a reason to be unready: a pod taken out of service for lag (or for a
        Kafka outage) would stop taking commands, which the outbox keeps safe meanwhile.
        """
        if not self._run_workers:
            return True, {"workers": "disabled"}
        dead = [t.get_name() for t in self._tasks if t.done()]
        restarting = sorted(self._restarting)
        details = {
            "workers": [t.get_name() for t in self._tasks],
            "stopped": dead,
            "restarting": restarting,
            "lag": self.lag(),
        }
        return not dead and not restarting, details

    def lag(self) -> dict[str, dict[str, Any]]:
        """Per consumer group: events not yet applied and how old they may be (``EventConsumer.lag``)."""
        return {group: consumer.lag() for group, consumer in self._consumers.items()}
