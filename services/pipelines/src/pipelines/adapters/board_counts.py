"""Board column counts without counting the items: folded counts plus the changes not folded yet.

A trigger on ``items`` (revision 0004) appends every change of an item's contribution to a column
(placed, moved, reassigned, its amount changed, binned, restored) to ``board_count_changes``; the
service folds them into ``board_counts`` every second. A read sums both in one statement, hence one
snapshot: a fold deletes its changes and adds them to the counts in one transaction, so a read sees
each change exactly once, before or after it was folded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import structlog
from conveyor_messaging.db import DATABASE_AWAY, Connection

log = structlog.get_logger(__name__)

FOLD_EVERY_SECONDS = 1.0
_FOLD_LOCK = "pipelines-board-counts-fold"

# One folder at a time (replicas take turns; a second one would only wait on the first's rows).
# The change rows it deletes are those committed when it starts; later ones wait for the next fold.
_FOLD = """
WITH folded AS (
    DELETE FROM board_count_changes RETURNING tenant_id, pipeline_id, stage_id, assignee_id, items, amount
), summed AS (
    SELECT tenant_id, pipeline_id, stage_id, assignee_id, sum(items) AS items, sum(amount) AS amount
      FROM folded GROUP BY 1, 2, 3, 4
)
INSERT INTO board_counts AS c (tenant_id, pipeline_id, stage_id, assignee_id, items, amount)
SELECT * FROM summed ORDER BY 1, 2, 3, 4
ON CONFLICT (tenant_id, pipeline_id, stage_id, assignee_id)
DO UPDATE SET items = c.items + excluded.items, amount = c.amount + excluded.amount
"""


async def fold(conn: Connection) -> bool:
    """Fold the committed changes into the counts; False when another folder holds the turn."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", _FOLD_LOCK):
            return False
        await conn.execute(_FOLD)
        # Counters of columns that emptied stay as zero rows; they are few (stages x assignees).
    return True


async def keep_folding(pool: asyncpg.Pool, every_s: float = FOLD_EVERY_SECONDS) -> None:
    """Fold every ``every_s`` until cancelled. A fold that fails is tried again at the next turn:
    the changes wait in their table, and reads count them meanwhile."""
    while True:
        await asyncio.sleep(every_s)
        try:
            async with pool.acquire() as conn:
                await fold(conn)
        except DATABASE_AWAY as exc:
            log.warning("board_counts_fold_deferred", error=repr(exc))
        except Exception:  # a fold must never stop folding for good
            log.exception("board_counts_fold_failed")


def totals_query(rights: str) -> str:
    """Per stage, items and amount from the counts and the pending changes, for rows whose
    assignee satisfies ``rights`` (a condition on ``c.assignee_id``)."""
    return (
        "SELECT c.stage_id, sum(c.items)::bigint AS n, sum(c.amount) AS total FROM ("
        " SELECT stage_id, assignee_id, items, amount FROM board_counts WHERE tenant_id = $1 AND pipeline_id = $2"
        " UNION ALL"
        " SELECT stage_id, assignee_id, items, amount FROM board_count_changes"
        " WHERE tenant_id = $1 AND pipeline_id = $2"
        f") c WHERE {rights} GROUP BY c.stage_id"
    )


async def column_totals(conn: Connection, rights: str, params: list[Any]) -> dict[str, tuple[int, Any]]:
    rows = await conn.fetch(totals_query(rights), *params)
    return {r["stage_id"]: (r["n"], r["total"]) for r in rows if r["n"]}
