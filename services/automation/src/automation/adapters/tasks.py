"""Tasks as rows, and the inbox query: assigned to the user, to a role they hold, or to someone they stand in for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.rows import from_jsonb
from automation.domain.tasks import FormField, Outcome


@dataclass(frozen=True, slots=True)
class Task:
    task_id: str
    item_id: str | None
    title: str
    description: str | None
    assignee_user_id: str | None
    assignee_role: str | None
    candidate_user_ids: list[str]
    form: list[FormField]
    outcomes: list[Outcome]
    due_at: datetime | None
    status: str
    outcome: str | None
    values: dict[str, Any] | None
    completed_by: str | None
    completed_at: datetime | None
    source: str
    created_at: datetime
    version: int
    created_by: str | None = None  # the user it was opened for (who started its process by hand)
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_cause: str | None = None  # `item_left_stage`, `process_moved_on`, `process_ended`, `cancelled`
    cancel_reason: str | None = None

    def overdue(self, now: datetime) -> bool:
        end = self.completed_at or self.cancelled_at or now
        return self.due_at is not None and self.due_at < end


def _task(row: Any) -> Task:
    return Task(
        task_id=row["task_id"], item_id=row["item_id"], title=row["title"], description=row["description"],
        assignee_user_id=row["assignee_user_id"], assignee_role=row["assignee_role"],
        candidate_user_ids=list(row["candidate_user_ids"]),
        form=[FormField.model_validate(f) for f in from_jsonb(row["form"])],
        outcomes=[Outcome.model_validate(o) for o in from_jsonb(row["outcomes"])],
        due_at=row["due_at"], status=row["status"], outcome=row["outcome"],
        values=from_jsonb(row["form_values"]) if row["form_values"] is not None else None,
        completed_by=row["completed_by"], completed_at=row["completed_at"], source=row["source"],
        created_at=row["created_at"], version=row["version"], created_by=row["created_by"],
        cancelled_at=row["cancelled_at"], cancelled_by=row["cancelled_by"], cancel_cause=row["cancel_cause"],
        cancel_reason=row["cancel_reason"],
    )  # fmt: skip


async def insert(conn: Connection, tenant_id: str, task: Task) -> bool:
    created = await conn.fetchval(
        """INSERT INTO tasks (tenant_id, task_id, item_id, title, description, assignee_user_id, assignee_role,
                              candidate_user_ids, form, outcomes, due_at, source, created_at, version, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11, $12, $13, 1, $14)
           ON CONFLICT (tenant_id, task_id) DO NOTHING RETURNING true""",
        tenant_id, task.task_id, task.item_id, task.title, task.description, task.assignee_user_id,
        task.assignee_role, task.candidate_user_ids, json.dumps([f.model_dump() for f in task.form]),
        json.dumps([o.model_dump() for o in task.outcomes]), task.due_at, task.source, task.created_at,
        task.created_by,
    )  # fmt: skip
    return bool(created)


async def load(conn: Connection, tenant_id: str, task_id: str, *, lock: bool = False) -> Task | None:
    row = await conn.fetchrow(
        "SELECT * FROM tasks WHERE tenant_id = $1 AND task_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        task_id,
    )
    return _task(row) if row else None


async def complete(
    conn: Connection, tenant_id: str, task_id: str, *, outcome: str, values: dict[str, Any], by: str, at: datetime
) -> Task:
    """Complete the (locked, open) task; returns it as it now is."""
    row = await conn.fetchrow(
        """UPDATE tasks SET status = 'completed', outcome = $3, form_values = $4::text::jsonb, completed_by = $5,
                            completed_at = $6, version = version + 1
            WHERE tenant_id = $1 AND task_id = $2 RETURNING *""",
        tenant_id, task_id, outcome, json.dumps(values), by, at,
    )  # fmt: skip
    return _task(row)


async def reassign(conn: Connection, tenant_id: str, task_id: str, user_id: str) -> None:
    await conn.execute(
        "UPDATE tasks SET assignee_user_id = $3, assignee_role = NULL, candidate_user_ids = ARRAY[$3],"
        " version = version + 1 WHERE tenant_id = $1 AND task_id = $2",
        tenant_id,
        task_id,
        user_id,
    )


# Open tasks of the user, of a role they hold (the candidates resolved at creation), or of a user
# who is away now and named them as substitute; soonest due first (tasks without a due date last).
_INBOX = """
    SELECT t.* FROM tasks t
     WHERE t.tenant_id = $1 AND t.status = 'open'
       AND (t.assignee_user_id = $2
            OR $2 = ANY(t.candidate_user_ids)
            OR t.assignee_user_id IN (SELECT a.user_id FROM directory_absences a
                                       WHERE a.tenant_id = $1 AND a.substitute_user_id = $2 AND NOT a.cancelled
                                         AND a.starts_at <= $3 AND $3 < a.ends_at))
       AND ($5::timestamptz IS NULL OR (COALESCE(t.due_at, 'infinity'), t.created_at, t.task_id)
                                         > (COALESCE($4::timestamptz, 'infinity'), $5, $6))
     ORDER BY COALESCE(t.due_at, 'infinity'), t.created_at, t.task_id
     LIMIT $7"""


async def inbox(
    conn: Connection, tenant_id: str, user_id: str, now: datetime, *,
    after: tuple[datetime | None, datetime, str] | None = None, limit: int = 200,
) -> list[Task]:  # fmt: skip
    """A page of the user's inbox after ``after`` (`(due_at, created_at, task_id)` of the last task a page showed)."""
    due, created, task_id = after or (None, None, None)
    return [_task(row) for row in await conn.fetch(_INBOX, tenant_id, user_id, now, due, created, task_id, limit)]


async def may_act_on(conn: Connection, tenant_id: str, task: Task, user_id: str, now: datetime) -> bool:
    """Whether the task is in the user's inbox (the same rule as ``inbox``)."""
    if task.assignee_user_id == user_id or user_id in task.candidate_user_ids:
        return True
    if task.assignee_user_id is None:
        return False
    standing_in = await conn.fetchval(
        "SELECT true FROM directory_absences WHERE tenant_id = $1 AND user_id = $2 AND substitute_user_id = $3"
        " AND NOT cancelled AND starts_at <= $4 AND $4 < ends_at LIMIT 1",
        tenant_id,
        task.assignee_user_id,
        user_id,
        now,
    )
    return bool(standing_in)


async def cancel(conn: Connection, tenant_id: str, task_id: str, *, by: str, reason: str | None, at: datetime) -> Task:
    """Cancel the (locked, open) task on a person's word; returns it as it now is."""
    row = await conn.fetchrow(
        """UPDATE tasks SET status = 'cancelled', cancelled_at = $3, cancelled_by = $4, cancel_cause = 'cancelled',
                            cancel_reason = $5, version = version + 1
            WHERE tenant_id = $1 AND task_id = $2 RETURNING *""",
        tenant_id, task_id, at, by, reason,
    )  # fmt: skip
    return _task(row)


async def cancel_open_of_source(
    conn: Connection, tenant_id: str, source: str, keep: list[str], *, cause: str, at: datetime
) -> list[Task]:
    """Close the open tasks of a process that no longer waits for them (a boundary event took over, or
    it ended); returns them as closed, to record their cancellation (usually none: one indexed read)."""
    rows = await conn.fetch(
        "UPDATE tasks SET status = 'cancelled', cancelled_at = $4, cancel_cause = $5, version = version + 1"
        " WHERE tenant_id = $1 AND source = $2 AND status = 'open' AND NOT (task_id = ANY($3::text[]))"
        " RETURNING *",
        tenant_id, source, keep, at, cause,
    )  # fmt: skip
    return [_task(row) for row in rows]


async def cancel_open_robot_tasks_of_items(
    conn: Connection, moved: list[tuple[str, str, datetime]]
) -> list[tuple[str, Task]]:
    """Close the open robot tasks of items that left their stage, ``(tenant, item, left_at)`` each, in one
    statement; returns ``(tenant, task)`` of each closed one. A robot's task always belongs to the visit it
    was opened in, so when a move is applied every open robot task of the item is of a visit now over."""
    rows = await conn.fetch(
        """UPDATE tasks t SET status = 'cancelled', cancelled_at = m.at, cancel_cause = 'item_left_stage',
                              version = t.version + 1
             FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS m(tenant_id, item_id, at)
            WHERE t.tenant_id = m.tenant_id AND t.item_id = m.item_id AND t.status = 'open'
              AND t.source LIKE 'robot:%'
        RETURNING t.*""",
        [tenant for tenant, _, _ in moved], [item for _, item, _ in moved], [at for _, _, at in moved],
    )  # fmt: skip
    return [(row["tenant_id"], _task(row)) for row in rows]


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What the admin list narrows to; None: any."""

    assignee_user_id: str | None = None
    status: str | None = None
    overdue: bool | None = None
    item_id: str | None = None
    source_kind: str | None = None  # `robot` or `process`
    due_from: datetime | None = None
    due_before: datetime | None = None


# Newest first; a person's tasks are theirs or those they are a candidate for (a role's).
_LISTING = """
    SELECT * FROM tasks
     WHERE tenant_id = $1
       AND ($2::text IS NULL OR assignee_user_id = $2 OR $2 = ANY(candidate_user_ids))
       AND ($3::text IS NULL OR status = $3)
       AND ($4::boolean IS NULL
            OR $4 = (due_at IS NOT NULL AND due_at < COALESCE(completed_at, cancelled_at, $5)))
       AND ($6::text IS NULL OR item_id = $6)
       AND ($7::text IS NULL OR source LIKE $7 || ':%')
       AND ($8::timestamptz IS NULL OR due_at >= $8)
       AND ($9::timestamptz IS NULL OR due_at < $9)
       AND ($10::timestamptz IS NULL OR (created_at, task_id) < ($10, $11::text))
     ORDER BY created_at DESC, task_id DESC
     LIMIT $12"""


async def listing(
    conn: Connection, tenant_id: str, only: TaskFilter, now: datetime, *,
    after: tuple[datetime, str] | None = None, limit: int = 100,
) -> list[Task]:  # fmt: skip
    """A page of the tenant's tasks matching ``only``, after ``after`` (`(created_at, task_id)` of the last shown)."""
    created, task_id = after or (None, None)
    rows = await conn.fetch(
        _LISTING, tenant_id, only.assignee_user_id, only.status, only.overdue, now, only.item_id, only.source_kind,
        only.due_from, only.due_before, created, task_id, limit,
    )  # fmt: skip
    return [_task(row) for row in rows]


async def process_starter(conn: Connection, tenant_id: str, instance_id: str) -> str | None:
    """The user who started a process instance by hand (`user:<id>` in its `process.started` event), else None."""
    started_by = await conn.fetchval(
        "SELECT data->>'started_by' FROM events WHERE tenant_id = $1 AND stream_id = $2 AND version = 1",
        tenant_id,
        f"process-{instance_id}",
    )
    kind, _, user_id = (started_by or "").partition(":")
    return user_id if kind == "user" and user_id else None
