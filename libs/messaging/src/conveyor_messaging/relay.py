"""Outbox relay: publishes committed events from the store to Kafka, at least once, in order.

The relay reads in commit order (see ``schema.py`` for why positions alone are not enough), sends
a batch with an idempotent acks=all producer keyed by stream id, waits for every acknowledgement,
and only then moves its checkpoint. A crash between the two re-sends part of a batch; consumers
skip what they have already applied. One relay per database publishes at a time: the others wait
on a PostgreSQL advisory lock, so several replicas of a service can run safely.

A batch that fails is sent again whole. Given a ``new_producer`` factory, the relay sends it with a
new producer: an idempotent producer whose batches expired while the broker was away has used up
sequence numbers the broker never saw, and the broker refuses everything it sends afterwards
(``OutOfOrderSequenceNumber``) until a new producer id starts the sequences again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from conveyor_messaging import metrics
from conveyor_messaging.contracts import topic_for
from conveyor_messaging.db import DATABASE_FAILURES, Connection, keeps_session_state
from conveyor_messaging.envelope import to_kafka
from conveyor_messaging.eventstore import OUTBOX_CHANNEL, START, Checkpoint, EventStore, RecordedEvent
from conveyor_messaging.lanes import BULK, bulk_topic

log = structlog.get_logger(__name__)

TopicFor = Callable[[RecordedEvent], str]


def default_topic(prefix: str = "") -> TopicFor:
    """The event's contract topic; its bulk twin for an event of the bulk lane (lanes.py)."""

    def topic(event: RecordedEvent) -> str:
        name = prefix + topic_for(event.type)
        return bulk_topic(name) if event.metadata.get("lane") == BULK else name

    return topic


class _Waits:
    """When the relay reads beyond other databases' open transactions (``eventstore.HORIZON_BEYOND_OTHER_DATABASES``).

    Most waits end within milliseconds, whoever's transaction they wait for, and reading beyond costs
    PostgreSQL a look at every backend. So the relay looks beyond only once it has been stuck (events
    wait, none can go) for ``look_beyond_after`` seconds, and keeps doing so for a second after: a long
    transaction elsewhere then delays this relay by that once a second at most, instead of for its
    whole length.
    """

    KEEP_LOOKING_FOR = 1.0

    def __init__(self, *, look_beyond_after: float) -> None:
        self._look_beyond_after = look_beyond_after
        self._waiting_since: float | None = None
        self._looking_until = 0.0

    def look_beyond(self) -> bool:
        now = time.monotonic()
        if self._waiting_since is not None and now - self._waiting_since >= self._look_beyond_after:
            self._looking_until = now + self.KEEP_LOOKING_FOR
        return now < self._looking_until

    def saw(self, *, stuck: bool) -> None:
        """After each read: ``stuck`` when events wait and none could be published."""
        if not stuck:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = time.monotonic()


class OutboxRelay:
    """Moves events from one service's event store to Kafka."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        store: EventStore,
        producer: AIOKafkaProducer | None = None,
        new_producer: Callable[[], AIOKafkaProducer] | None = None,
        name: str = "outbox",
        topic: TopicFor | None = None,
        batch_size: int = 1000,
        idle_wait: float = 1.0,
        linger: float = 0.005,
        look_beyond_after: float = 0.1,
        leader_retry: float = 2.0,
        max_publish_backoff: float = 0.5,
    ) -> None:
        """``producer``: a started producer the caller owns; or ``new_producer``: a factory of
        unstarted ones, which the relay starts, replaces after a failed batch, and stops."""
        if producer is None and new_producer is None:
            raise ValueError("give the relay a producer or a way to make one")
        self._pool = pool
        self._producer = producer
        self._new_producer = new_producer
        self._retiring: set[asyncio.Task[None]] = set()
        self._max_publish_backoff = max_publish_backoff
        self._store = store
        self.name = name
        self._topic = topic or default_topic()
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._linger = linger
        self._look_beyond_after = look_beyond_after
        self._leader_retry = leader_retry
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        """Relay until stopped; survives database and Kafka outages by retrying with backoff."""
        try:
            await self._run()
        finally:
            if self._new_producer is not None and self._producer is not None:
                self._retire(self._producer)
                self._producer = None
            if self._retiring:
                await asyncio.wait(self._retiring, timeout=10)

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                async with self._pool.acquire() as conn:
                    keeps_session_state(conn)  # its advisory lock and LISTEN go with the session
                    if not await self._lead(conn):
                        await self._sleep(self._leader_retry)
                        continue
                    await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
                    try:
                        await self._relay_while_leader(conn)
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.remove_listener(OUTBOX_CHANNEL, self._on_notify)
                            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", self._lock_key)
                backoff = 0.1
            except DATABASE_FAILURES as exc:
                metrics.RELAY_FAILURES.labels(self.name).inc()
                log.warning("relay_database_unavailable", relay=self.name, error=str(exc), retry_in=backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    @property
    def _lock_key(self) -> str:
        return f"conveyor-relay:{self.name}"

    async def _lead(self, conn: Connection) -> bool:
        return bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self._lock_key))

    async def _relay_while_leader(self, conn: Connection) -> None:
        checkpoint = await self.load_checkpoint(conn)
        held_back_wait = 0.002
        waits = _Waits(look_beyond_after=self._look_beyond_after)
        while not self._stopping.is_set():
            self._wakeup.clear()
            batch, held_back = await self._store.read_next(
                conn, after=checkpoint, limit=self._batch_size, beyond_other_databases=waits.look_beyond()
            )
            waits.saw(stuck=held_back and not batch)
            if batch:
                await self._publish(batch)
                checkpoint = batch[-1].checkpoint
                await self._save_checkpoint(conn, checkpoint)
                held_back_wait = 0.002
                if len(batch) < self._batch_size:
                    # Under load every commit notifies: reading again at once would publish the
                    # events one by one, each with its own read, produce request and checkpoint write.
                    # Lingering a few milliseconds lets them gather into one batch (Kafka's linger.ms).
                    await self._sleep(self._linger)
                continue
            if held_back:
                # Committed events wait behind an open transaction that may never notify: look again soon.
                await self._sleep(held_back_wait)
                held_back_wait = min(held_back_wait * 2, 0.01)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._idle_wait)

    async def _publish(self, batch: list[RecordedEvent]) -> None:
        """Send the batch and wait for every acknowledgement; retry the whole batch on failure."""
        attempt = 0
        while True:
            try:
                producer = await self._started_producer()
                acks = []
                for event in batch:
                    key, value, headers = to_kafka(event.to_envelope(with_data=False), data_json=event.data_json)
                    acks.append(await producer.send(self._topic(event), value=value, key=key, headers=headers))
                await asyncio.gather(*acks)
                break
            except Exception as exc:  # any Kafka failure: the same batch goes again, order kept by key
                attempt += 1
                metrics.RELAY_FAILURES.labels(self.name).inc()
                # Short: the backlog should start draining within half a second of the broker's return.
                delay = min(0.1 * 2**attempt, self._max_publish_backoff)
                log.warning("relay_publish_failed", relay=self.name, error=repr(exc), attempt=attempt, retry_in=delay)
                if self._stopping.is_set():
                    raise
                self._renew_producer()
                await self._sleep(delay)
        metrics.RELAYED.labels(self.name).inc(len(batch))
        newest = batch[-1].recorded_at
        metrics.RELAY_LAG.labels(self.name).set((datetime.now(UTC) - newest).total_seconds())

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            assert self._new_producer is not None
            producer = self._new_producer()
            try:
                await producer.start()
            except BaseException:
                self._retire(producer)
                raise
            self._producer = producer
        return self._producer

    def _renew_producer(self) -> None:
        """Drop the producer the failed batch went through; the next attempt starts a new one."""
        if self._new_producer is not None and self._producer is not None:
            self._retire(self._producer)
            self._producer = None

    def _retire(self, producer: AIOKafkaProducer) -> None:
        # Stopping waits for the producer's pending batches, which may wait for a broker that is
        # away: in the background, so the relay goes on meanwhile.
        async def stop() -> None:
            with contextlib.suppress(Exception):
                await producer.stop()

        task = asyncio.create_task(stop(), name=f"{self.name}-retired-producer")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def load_checkpoint(self, conn: Connection) -> Checkpoint:
        row = await conn.fetchrow(
            "SELECT commit_xid::text::bigint, position FROM relay_checkpoints WHERE relay = $1", self.name
        )
        return Checkpoint(row[0], row[1]) if row else START

    async def _save_checkpoint(self, conn: Connection, checkpoint: Checkpoint) -> None:
        await conn.execute(
            "INSERT INTO relay_checkpoints (relay, commit_xid, position) VALUES ($1, $2::text::xid8, $3)"
            " ON CONFLICT (relay) DO UPDATE SET commit_xid = excluded.commit_xid,"
            " position = excluded.position, updated_at = now()",
            self.name,
            str(checkpoint.commit_xid),
            checkpoint.position,
        )

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
