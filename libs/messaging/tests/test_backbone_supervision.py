"""Workers that meet what nobody expected are started again, and the database's odd ways of being
away are waited out instead of ending the relay.

Found by tests/faults: while PostgreSQL restarted under load, the notifications relay met asyncpg's
``InternalClientError`` ("cannot switch to state 12; another operation (2) is in progress"), which
it did not count as the database being away. The relay task ended, nothing of that service was
published again, and only /health/ready showed it, for the rest of the process's life.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from backbone_support import PROJECTION_DDL, TOPIC, append_one, record_in_order, wait_for_count
from conveyor_messaging import metrics, runtime
from conveyor_messaging.consumer import EventConsumer
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.kafka import make_producer
from conveyor_messaging.relay import OutboxRelay, default_topic
from conveyor_messaging.runtime import Backbone, Subscription
from conveyor_testing.plugin import Infra

pytestmark = pytest.mark.integration

STREAMS, VERSIONS = 3, 5
EVENTS = STREAMS * VERSIONS


async def write(pool: asyncpg.Pool, store: EventStore, first: int = 1, last: int = VERSIONS) -> None:
    for s in range(STREAMS):
        for version in range(first, last + 1):
            async with pool.acquire() as conn:
                await append_one(store, conn, f"stream-{s}", version)


def failing_once(original: Any, error: BaseException) -> Any:
    """``original`` with its first call replaced by raising ``error``."""
    calls = 0

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise error
        return await original(*args, **kwargs)

    return wrapper


async def until(condition: Any, within: float = 20.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


class TestSupervision:
    async def test_a_relay_and_a_consumer_that_die_are_started_again_and_lose_nothing(
        self, pool: asyncpg.Pool, infra: Infra, topic_prefix: str, thing_topic: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await pool.execute(PROJECTION_DDL)
        service = f"sup{uuid.uuid4().hex[:8]}"
        # The relay's first leadership and the consumer's first offset commit end in errors no
        # worker expects (the consumer's is the one the lag metric once raised after a rebalance).
        monkeypatch.setattr(
            OutboxRelay, "_relay_while_leader", failing_once(OutboxRelay._relay_while_leader, RuntimeError("bug"))
        )
        monkeypatch.setattr(EventConsumer, "_commit", failing_once(EventConsumer._commit, AssertionError("bug")))
        monkeypatch.setattr(runtime, "FIRST_RESTART_DELAY", 0.5)
        relay_name, consumer_name = f"{service}-relay", f"{service}.projection"
        restarts_before = {
            name: metrics.WORKER_RESTARTS.labels(name)._value.get() for name in (relay_name, consumer_name)
        }
        backbone = Backbone(
            service=service,
            pool=pool,
            bootstrap_servers=infra.kafka_bootstrap,
            subscriptions=[Subscription("projection", [TOPIC], record_in_order)],
            topic_prefix=topic_prefix,
        )
        await write(pool, backbone.store, last=2)
        await backbone.start()
        try:
            seen_restarting: set[str] = set()

            def restarting_reported() -> bool:
                ready, details = backbone.status()
                seen_restarting.update(details["restarting"])
                return not ready and relay_name in seen_restarting

            assert await until(restarting_reported), f"/health/ready never said the relay restarts: {seen_restarting}"
            await write(pool, backbone.store, first=3)
            applied = await wait_for_count(pool, "SELECT count(*) FROM applied", EVENTS)

            def restarted(name: str) -> float:
                return float(metrics.WORKER_RESTARTS.labels(name)._value.get() - restarts_before[name])

            # The consumer's commit fails after its transaction: the events are in, its restart is
            # yet to come. Ready again only once both have been started again.
            back = await until(lambda: restarted(relay_name) and restarted(consumer_name) and backbone.status()[0])
            assert back, f"restarts {restarted(relay_name):g}, {restarted(consumer_name):g}; {backbone.status()}"
            more = await wait_for_count(pool, "SELECT count(*) FROM applied", EVENTS + 1, timeout=3)
        finally:
            await backbone.stop()
        assert applied == more == EVENTS  # each once, redelivery and all: nothing more comes
        assert await pool.fetchval("SELECT count(*) FROM order_violations") == 0
        assert (restarted(relay_name), restarted(consumer_name)) == (1, 1)

    async def test_a_relay_waits_out_a_connection_the_server_left_half_way_through(
        self, pool: asyncpg.Pool, infra: Infra, topic_prefix: str, thing_topic: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await pool.execute(PROJECTION_DDL)
        store = EventStore(source="/conveyor/test")
        half_way = asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
        monkeypatch.setattr(EventStore, "read_next", failing_once(EventStore.read_next, half_way))
        name = f"relay-{uuid.uuid4().hex[:8]}"
        failures_before = metrics.RELAY_FAILURES.labels(name)._value.get()
        relay = OutboxRelay(
            pool=pool,
            new_producer=lambda: make_producer(infra.kafka_bootstrap),
            store=store,
            name=name,
            topic=default_topic(topic_prefix),
        )
        await write(pool, store)
        task = asyncio.create_task(relay.run())
        try:
            published = await until(lambda: metrics.RELAYED.labels(name)._value.get() >= EVENTS)
            alive = not task.done()
        finally:
            relay.stop()
            await asyncio.gather(task, return_exceptions=True)
        assert alive, f"the relay ended: {task.exception()!r}"
        assert published, f"published {metrics.RELAYED.labels(name)._value.get():g} of {EVENTS}"
        assert metrics.RELAY_FAILURES.labels(name)._value.get() == failures_before + 1
