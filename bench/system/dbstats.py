"""PostgreSQL's own counters per service database over the steady run: transactions per command,
and how often the outbox relay read the event store (its index scans of ``events_in_commit_order``)."""

from __future__ import annotations

import asyncpg

STATS = """
SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
       (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes
         WHERE indexrelname = 'events_in_commit_order') AS relay_reads
"""

Counts = dict[str, dict[str, int]]


async def snapshot(dsns: dict[str, str]) -> Counts:
    found: Counts = {}
    for name, dsn in dsns.items():
        conn = await asyncpg.connect(dsn)
        try:
            row = await conn.fetchrow(STATS)
        finally:
            await conn.close()
        assert row is not None
        found[name] = {"commits": int(row["commits"]), "relay_reads": int(row["relay_reads"])}
    return found


def figures(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], commands: int, seconds: float
) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in before:
        commits = after[name]["commits"] - before[name]["commits"]
        out[f"db_{name}_commits_per_command"] = commits / max(1, commands)
        out[f"db_{name}_relay_reads_per_s"] = (after[name]["relay_reads"] - before[name]["relay_reads"]) / seconds
    return out
