"""Batch reactions: whole fetches handed to set-based reactions, in aggregate order, exactly once."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from backbone_support import (
    EVENT_TYPE,
    PROJECTION_DDL,
    append_one,
    projection_consumer,
    read_topic,
    running,
    wait_for_count,
)
from conveyor_messaging.actor import Actor
from conveyor_messaging.batches import in_runs, route_mixed
from conveyor_messaging.consumer import EventConsumer
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.relay import OutboxRelay, default_topic
from conveyor_testing.plugin import Infra

store = EventStore(source="/conveyor/test")
THING = EVENT_TYPE


def event(kind: str, subject: str, tenant: str = "t") -> Envelope:
    return Envelope(type=kind, source="/test", subject=subject, tenant_id=tenant, data={}, actor=Actor.user("u"))


async def send_things(producer: AIOKafkaProducer, topic: str, subjects: Sequence[str]) -> list[Envelope]:
    """A first change of each subject, queued to the topic and flushed."""
    envelopes = [event(THING, subject) for subject in subjects]
    for envelope in envelopes:
        key, value, headers = to_kafka(envelope)
        await producer.send(topic, value=value, key=key, headers=headers)
    await producer.flush()
    return envelopes


@pytest.mark.unit
class TestRuns:
    def test_events_of_other_aggregates_join_the_run_of_their_reaction(self) -> None:
        created_a, updated_a, created_b, created_c = (
            event("created", "a"), event("updated", "a"), event("created", "b"), event("created", "c")
        )  # fmt: skip
        runs = in_runs([created_a, updated_a, created_b, created_c], lambda e: e.type)
        assert [(reaction, [e.subject for e in run]) for reaction, run in runs] == [
            ("created", ["a", "b", "c"]),
            ("updated", ["a"]),
        ]

    def test_an_aggregate_never_goes_ahead_of_its_own_earlier_event(self) -> None:
        events = [event("created", "a"), event("updated", "a"), event("created", "b"), event("deleted", "a"),
                  event("updated", "b"), event("created", "a", tenant="other")]  # fmt: skip
        runs = in_runs(events, lambda e: e.type)
        order = {id(e): n for n, (_, run) in enumerate(runs) for e in run}
        for earlier, later in [(0, 1), (1, 3), (2, 4)]:
            assert order[id(events[earlier])] < order[id(events[later])]
        assert [reaction for reaction, _ in runs] == ["created", "updated", "deleted"]
        assert [e.tenant_id for e in runs[0][1]] == ["t", "t", "other"]  # another tenant's "a" is another aggregate

    def test_types_without_a_reaction_are_left_out(self) -> None:
        assert in_runs([event("unknown", "a")], lambda e: None) == []

    def test_a_type_cannot_have_both_a_batch_reaction_and_a_handler(self) -> None:
        async def batch(conn: Connection, events: Sequence[Envelope]) -> None: ...
        async def single(conn: Connection, event: Envelope) -> None: ...

        with pytest.raises(ValueError, match="created"):
            route_mixed({"created": batch}, {"created": single})


BATCH_DDL = """
CREATE TABLE batch_calls (call serial PRIMARY KEY, size int NOT NULL);
"""


async def record_set_based(conn: Connection, events: Sequence[Envelope]) -> None:
    """One statement for the whole run: what a batch reaction looks like."""
    await conn.execute("INSERT INTO batch_calls (size) VALUES ($1)", len(events))
    await conn.execute(
        "INSERT INTO applied (event_id, stream_id, version) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
        [e.id for e in events],
        [e.subject for e in events],
        [e.aggregate_version for e in events],
    )


@pytest.mark.integration
class TestBatchConsumer:
    @pytest.fixture
    async def projection(self, pool: asyncpg.Pool) -> asyncpg.Pool:
        await pool.execute(PROJECTION_DDL + BATCH_DDL)
        return pool

    async def test_a_backlog_reaches_the_reaction_in_a_few_set_based_calls_in_aggregate_order(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, topic_prefix: str, thing_topic: str
    ) -> None:
        async with projection.acquire() as conn:
            for stream in range(50):
                for version in range(1, 7):
                    await append_one(store, conn, f"s{stream}", version)
        relay = OutboxRelay(pool=projection, producer=producer, store=store, topic=default_topic(topic_prefix))
        reaction = route_mixed({THING: record_set_based}, {})
        async with (
            running(relay.run()),
            projection_consumer(projection, infra.kafka_bootstrap, thing_topic, handle=None, handle_batch=reaction),
        ):
            assert await wait_for_count(projection, "SELECT count(*) FROM applied", 300) == 300
        calls = await projection.fetchval("SELECT count(*) FROM batch_calls")
        assert calls < 30, f"{calls} calls for 300 events: the reaction was not given whole fetches"
        out_of_order = await projection.fetchval(
            "SELECT count(*) FROM (SELECT version, lag(version) OVER (PARTITION BY stream_id ORDER BY event_order)"
            " AS previous FROM (SELECT *, row_number() OVER () AS event_order FROM applied) a) v"
            " WHERE previous IS NOT NULL AND version <> previous + 1"
        )
        assert out_of_order == 0

    async def test_a_whole_batch_delivered_again_changes_nothing(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, thing_topic: str
    ) -> None:
        envelopes = await send_things(producer, thing_topic, [f"s{n}" for n in range(40)])
        for envelope in envelopes:  # the whole fetch again, as after a crash before the offset commit
            key, value, headers = to_kafka(envelope)
            await producer.send(thing_topic, value=value, key=key, headers=headers)
        await producer.send_and_wait(thing_topic, **marker())
        reaction = route_mixed({THING: record_set_based}, {"marker": mark_seen})
        async with projection_consumer(
            projection, infra.kafka_bootstrap, thing_topic, handle=None, handle_batch=reaction
        ):
            await wait_for_count(projection, "SELECT count(*) FROM applied WHERE stream_id = 'marker'", 1)
        assert await projection.fetchval("SELECT count(*) FROM applied") == 41

    async def test_a_poison_event_inside_a_batch_alone_is_dead_lettered_and_the_rest_applied(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, thing_topic: str
    ) -> None:
        async def refuses_poison(conn: Connection, events: Sequence[Envelope]) -> None:
            if any(e.subject == "poison" for e in events):
                raise ValueError("poison in the batch")
            await record_set_based(conn, events)

        subjects = [f"before-{n}" for n in range(20)] + ["poison"] + [f"after-{n}" for n in range(20)]
        await send_things(producer, thing_topic, subjects)
        reaction = route_mixed({THING: refuses_poison}, {})
        async with projection_consumer(
            projection, infra.kafka_bootstrap, thing_topic, handle=None, handle_batch=reaction,
            max_attempts=2, first_backoff=0.01,
        ):  # fmt: skip
            assert await wait_for_count(projection, "SELECT count(*) FROM applied", 40) == 40
            (dead,) = await read_topic(infra.kafka_bootstrap, [f"{thing_topic}.deadletter"], 1)
        assert dead.key == b"poison"
        assert b"poison in the batch" in dict(dead.headers)["dlq_error"]
        assert await projection.fetchval("SELECT count(*) FROM applied WHERE stream_id = 'poison'") == 0

    async def test_lag_is_reported_while_behind_and_cleared_once_caught_up(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, thing_topic: str
    ) -> None:
        gate, calls = asyncio.Event(), []

        async def stuck_on_the_second_batch(conn: Connection, events: Sequence[Envelope]) -> None:
            calls.append(len(events))
            if len(calls) == 2:
                await gate.wait()
            await record_set_based(conn, events)

        await send_things(producer, thing_topic, [f"s{n}" for n in range(30)])
        reaction = route_mixed({THING: stuck_on_the_second_batch}, {})
        async with projection_consumer(
            projection, infra.kafka_bootstrap, thing_topic, handle=None, handle_batch=reaction, batch_size=5
        ) as consumer:
            behind = await lag_when(consumer, lambda lag: lag["events"] >= 25)  # 5 applied, stuck on the next
            first_age = behind["seconds"]
            assert first_age > 0
            older = await lag_when(consumer, lambda lag: lag["seconds"] > first_age + 0.3)
            assert older["events"] >= 25, "a stuck consumer's age grows while its count stays"
            gate.set()
            caught_up = await lag_when(consumer, lambda lag: lag["events"] == 0)
        assert caught_up == {"events": 0, "seconds": 0.0}
        assert await projection.fetchval("SELECT count(*) FROM applied") == 30


def marker() -> dict[str, Any]:
    envelope = Envelope(type="marker", source="/t", subject="marker", tenant_id="t", data={}, actor=Actor.user("u"))
    key, value, headers = to_kafka(envelope)
    return {"value": value, "key": key, "headers": headers}


async def mark_seen(conn: Connection, event: Envelope) -> None:
    await conn.execute("INSERT INTO applied (event_id, stream_id, version) VALUES ($1, 'marker', 0)", event.id)


async def lag_when(
    consumer: EventConsumer, condition: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """The consumer's lag figures once ``condition`` holds for them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition(lag := consumer.lag()):
        assert asyncio.get_running_loop().time() < deadline, f"lag never met the condition; last {lag}"
        await asyncio.sleep(0.05)
    return lag


@pytest.mark.integration
class TestACrashBetweenTheDatabaseAndTheOffsets:
    async def test_a_batch_committed_but_not_acknowledged_is_delivered_again_and_skipped_as_a_whole(
        self, pool: asyncpg.Pool, backbone_dsn: str, producer: AIOKafkaProducer, infra: Infra, thing_topic: str
    ) -> None:
        await pool.execute(PROJECTION_DDL + "CREATE TABLE repeats (skipped int NOT NULL);")
        await send_things(producer, thing_topic, [f"s{n}" for n in range(300)])
        group = f"{thing_topic}-crash"
        script = Path(__file__).with_name("consumer_process.py")

        async def consumer(die_at_commit: int) -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, str(script), backbone_dsn, infra.kafka_bootstrap, thing_topic, group, str(die_at_commit)
            )

        dying = await consumer(die_at_commit=3)
        assert await asyncio.wait_for(dying.wait(), 60) == -signal.SIGKILL
        applied_before = await pool.fetchval("SELECT count(*) FROM applied")
        assert 0 < applied_before < 300, "it died after some batches, not before the first or after the last"

        survivor = await consumer(die_at_commit=0)
        try:
            assert await wait_for_count(pool, "SELECT count(*) FROM applied", 300) == 300
            skipped = await wait_for_count(pool, "SELECT coalesce(sum(skipped), 0) FROM repeats", 1)
        finally:
            survivor.kill()
            await survivor.wait()
        assert skipped >= 1, "the batch whose offsets were never committed came again"
        assert await pool.fetchval("SELECT count(*) FROM processed_events") == 300
