"""The run log: every robot run and trigger firing on an item, with its outcome."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from conveyor_kit.database import as_columns
from conveyor_messaging.db import Connection

from automation.adapters.rows import from_jsonb

# The detail of a run whose action the notifications service carries out later (an e-mail, a webhook
# call): its ``delivery`` becomes ``delivered`` or ``failed`` when that service says how it ended.
SourceKind = Literal["robot", "trigger", "process"]

AWAITS_DELIVERY: dict[str, Any] = {"delivery": {"status": "pending"}}


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    item_id: str
    source_kind: str
    source_id: str
    source_name: str
    visit_id: str | None
    status: str
    attempts: int
    due_at: datetime | None
    last_error: str | None
    detail: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


def _run(row: Any) -> Run:
    return Run(
        run_id=row["run_id"],
        item_id=row["item_id"],
        source_kind=row["source_kind"],
        source_id=row["source_id"],
        source_name=row["source_name"],
        visit_id=row["visit_id"],
        status=row["status"],
        attempts=row["attempts"],
        due_at=row["due_at"],
        last_error=row["last_error"],
        detail=from_jsonb(row["detail"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def open_run(
    conn: Connection,
    tenant_id: str,
    *,
    run_id: str,
    item_id: str,
    source_kind: str,
    source_id: str,
    source_name: str,
    visit_id: str | None,
    status: str,
    due_at: datetime | None,
    now: datetime,
) -> bool:
    """Record a run; False when a run with this id exists (the same robot, visit and moment)."""
    created = await conn.fetchval(
        """INSERT INTO automation_runs (tenant_id, run_id, item_id, source_kind, source_id, source_name, visit_id,
                                        status, due_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (tenant_id, run_id) DO NOTHING RETURNING true""",
        tenant_id,
        run_id,
        item_id,
        source_kind,
        source_id,
        source_name,
        visit_id,
        status,
        due_at,
        now,
    )
    return bool(created)


async def log_finished(
    conn: Connection, tenant_id: str, *, run_id: str, item_id: str, source_kind: str, source_id: str,
    source_name: str, status: str, detail: dict[str, Any], now: datetime, error: str | None = None,
) -> None:  # fmt: skip
    """Record a run that is over as it is written (a process's run of steps): one statement where
    ``open_run`` and ``finish`` take two."""
    await conn.execute(
        """INSERT INTO automation_runs (tenant_id, run_id, item_id, source_kind, source_id, source_name, status,
                                        attempts, due_at, detail, created_at, finished_at, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9::text::jsonb, $8, $8, $10)
           ON CONFLICT (tenant_id, run_id) DO NOTHING""",
        tenant_id, run_id, item_id, source_kind, source_id, source_name, status, now, json.dumps(detail), error,
    )  # fmt: skip


async def load_run(conn: Connection, tenant_id: str, run_id: str, *, lock: bool = False) -> Run | None:
    row = await conn.fetchrow(
        "SELECT * FROM automation_runs WHERE tenant_id = $1 AND run_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        run_id,
    )
    return _run(row) if row else None


async def finish(
    conn: Connection,
    tenant_id: str,
    run_id: str,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    detail: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> None:
    await conn.execute(
        """UPDATE automation_runs
              SET status = $3,
                  attempts = attempts + CASE WHEN $3 IN ('succeeded', 'failed', 'retrying') THEN 1 ELSE 0 END,
                  last_error = $4, detail = detail || $5::text::jsonb,
                  finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'skipped', 'cancelled')
                                     THEN $6::timestamptz END,
                  due_at = coalesce($7::timestamptz, due_at)
            WHERE tenant_id = $1 AND run_id = $2""",
        tenant_id,
        run_id,
        status,
        error,
        json.dumps(detail or {}),
        now,
        due_at,
    )


async def record_delivery(
    conn: Connection, tenant_id: str, run_id: str, *, delivery: dict[str, Any], error: str | None
) -> Run | None:
    """How the run's e-mail or webhook call ended; a failed one fails the run with ``error``. Only a
    run still awaiting its delivery changes; None otherwise (not a run of ours, or already recorded)."""
    row = await conn.fetchrow(
        """UPDATE automation_runs
              SET detail = detail || jsonb_build_object('delivery', $3::text::jsonb),
                  status = CASE WHEN $4::text IS NULL THEN status ELSE 'failed' END,
                  last_error = coalesce($4, last_error)
            WHERE tenant_id = $1 AND run_id = $2 AND detail->'delivery'->>'status' = 'pending'
        RETURNING *""",
        tenant_id,
        run_id,
        json.dumps(delivery),
        error,
    )
    return _run(row) if row else None


async def runs_of_item(conn: Connection, tenant_id: str, item_id: str, *, limit: int = 200) -> list[Run]:
    rows = await conn.fetch(
        "SELECT * FROM automation_runs WHERE tenant_id = $1 AND item_id = $2 ORDER BY created_at, seq LIMIT $3",
        tenant_id,
        item_id,
        limit,
    )
    return [_run(row) for row in rows]


async def cancel_visit(
    conn: Connection, tenant_id: str, item_id: str, visit_id: str, now: datetime, timer_groups: list[str]
) -> None:
    """Runs still waiting for a visit the item has ended are cancelled, unless a timer of theirs
    (in ``timer_groups``) is still pending: that one was due before the item left."""
    await conn.execute(
        "UPDATE automation_runs r SET status = 'cancelled', finished_at = $4"
        " WHERE tenant_id = $1 AND item_id = $2 AND visit_id = $3 AND status IN ('scheduled', 'retrying')"
        "   AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.tenant_id = $1 AND t.group_key = ANY($5::text[])"
        "                     AND t.state = 'pending' AND t.payload->>'run_id' = r.run_id)",
        tenant_id,
        item_id,
        visit_id,
        now,
        timer_groups,
    )


async def cancel_visits(conn: Connection, ended: Sequence[EndedVisit]) -> None:
    """``cancel_visit`` for many ended visits at once, in one statement."""
    await conn.execute(
        "UPDATE automation_runs r SET status = 'cancelled', finished_at = n.left_at"
        "  FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])"
        "       AS n(tenant_id, item_id, visit_id, left_at, visit_group, idle_group)"
        " WHERE r.tenant_id = n.tenant_id AND r.item_id = n.item_id AND r.visit_id = n.visit_id"
        "   AND r.status IN ('scheduled', 'retrying')"
        "   AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.tenant_id = n.tenant_id"
        "                     AND t.group_key IN (n.visit_group, n.idle_group)"
        "                     AND t.state = 'pending' AND t.payload->>'run_id' = r.run_id)",
        *as_columns(ended, "tenant_id", "item_id", "visit_id", "left_at", "visit_group", "idle_group"),
    )


@dataclass(frozen=True, slots=True)
class EndedVisit:
    """A visit an item has ended at ``left_at``, with the names of its two timer groups."""

    tenant_id: str
    item_id: str
    visit_id: str
    left_at: datetime
    visit_group: str
    idle_group: str


async def reopen_skipped(conn: Connection, tenant_id: str, run_id: str) -> None:
    """A run skipped for want of a date gets its chance again once the date is there."""
    await conn.execute(
        "UPDATE automation_runs SET status = 'scheduled', finished_at = NULL"
        " WHERE tenant_id = $1 AND run_id = $2 AND status = 'skipped'",
        tenant_id,
        run_id,
    )
