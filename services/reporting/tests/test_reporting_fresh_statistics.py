"""The projections' statistics keep up with tables that grow fast (adapters/statistics.py): a table grown by a
fifth since its last analysis is analyzed at the next check, one that grew less or only changed in place is
left to autovacuum, and checks are a second apart whatever the number of batches."""

from __future__ import annotations

from typing import Any

import pytest
from conveyor_testing.waiting import eventually
from reporting.adapters.schema import LIVE
from reporting.adapters.statistics import CHECK_EVERY_SECONDS, FreshStatistics

pytestmark = pytest.mark.integration

COLUMNS = ["tenant_id", "item_id", "entity_type_id", "title"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def add_items(api: Any, first: int, count: int) -> None:
    async with api.app.state.pool.acquire() as conn:
        records = [(api.tenant, f"d{n}", "deal", f"d{n}") for n in range(first, first + count)]
        await conn.copy_records_to_table("items", schema_name=LIVE, columns=COLUMNS, records=records)
        await conn.execute("SELECT pg_stat_force_next_flush()")  # the counters the check reads, now


async def live_items(api: Any) -> int:
    async with api.app.state.pool.acquire() as conn:
        live: int = await conn.fetchval(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'items'", LIVE
        )
    return live


async def estimated_items(api: Any) -> float:
    async with api.app.state.pool.acquire() as conn:
        sql = "SELECT reltuples FROM pg_class WHERE oid = $1::regclass"
        estimate: float = await conn.fetchval(sql, f"{LIVE}.items")
    return estimate


class TestFreshStatistics:
    async def test_a_table_that_grew_by_a_fifth_is_analyzed_at_the_next_check(self, api: Any) -> None:
        clock = Clock()
        keeper = FreshStatistics(LIVE, clock=clock)
        pool = api.app.state.pool
        await add_items(api, 0, 10_000)
        await eventually(lambda: live_items(api), lambda n: n == 10_000)

        first = await keeper.keep(pool)
        estimate_after_first = await estimated_items(api)
        await add_items(api, 10_000, 5_000)
        await eventually(lambda: live_items(api), lambda n: n == 15_000)
        too_soon = await keeper.keep(pool)  # the clock has not moved: no check at all
        clock.now += CHECK_EVERY_SECONDS
        grown = await keeper.keep(pool)
        estimate_after_growth = await estimated_items(api)
        await add_items(api, 15_000, 1_000)  # more than the minimum of rows, less than a fifth
        async with pool.acquire() as conn:  # and every row changed in place: not growth
            await conn.execute(f"UPDATE {LIVE}.items SET title = title || '!'")
            await conn.execute("SELECT pg_stat_force_next_flush()")
        await eventually(lambda: live_items(api), lambda n: n == 16_000)
        clock.now += CHECK_EVERY_SECONDS
        little = await keeper.keep(pool)

        assert first == [f"{LIVE}.items"] and estimate_after_first == 10_000
        assert too_soon == []
        assert grown == [f"{LIVE}.items"] and estimate_after_growth == 15_000
        assert little == []
