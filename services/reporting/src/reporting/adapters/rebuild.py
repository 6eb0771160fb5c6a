"""Rebuild every projection from the journal into a shadow schema, then swap it in atomically.

The shadow is filled while the live projections keep following Kafka, without the indexes only reports read
(built once the journal is replayed). The swap transaction locks
the journal against new writes (the consumer waits), replays what arrived meanwhile, renames the
schemas, recreates the analysts' views (filtered per tenant) on the new tables and drops the old ones, so a reader sees
either the old figures or the new, never a mix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import asyncpg
import structlog

from reporting.adapters import journal
from reporting.adapters.projector import project
from reporting.adapters.schema import LIVE, REPORT_INDEXES, SHADOW, tables_ddl
from reporting.adapters.tenant_views import tenant_views
from reporting.handlers import Projection

log = structlog.get_logger(__name__)


async def rebuild(pool: asyncpg.Pool, projections: Mapping[str, Projection]) -> dict[str, Any]:
    """Replay the whole journal into fresh tables and make them the live ones; returns what it did."""
    started = time.perf_counter()
    events, position = 0, 0
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE")
        await conn.execute(tables_ddl(SHADOW))
        deferred = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($2::text[])",
            SHADOW,
            list(REPORT_INDEXES),
        )
        for index in deferred:
            await conn.execute(f"DROP INDEX {SHADOW}.{index['indexname']}")
        async for last, chunk in journal.replay(conn):
            async with conn.transaction():
                await project(conn, SHADOW, chunk, projections)
            events, position = events + len(chunk), last
        for index in deferred:
            await conn.execute(index["indexdef"])
        async with conn.transaction():
            await conn.execute("LOCK TABLE journal IN EXCLUSIVE MODE")
            async for _last, chunk in journal.replay(conn, after=position):
                await project(conn, SHADOW, chunk, projections)
                events += len(chunk)
            await conn.execute(f"ALTER SCHEMA {LIVE} RENAME TO {LIVE}_old")
            await conn.execute(f"ALTER SCHEMA {SHADOW} RENAME TO {LIVE}")
            await conn.execute(tenant_views())
            await conn.execute(f"DROP SCHEMA {LIVE}_old CASCADE")
    seconds = time.perf_counter() - started
    log.info("projections_rebuilt", events=events, seconds=round(seconds, 3))
    return {"events": events, "seconds": round(seconds, 3)}
