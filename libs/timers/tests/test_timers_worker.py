"""Durable timers: scheduled in the caller's transaction, fired once, never early, across replicas."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest
from conveyor_kit.clock import ControllableClock
from conveyor_messaging.db import Connection
from conveyor_testing.waiting import eventually
from conveyor_timers import (
    Timer,
    TimerWorker,
    bring_forward,
    cancel,
    cancel_group,
    cancel_groups,
    pending,
    reschedule,
    schedule,
)

pytestmark = pytest.mark.integration

TENANT = "tenant-timers"


async def record_effect(conn: Connection, timer: Timer) -> None:
    await conn.execute("INSERT INTO effects VALUES ($1, now())", timer.key)


def worker(pool: asyncpg.Pool, clock: ControllableClock, **options: object) -> TimerWorker:
    return TimerWorker(pool, {"effect": record_effect}, clock, **options)  # type: ignore[arg-type]


async def timer_row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM timers WHERE timer_key = $1", key)
    assert row is not None
    return row


async def effects(pool: asyncpg.Pool) -> list[str]:
    return [row[0] for row in await pool.fetch("SELECT timer_key FROM effects ORDER BY timer_key")]


async def add(pool: asyncpg.Pool, key: str, due_in: float, clock: ControllableClock, **kwargs: object) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        return await schedule(conn, TENANT, key, clock.now() + timedelta(seconds=due_in), {"n": 1}, **kwargs)  # type: ignore[arg-type]


class TestFiring:
    async def test_a_timer_fires_at_its_due_time_and_never_before(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        await add(pool, "t-1", 60, clock, kind="effect")
        firing = worker(pool, clock)

        clock.advance(59.999)
        assert await firing.fire_due() == 0
        clock.advance(0.001)
        assert await firing.fire_due() == 1

        assert await effects(pool) == ["t-1"]

    async def test_a_fired_timer_never_fires_again_even_if_scheduled_again(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        await add(pool, "t-1", 1, clock, kind="effect")
        firing = worker(pool, clock)
        clock.advance(5)
        await firing.fire_due()

        assert await add(pool, "t-1", 1, clock, kind="effect") is False
        clock.advance(5)
        assert await firing.fire_due() == 0
        assert await effects(pool) == ["t-1"]

    async def test_scheduling_is_idempotent_by_key(self, pool: asyncpg.Pool, clock: ControllableClock) -> None:
        assert await add(pool, "t-1", 10, clock, kind="effect") is True
        assert await add(pool, "t-1", 20, clock, kind="effect") is False

        clock.advance(10)
        assert await worker(pool, clock).fire_due() == 1

    async def test_a_timer_scheduled_in_a_rolled_back_transaction_does_not_exist(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await schedule(conn, TENANT, "t-1", clock.now(), kind="effect")
            await transaction.rollback()

        assert await worker(pool, clock).fire_due() == 0

    async def test_the_payload_reaches_the_handler(self, pool: asyncpg.Pool, clock: ControllableClock) -> None:
        seen: list[Timer] = []

        async def keep(conn: Connection, timer: Timer) -> None:
            seen.append(timer)

        await add(pool, "t-1", 0, clock, kind="keep", group="g-1")
        await TimerWorker(pool, {"keep": keep}, clock).fire_due()

        assert [(t.key, t.tenant_id, t.kind, t.group, t.payload) for t in seen] == [
            ("t-1", TENANT, "keep", "g-1", {"n": 1})
        ]


class TestCancelAndReschedule:
    async def test_a_cancelled_timer_does_not_fire(self, pool: asyncpg.Pool, clock: ControllableClock) -> None:
        await add(pool, "t-1", 10, clock, kind="effect")
        async with pool.acquire() as conn:
            assert await cancel(conn, "t-1") is True
            assert await cancel(conn, "t-1") is False

        clock.advance(60)
        assert await worker(pool, clock).fire_due() == 0

    async def test_cancelling_a_group_drops_only_its_pending_timers(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        for key, group in [("a-1", "a"), ("a-2", "a"), ("b-1", "b")]:
            await add(pool, key, 10, clock, kind="effect", group=group)
        async with pool.acquire() as conn:
            assert await cancel_group(conn, TENANT, "a") == 2
            assert [t.key for t in await pending(conn, TENANT, "b")] == ["b-1"]

        clock.advance(60)
        await worker(pool, clock).fire_due()
        assert await effects(pool) == ["b-1"]

    async def test_cancelling_a_group_as_of_an_instant_keeps_what_was_due_by_then(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        # A reaction that runs late (a consumer catching up) cancels only what was still to come.
        for key, due_in in [("due-early", 10), ("due-then", 20), ("due-later", 30)]:
            await add(pool, key, due_in, clock, kind="effect", group="visit")
        async with pool.acquire() as conn:
            assert await cancel_group(conn, TENANT, "visit", due_after=clock.now() + timedelta(seconds=20)) == 1

        clock.advance(60)
        await worker(pool, clock).fire_due()
        assert await effects(pool) == ["due-early", "due-then"]

    async def test_cancelling_many_groups_at_once_keeps_what_each_had_due_by_its_instant(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        timers = [("a-early", "a", 10), ("a-late", "a", 30), ("b-any", "b", 10), ("c-kept", "c", 10)]
        for key, group, due_in in timers:
            await add(pool, key, due_in, clock, kind="effect", group=group)
        async with pool.acquire() as conn:
            then = clock.now() + timedelta(seconds=20)
            assert await cancel_groups(conn, [(TENANT, "a", then), (TENANT, "b", None), ("another", "c", None)]) == 2

        clock.advance(60)
        await worker(pool, clock).fire_due()
        assert await effects(pool) == ["a-early", "c-kept"]

    async def test_bringing_groups_forward_makes_their_later_timers_due_then_and_leaves_the_rest(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        timers = [("a-far", "a", 3600), ("a-soon", "a", 5), ("b-far", "b", 3600), ("c-far", "c", 3600)]
        for key, group, due_in in timers:
            await add(pool, key, due_in, clock, kind="effect", group=group)
        async with pool.acquire() as conn:
            then = clock.now() + timedelta(seconds=10)
            assert await bring_forward(conn, [(TENANT, "a"), (TENANT, "b"), ("another-tenant", "c")], then) == 2

        clock.advance(10)
        await worker(pool, clock).fire_due()
        assert await effects(pool) == ["a-far", "a-soon", "b-far"]

    async def test_rescheduling_moves_a_pending_timer(self, pool: asyncpg.Pool, clock: ControllableClock) -> None:
        await add(pool, "t-1", 10, clock, kind="effect")
        async with pool.acquire() as conn:
            assert await reschedule(conn, TENANT, "t-1", clock.now() + timedelta(seconds=100), kind="effect")
        firing = worker(pool, clock)

        clock.advance(50)
        assert await firing.fire_due() == 0
        clock.advance(50)
        assert await firing.fire_due() == 1

    async def test_rescheduling_a_fired_timer_changes_nothing(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        await add(pool, "t-1", 0, clock, kind="effect")
        await worker(pool, clock).fire_due()
        async with pool.acquire() as conn:
            assert not await reschedule(conn, TENANT, "t-1", clock.now() + timedelta(seconds=5), kind="effect")


class TestFailures:
    async def test_a_failing_handler_leaves_no_writes_and_is_retried_with_backoff(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        calls = 0

        async def flaky(conn: Connection, timer: Timer) -> None:
            nonlocal calls
            calls += 1
            await conn.execute("INSERT INTO effects VALUES ($1, now())", f"{timer.key}-{calls}")
            if calls < 3:
                raise RuntimeError("the effect's target is down")

        firing = TimerWorker(pool, {"flaky": flaky}, clock, backoff=lambda attempts: 10.0 * attempts)
        await add(pool, "t-1", 0, clock, kind="flaky")

        await firing.fire_due()  # fails: retry in 10 s
        clock.advance(9)
        await firing.fire_due()
        assert calls == 1
        clock.advance(1)
        await firing.fire_due()  # fails: retry in 20 s
        clock.advance(20)
        await firing.fire_due()  # succeeds

        assert calls == 3
        assert await effects(pool) == ["t-1-3"]
        row = await timer_row(pool, "t-1")
        assert (row["state"], row["attempts"]) == ("fired", 3)

    async def test_a_timer_that_keeps_failing_is_marked_failed(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        async def broken(conn: Connection, timer: Timer) -> None:
            raise ValueError("never works")

        firing = TimerWorker(pool, {"broken": broken}, clock, max_attempts=2, backoff=lambda _: 1.0)
        await add(pool, "t-1", 0, clock, kind="broken")
        await firing.fire_due()
        clock.advance(1)
        await firing.fire_due()
        clock.advance(1)

        assert await firing.fire_due() == 0
        row = await timer_row(pool, "t-1")
        assert (row["state"], row["attempts"]) == ("failed", 2)
        assert "never works" in row["last_error"]


class TestReplicasAndRestarts:
    async def test_several_workers_fire_each_timer_exactly_once(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        async with pool.acquire() as conn, conn.transaction():
            for n in range(300):
                await schedule(conn, TENANT, f"t-{n:03}", clock.now(), kind="effect")
        replicas = [worker(pool, clock, batch_size=20) for _ in range(3)]

        async def drain(firing: TimerWorker) -> None:
            while await firing.fire_due():
                await asyncio.sleep(0)

        await asyncio.gather(*(drain(r) for r in replicas))

        assert await effects(pool) == [f"t-{n:03}" for n in range(300)]

    async def test_a_running_worker_is_woken_by_a_newly_scheduled_timer(
        self, pool: asyncpg.Pool, clock: ControllableClock
    ) -> None:
        firing = worker(pool, clock, max_idle=60.0)
        await firing.start()
        try:
            await asyncio.sleep(0.2)  # asleep, with nothing to do for a minute
            await add(pool, "t-1", 0, clock, kind="effect")
            assert await eventually(lambda: effects(pool), lambda keys: keys == ["t-1"], within=5.0)
        finally:
            await firing.stop()

    async def test_timers_survive_a_restart_of_the_worker(self, pool: asyncpg.Pool, clock: ControllableClock) -> None:
        first = worker(pool, clock)
        await first.start()
        await add(pool, "t-1", 30, clock, kind="effect")
        await first.stop()

        clock.advance(30)
        second = worker(pool, clock)
        await second.start()
        try:
            second.wake()
            assert await eventually(lambda: effects(pool), lambda keys: keys == ["t-1"], within=5.0)
        finally:
            await second.stop()

    async def test_the_worker_sleeps_until_the_nearest_due_time(self, pool: asyncpg.Pool) -> None:
        from conveyor_kit.clock import SystemClock

        wall = SystemClock()
        firing = TimerWorker(pool, {"effect": record_effect}, wall, max_idle=30.0)
        await firing.start()
        try:
            key = f"t-{uuid.uuid4().hex[:6]}"
            async with pool.acquire() as conn:
                await schedule(conn, TENANT, key, wall.now() + timedelta(seconds=0.5), kind="effect")
            await eventually(lambda: effects(pool), lambda keys: keys == [key], within=5.0)
            row = await timer_row(pool, key)
            assert row["fired_at"] >= row["due_at"]
        finally:
            await firing.stop()
