"""Timer benchmark: how late durable timers fire while 100,000 others are pending.

A fresh database gets the timers table and 100,000 timers due tomorrow (loaded with one INSERT),
then one `TimerWorker` on the wall clock fires a stream of near timers: half scheduled up front
(due over the next seconds, so the worker sleeps until each), half scheduled while it runs (due
in 50-500 ms, so the worker is woken by the notification). The handler notes the clock at the
moment it runs; lag = that instant − due time. A negative lag would be a timer fired early.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from datetime import timedelta

import asyncpg
import structlog
from _infra import drop_database, endpoints, new_database, percentile, report
from conveyor_kit.clock import SystemClock
from conveyor_messaging.db import Connection
from conveyor_timers import TIMERS_DDL_V1, Timer, TimerWorker, schedule

PENDING = int(os.environ.get("BENCH_TIMERS_PENDING", "100000"))
FIRED = int(os.environ.get("BENCH_TIMERS_FIRED", "400"))
SPREAD_SECONDS = float(os.environ.get("BENCH_TIMERS_SPREAD_SECONDS", "8"))


async def run(dsn: str) -> dict[str, float | int]:
    clock = SystemClock()
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=6)
    assert pool is not None
    lags: list[float] = []
    done = asyncio.Event()

    async def note(conn: Connection, timer: Timer) -> None:
        lags.append((clock.now() - timer.due_at).total_seconds() * 1000)
        if len(lags) == FIRED:
            done.set()

    async with pool.acquire() as conn:
        await conn.execute(TIMERS_DDL_V1)
        await conn.execute(
            "INSERT INTO timers (timer_key, tenant_id, kind, due_at)"
            " SELECT 'far-' || n, 'bench', 'note', now() + interval '1 day' + n * interval '1 second'"
            " FROM generate_series(1, $1) AS n",
            PENDING,
        )
        await conn.execute("ANALYZE timers")
        start = clock.now()
        for n in range(FIRED // 2):
            due = start + timedelta(seconds=1 + random.uniform(0, SPREAD_SECONDS))
            await schedule(conn, "bench", f"ahead-{n}", due, kind="note")
    worker = TimerWorker(pool, {"note": note}, clock)
    await worker.start()
    try:
        async with pool.acquire() as conn:
            for n in range(FIRED - FIRED // 2):
                await asyncio.sleep(SPREAD_SECONDS / (FIRED // 2))
                due = clock.now() + timedelta(seconds=random.uniform(0.05, 0.5))
                await schedule(conn, "bench", f"live-{n}", due, kind="note")
        await asyncio.wait_for(done.wait(), timeout=SPREAD_SECONDS + 30)
    finally:
        await worker.stop()
        await pool.close()
    return {
        "pending_timers": PENDING,
        "fired_timers": len(lags),
        "timer_lag_p50_ms": percentile(lags, 50),
        "timer_lag_p99_ms": percentile(lags, 99),
        "timer_lag_max_ms": max(lags),
        "timers_fired_early": sum(1 for lag in lags if lag < 0),
    }


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    admin, _ = endpoints()
    dsn = await new_database(admin, "bench_timers")
    try:
        figures = await run(dsn)
    finally:
        await drop_database(admin, dsn)
    report(
        "automation_timers",
        figures,
        {"timer_lag_p50_ms": "≤ 250", "timer_lag_p99_ms": "≤ 1000", "timers_fired_early": "0"},
    )


if __name__ == "__main__":
    asyncio.run(main())
