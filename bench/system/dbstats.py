"""PostgreSQL's own counters per service database over the steady run: transactions per command,
and how often the outbox relay read the event store (its index scans of ``events_in_commit_order``)."""

from __future__ import annotations

import asyncpg

STATS = """
SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
       (SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables
         WHERE relname = 'relay_checkpoints') AS relay_batches
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
        found[name] = {"commits": int(row["commits"]), "relay_batches": int(row["relay_batches"])}
    return found


def figures(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], commands: int, seconds: float
) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in before:
        commits = after[name]["commits"] - before[name]["commits"]
        out[f"db_{name}_commits_per_command"] = commits / max(1, commands)
        # The relay writes its checkpoint once per batch it published (an index-scan count would also
        # count the horizon's look for waiting events).
        out[f"db_{name}_relay_batches_per_s"] = (after[name]["relay_batches"] - before[name]["relay_batches"]) / seconds
    return out


# pg_stat_statements (the local PostgreSQL preloads it: deploy/local/lib/postgres.sh), read through the
# admin database; without it the statements report is skipped.
TOP_STATEMENTS = """
SELECT d.datname AS database, s.calls, s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms,
       regexp_replace(s.query, '\\s+', ' ', 'g') AS query
  FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
 WHERE d.datname = ANY($1::text[])
 ORDER BY s.total_exec_time DESC
 LIMIT $2
"""


async def reset_statements(admin_dsn: str) -> bool:
    """Start pg_stat_statements afresh; False when the server does not have it."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def top_statements(admin_dsn: str, dsns: dict[str, str], commands: int, limit: int = 25) -> list[str]:
    """The statements PostgreSQL spent the most execution time on, as lines: service, calls per
    command, mean and total milliseconds, the statement."""
    service_of = {dsn.rsplit("/", 1)[1]: name for name, dsn in dsns.items()}
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch(TOP_STATEMENTS, list(service_of), limit)
    finally:
        await conn.close()
    return [
        f"{service_of[r['database']]:<13} {r['calls'] / max(1, commands):7.2f}/cmd {r['mean_ms']:8.3f} ms "
        f"{r['total_ms']:10.0f} ms  {r['query'][:200]}"
        for r in rows
    ]
