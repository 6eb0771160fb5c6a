"""Old processed marks are forgotten after the retention; recent ones stay and still skip repeats."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from conveyor_messaging.processed_marks import prune_once

pytestmark = pytest.mark.integration


async def test_marks_older_than_the_retention_go_in_chunks_and_recent_ones_stay(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO processed_events (consumer, event_id, processed_at)"
        " SELECT 'c', 'old-' || n, now() - interval '15 days' FROM generate_series(1, 2500) n"
    )
    await pool.execute(
        "INSERT INTO processed_events (consumer, event_id, processed_at)"
        " SELECT 'c', 'recent-' || n, now() - interval '13 days' FROM generate_series(1, 300) n"
    )

    deleted = await prune_once(pool, timedelta(days=14), chunk=1000)

    assert deleted == 2500
    left = await pool.fetch("SELECT DISTINCT split_part(event_id, '-', 1) AS kind FROM processed_events")
    assert [row["kind"] for row in left] == ["recent"]
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 300
    assert await prune_once(pool, timedelta(days=14)) == 0
