"""The projections' planner statistics kept up with tables that grow faster than autovacuum analyzes them.

A projected batch reaches its rows by the batch's keys (``projector.py``), and the planner chooses the index
from the tables' statistics. While a table is young and growing fast (a new installation, a tenant's import,
the system benchmark's first minutes), autovacuum analyzes it only once a minute and after 10 % of changes,
so the planner believes it holds a few rows per tenant. It then probes an index that starts with the tenant
(and reads every row of the tenant through it) instead of the primary key: under the system benchmark,
refreshing a batch's product lines read 318,000 buffers instead of a few hundred, and field visits, stage
visits and field values did the same (bench/README.md, system).

So the consumer looks, at most once a second, for projection tables that have grown by a fifth since the
planner last learned their size (and hold a few hundred rows), and analyzes them at once: about twenty
analyses while a table grows from nothing to 25,000 rows, each of a table still small. Growth, not changes:
small tables that every batch updates (the kept counts) would otherwise be analyzed at every check, and
updates in place do not mislead these probes. Autovacuum goes on doing the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg
import structlog

log = structlog.get_logger(__name__)

CHECK_EVERY_SECONDS = 1.0
GROWN_SHARE = 0.2
ROWS_AT_LEAST = 500

# reltuples: the planner's idea of the table's size, from its last analysis (-1: never analyzed).
_GROWN = """
SELECT format('%I.%I', s.schemaname, s.relname) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
 WHERE s.schemaname = $1 AND s.n_live_tup >= $2 AND s.n_live_tup >= (1 + $3::float8) * greatest(c.reltuples, 0)
 ORDER BY s.relname"""


class FreshStatistics:
    """Analyzes the tables of one schema that grew by ``GROWN_SHARE`` since the planner last learned their size."""

    def __init__(self, schema: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._schema = schema
        self._clock = clock
        self._checked_at: float | None = None

    async def keep(self, pool: asyncpg.Pool) -> list[str]:
        """Analyze what has outgrown its statistics (at most every ``CHECK_EVERY_SECONDS``); the tables analyzed.
        Outside the batch's transaction: an analysis holds no lock a projection write waits for."""
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < CHECK_EVERY_SECONDS:
            return []
        self._checked_at = now
        async with pool.acquire() as conn:
            rows = await conn.fetch(_GROWN, self._schema, ROWS_AT_LEAST, GROWN_SHARE)
            grown: list[str] = [row[0] for row in rows]
            for table in grown:
                await conn.execute(f"ANALYZE {table}")
        if grown:
            log.info("projection_statistics_refreshed", tables=grown, seconds=round(self._clock() - now, 3))
        return grown
