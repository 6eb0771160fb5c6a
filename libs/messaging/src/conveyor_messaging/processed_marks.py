"""Forgetting old processed marks, so that ``processed_events`` does not grow forever.

Every consumer writes one mark per event it applies: a million imported items leave a million marks
in each consuming service. A mark is needed only while a repeat of its event can still come (see
``conveyor_kit.settings``, ``processed_marks_retention_hours``, and docs/events.md). The backbone
deletes marks older than the retention in small chunks, so that no delete holds locks or bloats a
transaction for long.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import asyncpg
import structlog

from conveyor_messaging.db import DATABASE_AWAY

log = structlog.get_logger(__name__)

CHUNK = 10_000
EVERY = timedelta(hours=1)

# Old marks sit at the start of the heap (rows go in by time), so the scan for a chunk stops early.
_PRUNE = """
DELETE FROM processed_events WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM processed_events WHERE processed_at < now() - $1::interval LIMIT $2))"""


async def prune_once(pool: asyncpg.Pool, retention: timedelta, *, chunk: int = CHUNK) -> int:
    """Delete every mark older than ``retention``, a chunk per statement; returns how many."""
    deleted = 0
    while True:
        status = await pool.execute(_PRUNE, retention, chunk)
        count = int(status.rsplit(" ", 1)[1])
        deleted += count
        if count < chunk:
            return deleted


async def keep_pruning(
    pool: asyncpg.Pool, retention: timedelta, stopped: asyncio.Event, *, every: timedelta = EVERY
) -> None:
    """Prune now and then every ``every`` until ``stopped`` is set (the backbone's stop waits for its
    workers to end). The database away is no reason to restart (and so to report the service as not
    ready): it waits for the next round."""
    while not stopped.is_set():
        try:
            deleted = await prune_once(pool, retention)
        except DATABASE_AWAY as exc:
            log.warning("processed_marks_prune_failed", error=repr(exc))
        else:
            if deleted:
                log.info("processed_marks_pruned", deleted=deleted, retention_hours=retention.total_seconds() / 3600)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped.wait(), every.total_seconds())
