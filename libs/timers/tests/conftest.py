"""Fixtures for the timers' tests: a pool on a new database holding the timers table, a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from conveyor_kit.clock import ControllableClock
from conveyor_timers import TIMERS_DDL_V1

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(fresh_database, min_size=1, max_size=6)
    assert created is not None
    async with created.acquire() as conn:
        await conn.execute(TIMERS_DDL_V1)
        await conn.execute("CREATE TABLE effects (timer_key text NOT NULL, seen_at timestamptz NOT NULL)")
    yield created
    await created.close()


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(START)
