"""Idempotent Kafka consumer: apply each event exactly once, then commit the offset.

For every fetch (records of one or more partitions, each partition in order) the consumer opens one
database transaction, marks the events processed in ``processed_events`` with one statement (the
mark is the idempotency: a redelivered event finds its mark and is skipped), hands the new ones to
its batch handler (``batches.py``: set-based reactions, or per-event handlers one at a time),
commits, and only then commits the Kafka offsets, all partitions in one request. A failing
batch is replayed one event at a time with bounded retries and backoff; an event that keeps
failing, or a record that cannot be decoded, goes to the dead-letter topic with its error and the
consumer moves on. Infrastructure errors (the database is away) are not the event's
fault: they are retried without limit and never dead-letter anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from conveyor_messaging import barrier, metrics
from conveyor_messaging.batches import BatchHandler, Handler, one_at_a_time, route
from conveyor_messaging.db import DATABASE_AWAY, Connection
from conveyor_messaging.envelope import Envelope, MalformedMessage, from_kafka
from conveyor_messaging.lanes import is_bulk_topic

log = structlog.get_logger(__name__)

T = TypeVar("T")

INFRASTRUCTURE_ERRORS = DATABASE_AWAY

__all__ = ["BatchHandler", "EventConsumer", "Handler", "route", "run_consumer"]


class EventConsumer:
    """Applies the events of some topics to one service's database, exactly once each."""

    def __init__(
        self,
        *,
        name: str,
        pool: asyncpg.Pool,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        handle: Handler | None = None,
        handle_batch: BatchHandler | None = None,
        dead_letter_topic: str | None = None,
        max_attempts: int = 5,
        first_backoff: float = 0.05,
        max_backoff: float = 2.0,
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self._pool = pool
        self._consumer = consumer
        self._producer = producer
        if (handle is None) == (handle_batch is None):
            raise ValueError("give a consumer either handle or handle_batch")
        self._handle_batch = handle_batch if handle_batch is not None else one_at_a_time(handle)  # type: ignore[arg-type]
        self.dead_letter_topic = dead_letter_topic or f"conveyor.deadletter.{name}"
        self._max_attempts = max_attempts
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._batch_size = batch_size
        self._stopping = asyncio.Event()
        self._next_offsets: dict[TopicPartition, int] = {}
        self._last_applied_time: datetime | None = None
        self._started_at = datetime.now(UTC)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped. The caller starts the Kafka consumer and stops it afterwards."""
        while not self._stopping.is_set():
            try:
                batches = await self._fetch()
            except KafkaError as exc:  # the client reconnects by itself; do not spin meanwhile
                log.warning("consumer_fetch_failed", consumer=self.name, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            records = [record for part in batches.values() for record in part]
            if records:
                await self._apply_fetched(records)
                await self._commit({tp: part[-1].offset + 1 for tp, part in batches.items() if part})
            self._learn_positions()
            self._export_lag()

    def _learn_positions(self) -> None:
        """Where each assigned partition stands (everything before it is applied), for ``lag``; a
        partition whose position is not known yet (just assigned) is left for the next round.

        Read from aiokafka's subscription state (pinned in uv.lock) without waiting: the public
        ``position()`` waits for a position to become valid, and awaiting it for every partition on
        every round slowed a consumer of many partitions down to a crawl.
        """
        self._next_offsets.clear()
        try:
            assignment = self._consumer._subscription.subscription.assignment
        except AttributeError:  # no subscription yet, or a rebalance under way
            return
        if assignment is None:
            return
        for tp in self._consumer.assignment():
            with contextlib.suppress(Exception):
                state = assignment.state_value(tp)
                if state is not None and state.has_valid_position:
                    self._next_offsets[tp] = state.position

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        """The next records, people's lane first: bulk records fill what room the interactive ones
        leave (lanes.py), so an import's backlog never sits in front of a person's change."""
        assigned = self._consumer.assignment()
        bulk = [tp for tp in assigned if is_bulk_topic(tp.topic)]
        interactive = [tp for tp in assigned if not is_bulk_topic(tp.topic)]
        fetched: dict[TopicPartition, list[ConsumerRecord]] = {}
        if bulk and interactive:
            fetched = await self._consumer.getmany(*interactive, timeout_ms=0, max_records=self._batch_size)
            room = self._batch_size - sum(len(part) for part in fetched.values())
            if room > 0:
                fetched |= await self._consumer.getmany(*bulk, timeout_ms=0, max_records=room)
        if not fetched:
            fetched = await self._consumer.getmany(timeout_ms=200, max_records=self._batch_size)
        return fetched

    def lag(self) -> dict[str, Any]:
        """How far behind the consumer is: events not yet applied on its partitions, and how old the
        oldest of them may be (the time since the newest applied event was made; 0 when caught up).

        Read from what the last fetch told, so a consumer stuck on its database shows its age growing.
        """
        events = 0
        for tp in self._consumer.assignment():
            # Both are known once a fetch has answered for the partition (an empty one included).
            highwater, position = self._consumer.highwater(tp), self._next_offsets.get(tp)
            if highwater is not None and position is not None:
                events += max(highwater - position, 0)
        since = self._last_applied_time or self._started_at
        seconds = max((datetime.now(UTC) - since).total_seconds(), 0.0) if events else 0.0
        return {"events": events, "seconds": round(seconds, 3)}

    def _export_lag(self) -> None:
        figures = self.lag()
        metrics.CONSUMER_LAG_EVENTS.labels(self.name).set(figures["events"])
        metrics.CONSUMER_LAG_SECONDS.labels(self.name).set(figures["seconds"])

    async def _apply_fetched(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply one fetch (several partitions, each in its order) in one transaction if it can."""
        good: list[tuple[ConsumerRecord, Envelope]] = []
        for record in records:
            try:
                good.append((record, from_kafka(record.key, record.value, record.headers)))
            except MalformedMessage as exc:
                await self._dead_letter(record, exc)
        if good:
            await self._until_infrastructure_answers(lambda: self._apply(good))

    async def _apply(self, batch: list[tuple[ConsumerRecord, Envelope]]) -> None:
        started = time.perf_counter()
        try:
            applied = await self._apply_in_one_transaction(batch)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            log.warning("consumer_batch_failed", consumer=self.name, size=len(batch), error=repr(exc))
            applied = []
            for record, event in batch:
                applied += await self._apply_one_with_retries(record, event)
        metrics.HANDLE_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        applied_ids = {id(record) for record in applied}
        for record, _ in batch:
            counter = metrics.CONSUMED if id(record) in applied_ids else metrics.DUPLICATES
            counter.labels(self.name, record.topic).inc()

    async def _apply_in_one_transaction(self, batch: list[tuple[ConsumerRecord, Envelope]]) -> list[ConsumerRecord]:
        """Mark and handle the batch; returns the records whose handler ran (the rest were repeats)."""
        applied: list[ConsumerRecord] = []
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::text[])"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                self.name,
                [event.id for _, event in batch],
            )
            fresh = {row[0] for row in rows}
            new: list[tuple[ConsumerRecord, Envelope]] = []
            for record, event in batch:
                if event.id in fresh:
                    fresh.discard(event.id)  # the same event twice in one batch runs once
                    new.append((record, event))
                    applied.append(record)
            if new:
                await self.apply_in_stream_order(conn, new, self._handle_batch)
        if batch:
            newest = max(event.time for _, event in batch)
            if self._last_applied_time is None or newest > self._last_applied_time:
                self._last_applied_time = newest
        return applied

    async def apply_in_stream_order(
        self, conn: Connection, new: list[tuple[ConsumerRecord, Envelope]], handle: BatchHandler
    ) -> None:
        """Hand the new events to ``handle``, each stream in its order across the lanes: what must wait
        for a bulk event is parked, what that bulk event frees is released after it (barrier.py)."""
        ready = await barrier.hold_back(conn, self.name, new)
        if ready:
            await handle(conn, ready)
            released = await barrier.release(conn, self.name, ready)
            if released:
                await handle(conn, released)

    async def _apply_one_with_retries(self, record: ConsumerRecord, event: Envelope) -> list[ConsumerRecord]:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._max_attempts),
                wait=wait_exponential(multiplier=self._first_backoff, max=self._max_backoff),
                retry=retry_if_not_exception_type(INFRASTRUCTURE_ERRORS),
                reraise=True,
            ):
                with attempt:
                    return await self._until_infrastructure_answers(
                        lambda: self._apply_in_one_transaction([(record, event)])
                    )
        except Exception as exc:
            await self._dead_letter(record, exc)
        return []

    async def _until_infrastructure_answers(self, work: Callable[[], Awaitable[T]]) -> T:
        delay = self._first_backoff
        while True:
            try:
                return await work()
            except INFRASTRUCTURE_ERRORS as exc:
                log.warning("consumer_database_unavailable", consumer=self.name, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException) -> None:
        headers = [
            *list(record.headers or ()),
            ("dlq_error", repr(error)[:2000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        ]
        delay = self._first_backoff
        while True:  # the offset moves on only once the dead letter is safely stored
            try:
                ack = await self._producer.send(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                )
                await ack
                break
            except KafkaError as exc:
                log.warning("dead_letter_publish_failed", consumer=self.name, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        metrics.DEAD_LETTERED.labels(self.name, record.topic).inc()
        log.error(
            "event_dead_lettered",
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=repr(error),
        )

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """One offset commit for the whole fetch, after its database transaction committed."""
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # A rebalance or a broker restart: the next commit covers this one, or the partition's
            # next owner redelivers these records and the processed marks skip them.
            log.info("offset_commit_skipped", consumer=self.name, error=repr(exc))
            return
        # A rebalance may have taken some of these partitions while the commit was on its way;
        # aiokafka refuses (AssertionError) to tell the high watermark of a partition not assigned.
        assigned = self._consumer.assignment()
        for tp, next_offset in offsets.items():
            highwater = self._consumer.highwater(tp) if tp in assigned else None
            if highwater is not None:
                lag = max(highwater - next_offset, 0)
                metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(lag)


async def run_consumer(consumer: AIOKafkaConsumer, event_consumer: EventConsumer) -> None:
    """Start the Kafka consumer, run the event consumer, and leave the group cleanly at the end."""
    await consumer.start()
    try:
        await event_consumer.run()
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
