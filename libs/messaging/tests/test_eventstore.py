"""The event store on real PostgreSQL: optimistic concurrency, stream reads, commit-order reads."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest
from backbone_support import EVENT_TYPE, append_one, transaction_open_in_another_database
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import (
    ANY_VERSION,
    NO_STREAM,
    START,
    ConcurrencyConflict,
    EventStore,
    FirstEvent,
    NewEvent,
)
from conveyor_messaging.lanes import BULK, INTERACTIVE
from conveyor_testing.plugin import Infra
from conveyor_testing.waiting import eventually

pytestmark = pytest.mark.integration

store = EventStore(source="/conveyor/test")


async def try_append(pool: asyncpg.Pool, stream: str, expected: int, writer: int) -> bool:
    async with pool.acquire() as conn:
        try:
            await store.append(
                conn,
                stream_id=stream,
                tenant_id="tenant-a",
                aggregate_type="thing",
                expected_version=expected,
                events=[NewEvent(EVENT_TYPE, {"writer": writer})],
                actor=Actor.user(f"writer-{writer}"),
            )
            return True
        except ConcurrencyConflict:
            return False


async def append_to(conn: Connection, stream: str, *, tenant: str, expected: int) -> None:
    await store.append(
        conn,
        stream_id=stream,
        tenant_id=tenant,
        aggregate_type="thing",
        expected_version=expected,
        events=[NewEvent(EVENT_TYPE, {})],
        actor=Actor.user(f"user-of-{tenant}"),
    )


class TestOptimisticConcurrency:
    async def test_of_n_concurrent_writers_exactly_one_wins_each_version(self, pool: asyncpg.Pool) -> None:
        writers, versions = 24, 15
        for version in range(versions):
            outcomes = await asyncio.gather(*(try_append(pool, "contended", version, w) for w in range(writers)))
            assert outcomes.count(True) == 1, f"version {version + 1}: {outcomes.count(True)} winners"
        async with pool.acquire() as conn:
            events = await store.read_stream(conn, "contended", tenant_id="tenant-a")
        assert [e.version for e in events] == list(range(1, versions + 1))

    async def test_a_conflict_names_the_version_found(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await append_one(store, conn, "s", 1)
            await append_one(store, conn, "s", 2)
            with pytest.raises(ConcurrencyConflict) as caught:
                await append_one(store, conn, "s", 2)
        assert (caught.value.expected, caught.value.actual) == (1, 2)

    async def test_a_new_stream_cannot_be_created_twice(self, pool: asyncpg.Pool) -> None:
        outcomes = await asyncio.gather(*(try_append(pool, "fresh", NO_STREAM, w) for w in range(10)))
        assert outcomes.count(True) == 1

    async def test_any_version_appends_after_whatever_is_there(self, pool: asyncpg.Pool) -> None:
        outcomes = await asyncio.gather(*(try_append(pool, "log", ANY_VERSION, w) for w in range(10)))
        assert all(outcomes)
        async with pool.acquire() as conn:
            assert await store.stream_version(conn, "log", tenant_id="tenant-a") == 10

    async def test_a_failed_transaction_leaves_no_events_behind(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await append_one(store, conn, "rolled-back", 1)
                    raise RuntimeError("the handler failed after appending")
            assert await store.read_stream(conn, "rolled-back", tenant_id="tenant-a") == []
            await append_one(store, conn, "rolled-back", 1)


class TestBulkCreation:
    async def test_many_new_streams_start_in_one_statement(self, pool: asyncpg.Pool) -> None:
        streams = [(f"bulk-{n}", NewEvent(EVENT_TYPE, {"n": n})) for n in range(50)]
        async with pool.acquire() as conn:
            recorded = await store.append_new_streams(
                conn, tenant_id="tenant-a", aggregate_type="thing", streams=streams, actor=Actor.user("importer")
            )
            assert [(r.stream_id, r.version, r.data["n"]) for r in recorded] == [(f"bulk-{n}", 1, n) for n in range(50)]
            assert [e.data for e in await store.read_stream(conn, "bulk-7", tenant_id="tenant-a")] == [{"n": 7}]
            assert await store.stream_version(conn, "bulk-49", tenant_id="tenant-a") == 1

    async def test_one_existing_stream_refuses_the_whole_batch(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await append_one(store, conn, "taken", 1)
            streams = [("fresh-1", NewEvent(EVENT_TYPE, {})), ("taken", NewEvent(EVENT_TYPE, {}))]
            with pytest.raises(ConcurrencyConflict) as caught:
                await store.append_new_streams(
                    conn, tenant_id="tenant-a", aggregate_type="thing", streams=streams, actor=Actor.user("u")
                )
            assert caught.value.stream_id == "taken"
            assert await store.stream_version(conn, "fresh-1", tenant_id="tenant-a") == 0

    async def test_each_first_event_keeps_its_own_lane(self, pool: asyncpg.Pool) -> None:
        # A batch reaction records one event per cause: an imported item's follows it by the bulk lane.
        firsts = [
            FirstEvent("tenant-a", f"laned-{lane}", "thing", NewEvent(EVENT_TYPE, {}), Actor.user("u"), lane=lane)
            for lane in (BULK, None)
        ]
        async with pool.acquire() as conn:
            recorded = await store.append_first_events(conn, firsts)
        assert [r.metadata.get("lane") for r in recorded] == [BULK, None]
        assert [r.to_envelope().lane for r in recorded] == [BULK, INTERACTIVE]


class TestReads:
    async def test_another_tenant_reads_nothing_and_cannot_append(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await append_one(store, conn, "mine", 1)
            assert await store.read_stream(conn, "mine", tenant_id="tenant-b") == []
            with pytest.raises(ConcurrencyConflict):
                await append_to(conn, "mine", tenant="tenant-b", expected=1)
            assert [e.tenant_id for e in await store.read_stream(conn, "mine", tenant_id="tenant-a")] == ["tenant-a"]

    async def test_two_tenants_may_use_the_same_stream_id_without_meeting(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            await append_to(conn, "shared-id", tenant="tenant-a", expected=NO_STREAM)
            await append_to(conn, "shared-id", tenant="tenant-b", expected=NO_STREAM)
            await append_to(conn, "shared-id", tenant="tenant-b", expected=ANY_VERSION)
            assert await store.stream_version(conn, "shared-id", tenant_id="tenant-a") == 1
            assert await store.stream_version(conn, "shared-id", tenant_id="tenant-b") == 2

    async def test_a_stream_reads_back_as_of_a_version(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            for version in range(1, 6):
                await append_one(store, conn, "history", version)
            upto3 = await store.read_stream(conn, "history", tenant_id="tenant-a", to_version=3)
        assert [e.data["seq"] for e in upto3] == [1, 2, 3]

    async def test_read_all_skips_nothing_when_transactions_commit_out_of_order(self, pool: asyncpg.Pool) -> None:
        """The gap problem: a later position can commit before an earlier one."""
        slow = await pool.acquire()
        fast = await pool.acquire()
        try:
            slow_tx = slow.transaction()
            await slow_tx.start()
            await append_one(store, slow, "slow", 1)  # takes the lower position, commits last
            await append_one(store, fast, "fast", 1)
            seen_first = await store.read_all(fast, after=START)
            assert [e.stream_id for e in seen_first] == [], "a row behind an open transaction must wait"
            await slow_tx.commit()
            # Other transactions of the cluster (other tests) may still hold the horizon: poll.
            seen = await eventually(lambda: store.read_all(fast, after=START), lambda found: len(found) >= 2)
            assert sorted(e.stream_id for e in seen) == ["fast", "slow"]
        finally:
            await pool.release(slow)
            await pool.release(fast)

    async def test_read_next_gives_what_may_be_published_and_says_when_more_waits(self, pool: asyncpg.Pool) -> None:
        """The relay's poll: the events below the horizon, and whether committed ones wait behind it."""
        slow = await pool.acquire()
        fast = await pool.acquire()
        try:
            await append_one(store, fast, "first", 1)
            first, _ = await eventually(lambda: store.read_next(fast), lambda found: len(found[0]) == 1)
            slow_tx = slow.transaction()
            await slow_tx.start()
            await append_one(store, slow, "slow", 1)  # takes the lower position, commits last
            await append_one(store, fast, "fast", 1)

            assert await store.read_next(fast, after=first[0].checkpoint) == ([], True)

            await slow_tx.commit()
            ready, _ = await eventually(
                lambda: store.read_next(fast, after=first[0].checkpoint), lambda found: len(found[0]) == 2
            )
            assert sorted(e.stream_id for e in ready) == ["fast", "slow"]
            assert [e.data["seq"] for e in ready] == [1, 1]
            assert await store.read_next(fast, after=ready[-1].checkpoint) == ([], False)
            assert [e.event_id for e in ready] == [
                e.event_id for e in await store.read_all(fast, after=first[0].checkpoint)
            ]
        finally:
            await pool.release(slow)
            await pool.release(fast)

    async def test_a_transaction_open_in_another_database_holds_nothing_back(
        self, pool: asyncpg.Pool, infra: Infra
    ) -> None:
        """Transaction ids are cluster-wide; looking beyond, another service's long transaction holds nothing."""
        async with transaction_open_in_another_database(infra.postgres_dsn), pool.acquire() as conn:
            await append_one(store, conn, "after-the-open-one", 1)  # a later xid, committed
            assert await store.read_next(conn) == ([], True), "the plain horizon waits for it"
            ready, held_back = await eventually(
                lambda: store.read_next(conn, beyond_other_databases=True),
                lambda found: len(found[0]) == 1,
                within=5,
            )
            assert [e.stream_id for e in ready] == ["after-the-open-one"]
            assert not held_back
            beyond = await store.read_all(conn, beyond_other_databases=True)
            assert [e.stream_id for e in beyond] == ["after-the-open-one"]

    async def test_a_transaction_open_in_this_database_still_holds_later_commits_back(self, pool: asyncpg.Pool) -> None:
        """The same open transaction in the store's own database may still commit events below them."""
        async with pool.acquire() as open_here, open_here.transaction():
            await open_here.execute("SELECT pg_current_xact_id()")
            async with pool.acquire() as conn:
                await append_one(store, conn, "behind-the-open-one", 1)
                assert await store.read_next(conn, beyond_other_databases=True) == ([], True)
                assert await store.read_all(conn, beyond_other_databases=True) == []

    async def test_sixteen_writers_with_open_transactions_are_read_exactly_once(self, pool: asyncpg.Pool) -> None:
        """Writers hold their transactions open 0-200 ms while a reader follows the commit order."""
        rounds, writers = 12, 16
        done = asyncio.Event()
        seen: list[tuple[str, int]] = []

        async def writer(w: int) -> None:
            for version in range(1, rounds + 1):
                async with pool.acquire() as conn, conn.transaction():
                    await append_one(store, conn, f"w{w}", version)
                    await asyncio.sleep(random.uniform(0, 0.2))

        async def reader() -> None:
            checkpoint = START
            async with pool.acquire() as conn:
                while True:
                    finished = done.is_set()
                    batch = await store.read_all(conn, after=checkpoint, limit=7)
                    seen.extend((e.stream_id, e.version) for e in batch)
                    if batch:
                        checkpoint = batch[-1].checkpoint
                    elif finished:
                        return
                    else:
                        await asyncio.sleep(0.005)

        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(w) for w in range(writers)))
        done.set()
        await reading
        assert len(seen) == len(set(seen)) == rounds * writers
        for w in range(writers):
            assert [v for s, v in seen if s == f"w{w}"] == list(range(1, rounds + 1))

    async def test_an_aggregate_stays_in_version_order_even_if_its_next_writer_started_first(
        self, pool: asyncpg.Pool
    ) -> None:
        """A transaction that took its xid early and appends version 2 later still sorts after 1."""
        early = await pool.acquire()
        other = await pool.acquire()
        try:
            tx = early.transaction()
            await tx.start()
            await early.execute("SELECT pg_current_xact_id()")  # takes an xid before version 1 exists
            await append_one(store, other, "agg", 1)
            await append_one(store, early, "agg", 2)
            await tx.commit()
            events = await eventually(lambda: store.read_all(other, after=START), lambda found: len(found) >= 2)
            assert [e.version for e in events if e.stream_id == "agg"] == [1, 2]
        finally:
            await pool.release(early)
            await pool.release(other)
