"""Scheduling and cancelling timers, always inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from conveyor_messaging.db import Connection

from conveyor_timers.schema import TIMERS_CHANNEL


@dataclass(frozen=True, slots=True)
class Timer:
    """A due timer as its handler sees it."""

    key: str
    tenant_id: str
    kind: str
    group: str | None
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


_NOTIFY = f"SELECT pg_notify('{TIMERS_CHANNEL}', $1::text)"


async def schedule(
    conn: Connection,
    tenant_id: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    kind: str,
    group: str | None = None,
) -> bool:
    """Create the timer ``key`` unless it exists in any state; True when it was created.

    ``kind`` picks the worker's handler; ``group`` lets ``cancel_group`` drop related timers at once
    (e.g. every timer of one item's visit to a stage)."""
    created = await conn.fetchval(
        """INSERT INTO timers (timer_key, tenant_id, kind, group_key, due_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
           ON CONFLICT (timer_key) DO NOTHING RETURNING true""",
        key,
        tenant_id,
        kind,
        group,
        _aware(due_at),
        orjson.dumps(payload or {}).decode(),
    )
    if created:
        await conn.execute(_NOTIFY, _aware(due_at).isoformat())
    return bool(created)


async def reschedule(
    conn: Connection,
    tenant_id: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    kind: str,
    group: str | None = None,
) -> bool:
    """Create the timer, or move a pending or cancelled one to ``due_at``; a fired timer stays fired.

    True when the timer is now pending at ``due_at``."""
    moved = await conn.fetchval(
        """INSERT INTO timers (timer_key, tenant_id, kind, group_key, due_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
           ON CONFLICT (timer_key) DO UPDATE
              SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, group_key = EXCLUDED.group_key,
                  state = 'pending', attempts = 0, last_error = NULL
            WHERE timers.state IN ('pending', 'cancelled')
           RETURNING true""",
        key,
        tenant_id,
        kind,
        group,
        _aware(due_at),
        orjson.dumps(payload or {}).decode(),
    )
    if moved:
        await conn.execute(_NOTIFY, _aware(due_at).isoformat())
    return bool(moved)


async def cancel(conn: Connection, key: str) -> bool:
    """Cancel a pending timer; True when there was one. The key stays taken (``schedule`` ignores it)."""
    result = await conn.execute("UPDATE timers SET state = 'cancelled' WHERE timer_key = $1 AND state = 'pending'", key)
    return result != "UPDATE 0"


async def cancel_group(conn: Connection, tenant_id: str, group: str, *, due_after: datetime | None = None) -> int:
    """Cancel every pending timer of ``group``; returns how many.

    ``due_after``: only those due later than that instant. A reaction to an event that happened at
    that instant cancels what was still to come then; timers already due then stay, so the outcome
    does not depend on how far behind the reacting consumer was (a restart, a backlog).
    """
    result = await conn.execute(
        "UPDATE timers SET state = 'cancelled' WHERE tenant_id = $1 AND group_key = $2 AND state = 'pending'"
        " AND ($3::timestamptz IS NULL OR due_at > $3)",
        tenant_id,
        group,
        _aware(due_after) if due_after is not None else None,
    )
    return int(result.split()[-1])


async def cancel_groups(conn: Connection, groups: Sequence[tuple[str, str, datetime | None]]) -> int:
    """``cancel_group`` for many ``(tenant_id, group, due_after)`` at once, in one statement; returns
    how many timers were cancelled."""
    if not groups:
        return 0
    result = await conn.execute(
        """UPDATE timers AS t SET state = 'cancelled'
             FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS n(tenant_id, group_key, due_after)
            WHERE t.tenant_id = n.tenant_id AND t.group_key = n.group_key AND t.state = 'pending'
              AND (n.due_after IS NULL OR t.due_at > n.due_after)""",
        [tenant for tenant, _, _ in groups],
        [group for _, group, _ in groups],
        [_aware(after) if after is not None else None for _, _, after in groups],
    )
    return int(result.split()[-1])


async def bring_forward(conn: Connection, groups: Sequence[tuple[str, str]], due_at: datetime) -> int:
    """Make every pending timer of the ``(tenant_id, group)`` pairs due at ``due_at`` if it was due later;
    returns how many moved. For timers that wait for something that has now happened (a robot run
    waiting for its item's creation): one statement for a whole batch of them."""
    if not groups:
        return 0
    tenants, keys = [tenant for tenant, _ in groups], [group for _, group in groups]
    result = await conn.execute(
        """UPDATE timers SET due_at = $3
            WHERE state = 'pending' AND due_at > $3
              AND (tenant_id, group_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))""",
        tenants,
        keys,
        _aware(due_at),
    )
    moved = int(result.split()[-1])
    if moved:
        await conn.execute(_NOTIFY, _aware(due_at).isoformat())
    return moved


async def pending(conn: Connection, tenant_id: str, group: str) -> list[Timer]:
    """The pending timers of ``group``, soonest first (for APIs that show what is coming)."""
    rows = await conn.fetch(
        "SELECT * FROM timers WHERE tenant_id = $1 AND group_key = $2 AND state = 'pending' ORDER BY due_at",
        tenant_id,
        group,
    )
    return [timer_from(row) for row in rows]


def timer_from(row: Any) -> Timer:
    return Timer(
        key=row["timer_key"],
        tenant_id=row["tenant_id"],
        kind=row["kind"],
        group=row["group_key"],
        due_at=row["due_at"],
        payload=orjson.loads(row["payload"]) if isinstance(row["payload"], str) else dict(row["payload"]),
        attempts=row["attempts"],
    )


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a timer's due time must be timezone-aware")
    return instant
