"""The bulk lane: bulk work goes by twin topics and never queues in front of people's work, and each
stream keeps its order across the lanes (ADR 004)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from backbone_support import EVENT_TYPE, PROJECTION_DDL, append_one, projection_consumer, read_topic, running
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope, from_kafka, to_kafka
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.lanes import BULK, bulk_lane, bulk_topic
from conveyor_messaging.relay import OutboxRelay, default_topic
from conveyor_testing.plugin import Infra
from conveyor_testing.waiting import eventually

store = EventStore(source="/conveyor/test")


def change(subject: str, version: int, **lane: str | None) -> Envelope:
    return Envelope(type=EVENT_TYPE, source="/t", subject=subject, tenant_id="tenant-a", data={"seq": version},
                    actor=Actor.user("u"), aggregate_version=version, **lane)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.unit
def test_the_lane_and_the_barrier_travel_in_the_cloudevent() -> None:
    bulk, after = change("s", 1, lane=BULK), change("s", 2, after_bulk=str(uuid.uuid4()))
    assert from_kafka(*to_kafka(bulk)).lane == BULK
    assert from_kafka(*to_kafka(after)).after_bulk == after.after_bulk
    assert from_kafka(*to_kafka(change("s", 3))).lane == "interactive"
    assert "ce_lane" not in dict(to_kafka(change("s", 3))[2])  # people's events look as they always did


@pytest.mark.integration
class TestTheStoreAndTheRelay:
    async def test_bulk_events_are_marked_and_later_interactive_events_of_the_stream_name_the_newest(
        self, pool: asyncpg.Pool
    ) -> None:
        async with pool.acquire() as conn:
            with bulk_lane():
                await append_one(store, conn, "imported", 1)
                await append_one(store, conn, "imported", 2)
            await append_one(store, conn, "imported", 3)
            await append_one(store, conn, "typed-in", 1)
            events = await eventually(lambda: store.read_all(conn), lambda found: len(found) == 4)
        by_version = {(e.stream_id, e.version): e for e in events}
        assert [by_version[("imported", v)].metadata.get("lane") for v in (1, 2, 3)] == [BULK, BULK, None]
        assert by_version[("imported", 3)].to_envelope().after_bulk == str(by_version[("imported", 2)].event_id)
        assert by_version[("imported", 1)].to_envelope().after_bulk is None
        assert by_version[("typed-in", 1)].to_envelope().after_bulk is None

    async def test_the_relay_publishes_bulk_events_to_the_twin_topic(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, topic_prefix: str, thing_topic: str
    ) -> None:
        async with pool.acquire() as conn:
            with bulk_lane():
                await append_one(store, conn, "imported", 1)
            await append_one(store, conn, "imported", 2)
        relay = OutboxRelay(pool=pool, producer=producer, store=store, topic=default_topic(topic_prefix))
        async with running(relay.run()):
            (twin,) = await read_topic(infra.kafka_bootstrap, [bulk_topic(thing_topic)], 1)
            (own,) = await read_topic(infra.kafka_bootstrap, [thing_topic], 1)
        assert from_kafka(twin.key, twin.value, twin.headers).aggregate_version == 1
        assert (
            from_kafka(own.key, own.value, own.headers).after_bulk == from_kafka(twin.key, twin.value, twin.headers).id
        )


@pytest.mark.integration
class TestConsumersKeepEachStreamsOrder:
    @pytest.fixture
    async def projection(self, pool: asyncpg.Pool) -> asyncpg.Pool:
        await pool.execute(PROJECTION_DDL + "ALTER TABLE applied ADD COLUMN n serial;")
        return pool

    async def test_a_change_that_overtook_its_import_waits_for_it_and_then_goes_in_order(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, thing_topic: str
    ) -> None:
        imported = change("company", 1, lane=BULK)
        edited = change("company", 2, after_bulk=imported.id)
        moved = change("company", 3, after_bulk=imported.id)
        other = change("other", 1)
        async with projection_consumer(projection, infra.kafka_bootstrap, [thing_topic, bulk_topic(thing_topic)]):
            for envelope, topic in ((edited, thing_topic), (moved, thing_topic), (other, thing_topic)):
                key, value, headers = to_kafka(envelope)
                await producer.send_and_wait(topic, value=value, key=key, headers=headers)
            await eventually(lambda: count(projection, "other"), lambda n: n == 1)  # the person's lane moved on
            assert await count(projection, "company") == 0
            assert await projection.fetchval("SELECT count(*) FROM parked_events") == 2
            key, value, headers = to_kafka(imported)
            await producer.send_and_wait(bulk_topic(thing_topic), value=value, key=key, headers=headers)
            await eventually(lambda: count(projection, "company"), lambda n: n == 3)
        order = await projection.fetch("SELECT version FROM applied WHERE stream_id = 'company' ORDER BY n")
        assert [row["version"] for row in order] == [1, 2, 3]
        assert await projection.fetchval("SELECT count(*) FROM order_violations") == 0
        assert await projection.fetchval("SELECT count(*) FROM parked_events") == 0

    async def test_a_bulk_backlog_does_not_queue_in_front_of_a_persons_change(
        self, projection: asyncpg.Pool, producer: AIOKafkaProducer, infra: Infra, topic_prefix: str, thing_topic: str
    ) -> None:
        async with projection.acquire() as conn:
            with bulk_lane():
                for n in range(60):
                    async with conn.transaction():
                        for version in range(1, 51):
                            await append_one(store, conn, f"imported-{n}", version)
            await append_one(store, conn, "typed-in", 1)
        relay = OutboxRelay(pool=projection, producer=producer, store=store, topic=default_topic(topic_prefix))
        async with running(relay.run()):
            await read_topic(
                infra.kafka_bootstrap, [thing_topic], 1
            )  # everything is published before the consumer starts
            async with projection_consumer(
                projection, infra.kafka_bootstrap, [thing_topic, bulk_topic(thing_topic)], batch_size=100
            ):
                await eventually(lambda: count(projection, "typed-in"), lambda n: n == 1)
                position = await projection.fetchval("SELECT n FROM applied WHERE stream_id = 'typed-in'")
                await eventually(lambda: projection.fetchval("SELECT count(*) FROM applied"), lambda n: n == 3001)
        assert position < 1000, f"the person's change was applied {position}th, behind the import's backlog"
        assert await projection.fetchval("SELECT count(*) FROM order_violations") == 0


async def count(pool: asyncpg.Pool, stream: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM applied WHERE stream_id = $1", stream))
