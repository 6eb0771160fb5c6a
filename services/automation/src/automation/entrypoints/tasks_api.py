"""HTTP: the task inbox and the admins' list; completing a task with its form and an outcome; delegating,
cancelling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from conveyor_access import ADMIN_ROLE
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, instant_key, invalid_cursor, page_of
from conveyor_kit.problems import forbidden, not_found
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from automation.adapters import tasks as task_rows
from automation.entrypoints.deps import Ctx, CtxDep
from automation.entrypoints.tasks_models import InboxTask
from automation.follow_ups import DeliverEvent
from automation.handlers.process_events import deliver_event
from automation.handlers.processes import continue_after_task
from automation.handlers.tasks import cancel_task, complete_task, delegate_task

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], responses=problem_responses(403, 404, 409))


def task_view(task: task_rows.Task, ctx: Ctx) -> dict[str, Any]:
    return {
        "id": task.task_id, "item_id": task.item_id, "title": task.title, "description": task.description,
        "assignee_user_id": task.assignee_user_id, "assignee_role": task.assignee_role,
        "candidate_user_ids": task.candidate_user_ids, "form": [f.model_dump() for f in task.form],
        "outcomes": [o.model_dump() for o in task.outcomes], "due_at": task.due_at, "overdue": task.overdue(ctx.now()),
        "status": task.status, "outcome": task.outcome, "values": task.values, "completed_by": task.completed_by,
        "completed_at": task.completed_at, "source": task.source, "created_at": task.created_at,
        "created_by": task.created_by, "cancelled_at": task.cancelled_at, "cancelled_by": task.cancelled_by,
        "cancel_cause": task.cancel_cause, "cancel_reason": task.cancel_reason,
    }  # fmt: skip


@router.get("", response_model=Page[InboxTask])
async def list_tasks(
    ctx: CtxDep,
    limit: Limit = 100,
    cursor: Cursor = None,
    assignee_user_id: Annotated[
        str | None, Query(description="Tasks of this user, or of a role they are a candidate of.")
    ] = None,
    status: Literal["open", "completed", "cancelled"] | None = None,
    overdue: Annotated[bool | None, Query(description="Past their due date (now, or when they were closed).")] = None,
    item_id: str | None = None,
    source: Annotated[Literal["robot", "process"] | None, Query(description="What opened them.")] = None,
    due_from: Annotated[datetime | None, Query(description="Due at or after this instant.")] = None,
    due_before: Annotated[datetime | None, Query(description="Due before this instant.")] = None,
) -> dict[str, Any]:
    """Admins: the tenant's tasks, newest first, narrowed by the filters given. Everyone else has their
    own inbox (`GET /v1/tasks/inbox`). `{"items": [...], "next_cursor": ...}`."""
    if ADMIN_ROLE not in ctx.principal.roles:
        raise forbidden("the task list is for admins; yours is /v1/tasks/inbox")
    only = task_rows.TaskFilter(
        assignee_user_id=assignee_user_id, status=status, overdue=overdue, item_id=item_id, source_kind=source,
        due_from=due_from, due_before=due_before,
    )  # fmt: skip
    async with ctx.pool.acquire() as conn:
        found = await task_rows.listing(
            conn, ctx.tenant_id, only, ctx.now(), after=instant_key(cursor), limit=limit + 1
        )
    return page_of(found, limit, lambda t: task_view(t, ctx), lambda t: (t.created_at, t.task_id))


@router.get("/inbox", response_model=Page[InboxTask])
async def inbox(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The caller's open tasks, soonest due first (those without a due date last): theirs, their role's, and
    those of people they stand in for; overdue marked. `{"items": [...], "next_cursor": ...}`."""
    after = _inbox_key(decode_cursor(cursor, 3))
    async with ctx.pool.acquire() as conn:
        found = await task_rows.inbox(
            conn, ctx.tenant_id, ctx.principal.user_id, ctx.now(), after=after, limit=limit + 1
        )
    shown = found[:limit]
    last = shown[-1] if len(found) > limit else None
    key = [last.due_at and last.due_at.isoformat(), last.created_at.isoformat(), last.task_id] if last else None
    return {"items": [task_view(t, ctx) for t in shown], "next_cursor": encode_cursor(key) if key else None}


def _inbox_key(after: list[Any] | None) -> tuple[datetime | None, datetime, str] | None:
    """`(due_at, created_at, task_id)` of the last task a page showed."""
    if after is None:
        return None
    due, created, task_id = after
    try:
        return (datetime.fromisoformat(due) if due is not None else None, datetime.fromisoformat(created), str(task_id))
    except (TypeError, ValueError):
        raise invalid_cursor() from None


@router.get("/{task_id}", response_model=InboxTask)
async def get_task(ctx: CtxDep, task_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        task = await task_rows.load(conn, ctx.tenant_id, task_id)
        if task is None:
            raise not_found(f"no task {task_id}")
        allowed = ADMIN_ROLE in ctx.principal.roles or task.completed_by == ctx.principal.user_id
        if not allowed and not await task_rows.may_act_on(conn, ctx.tenant_id, task, ctx.principal.user_id, ctx.now()):
            raise forbidden("the task is not in your inbox")
    return task_view(task, ctx)


class TaskCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=100)
    values: dict[str, Any] = Field(default_factory=dict)


@router.post("/{task_id}/complete", response_model=InboxTask)
async def complete(ctx: CtxDep, task_id: str, body: TaskCompletion) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        task = await complete_task(
            conn, ctx.store, tenant_id=ctx.tenant_id, task_id=task_id, outcome=body.outcome, values=body.values,
            user_id=ctx.principal.user_id, is_admin=ADMIN_ROLE in ctx.principal.roles, now=ctx.now(),
        )  # fmt: skip
        await continue_after_task(conn, ctx.store, ctx.tenant_id, task, ctx.now())
        message = {"name": "task.completed", "task_id": task.task_id, "title": task.title, "source": task.source,
                   "outcome": task.outcome, "values": task.values or {}, "completed_by": task.completed_by}  # fmt: skip
        done = DeliverEvent(ctx.tenant_id, "message", "task.completed", task.item_id, {"message": message}, ctx.now())
        await deliver_event(conn, ctx.store, done)
    return task_view(task, ctx)


class TaskDelegation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_user_id: str = Field(min_length=1, max_length=200)


@router.post("/{task_id}/delegate", response_model=InboxTask)
async def delegate(ctx: CtxDep, task_id: str, body: TaskDelegation) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        task = await delegate_task(
            conn, ctx.store, tenant_id=ctx.tenant_id, task_id=task_id, to_user_id=body.to_user_id,
            user_id=ctx.principal.user_id, is_admin=ADMIN_ROLE in ctx.principal.roles, now=ctx.now(),
        )  # fmt: skip
    return task_view(task, ctx)


class TaskCancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000, description="Why, in the canceller's words.")


@router.post("/{task_id}/cancel", response_model=InboxTask)
async def cancel(ctx: CtxDep, task_id: str, body: TaskCancellation | None = None) -> dict[str, Any]:
    """Close a moot task without an outcome: admins, and the user it was opened for (`created_by`, who
    started its process by hand). A closed task answers 409 `task-closed`. Its process, if any, is not
    moved on: it goes on waiting for the step (a boundary timer, or an admin, takes it further)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        task = await cancel_task(
            conn, ctx.store, tenant_id=ctx.tenant_id, task_id=task_id, reason=body.reason if body else None,
            user_id=ctx.principal.user_id, is_admin=ADMIN_ROLE in ctx.principal.roles, now=ctx.now(),
        )  # fmt: skip
    return task_view(task, ctx)
