"""Create, complete, delegate and cancel tasks; each change is an event on the task's stream."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from conveyor_access.directory import users_with_role
from conveyor_contracts.automation import TaskCancelled, TaskCompleted, TaskCreated, TaskDelegated
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from automation import follow_ups
from automation.adapters import tasks as task_rows
from automation.adapters.people import present
from automation.domain import errors
from automation.domain.tasks import CompletionRefused, check_completion


async def create_task(conn: Connection, store: EventStore, tenant_id: str, task: task_rows.Task, actor: Actor) -> bool:
    """Put a task in its inbox(es); False when a task with this id exists (a retried run). A process's
    task records who started the process by hand, if anyone: that person may cancel it."""
    if task.created_by is None and task.source.startswith("process:"):
        starter = await task_rows.process_starter(conn, tenant_id, task.source.removeprefix("process:"))
        task = dataclasses.replace(task, created_by=starter)
    if not await task_rows.insert(conn, tenant_id, task):
        return False
    created = TaskCreated(
        task_id=task.task_id, item_id=task.item_id, title=task.title, assignee_user_id=task.assignee_user_id,
        assignee_role=task.assignee_role, candidate_user_ids=task.candidate_user_ids,
        outcomes=[o.model_dump() for o in task.outcomes], due_at=task.due_at, source=task.source,
    )  # fmt: skip
    await _record(conn, store, tenant_id, task.task_id, NO_STREAM, created, actor, task.created_at)
    return True


async def role_candidates(conn: Connection, tenant_id: str, role: str, at: datetime) -> list[str]:
    """Who gets a role's task: its active holders, each absent one replaced by their substitute."""
    candidates: list[str] = []
    for user_id in await users_with_role(conn, tenant_id, role):
        person = await present(conn, tenant_id, user_id, at)
        if person not in candidates:
            candidates.append(person)
    return candidates


async def complete_task(
    conn: Connection, store: EventStore, *, tenant_id: str, task_id: str, outcome: str, values: dict[str, Any],
    user_id: str, is_admin: bool, now: datetime,
) -> task_rows.Task:  # fmt: skip
    task = await _open_task_of(conn, tenant_id, task_id, user_id, is_admin, now)
    try:
        check_completion(task.form, task.outcomes, outcome, values)
    except CompletionRefused as refused:
        raise errors.InvalidCompletion(str(refused), errors=refused.errors) from None
    done = await task_rows.complete(conn, tenant_id, task_id, outcome=outcome, values=values, by=user_id, at=now)
    completed = TaskCompleted(
        task_id=task_id, item_id=task.item_id, outcome=outcome, values=values, completed_by=user_id,
        overdue=task.overdue(now),
    )  # fmt: skip
    await _record(conn, store, tenant_id, task_id, task.version, completed, Actor.user(user_id), now)
    return done


async def delegate_task(
    conn: Connection, store: EventStore, *, tenant_id: str, task_id: str, to_user_id: str, user_id: str,
    is_admin: bool, now: datetime,
) -> task_rows.Task:  # fmt: skip
    task = await _open_task_of(conn, tenant_id, task_id, user_id, is_admin, now)
    active = await conn.fetchval(
        "SELECT active FROM directory_users WHERE tenant_id = $1 AND user_id = $2", tenant_id, to_user_id
    )
    if not active:
        raise errors.UnknownUser(f"{to_user_id} is not an active user")
    await task_rows.reassign(conn, tenant_id, task_id, to_user_id)
    delegated = TaskDelegated(
        task_id=task_id, item_id=task.item_id, from_user_id=user_id, to_user_id=to_user_id, title=task.title
    )
    await _record(conn, store, tenant_id, task_id, task.version, delegated, Actor.user(user_id), now)
    moved = await task_rows.load(conn, tenant_id, task_id)
    assert moved is not None
    return moved


async def cancel_task(
    conn: Connection, store: EventStore, *, tenant_id: str, task_id: str, reason: str | None, user_id: str,
    is_admin: bool, now: datetime,
) -> task_rows.Task:  # fmt: skip
    """A person closes a task that is moot: an admin, or the user it was opened for (``created_by``)."""
    task = await task_rows.load(conn, tenant_id, task_id, lock=True)
    if task is None:
        raise errors.NotFound(f"no task {task_id}")
    if not is_admin and (task.created_by is None or task.created_by != user_id):
        raise errors.Forbidden("only an admin or the user the task was opened for may cancel it")
    if task.status != "open":
        raise errors.TaskClosed(f"the task is {task.status}")
    cancelled = await task_rows.cancel(conn, tenant_id, task_id, by=user_id, reason=reason, at=now)
    await record_cancellations(conn, store, tenant_id, [cancelled], Actor.user(user_id), now)
    return cancelled


async def record_cancellations(
    conn: Connection, store: EventStore, tenant_id: str, cancelled: list[task_rows.Task], actor: Actor, now: datetime
) -> None:
    """A `task.cancelled` event for each task just closed (its row already says why and carries the new version)."""
    for task in cancelled:
        event = TaskCancelled.model_validate(
            {
                "task_id": task.task_id, "item_id": task.item_id, "cause": task.cancel_cause or "cancelled",
                "cancelled_by": task.cancelled_by, "reason": task.cancel_reason, "overdue": task.overdue(now),
            }
        )  # fmt: skip
        await _record(conn, store, tenant_id, task.task_id, task.version - 1, event, actor, now)
        # The processes on the item hear of it (``task.cancelled``), but the one that closed its own task.
        sender = task.source.removeprefix("process:") if task.source.startswith("process:") else None
        message = {"name": "task.cancelled", "task_id": task.task_id, "title": task.title, "source": task.source,
                   "cause": event.cause, "reason": task.cancel_reason}  # fmt: skip
        told = follow_ups.DeliverEvent(
            tenant_id, "message", "task.cancelled", task.item_id, {"message": message}, now, sender
        )
        await follow_ups.dispatch(conn, store, told)


async def _open_task_of(
    conn: Connection, tenant_id: str, task_id: str, user_id: str, is_admin: bool, now: datetime
) -> task_rows.Task:
    task = await task_rows.load(conn, tenant_id, task_id, lock=True)
    if task is None:
        raise errors.NotFound(f"no task {task_id}")
    if not is_admin and not await task_rows.may_act_on(conn, tenant_id, task, user_id, now):
        raise errors.Forbidden("the task is not in your inbox")
    if task.status != "open":
        raise errors.TaskClosed(f"the task is {task.status}")
    return task


async def _record(
    conn: Connection,
    store: EventStore,
    tenant_id: str,
    task_id: str,
    version: int,
    event: Any,
    actor: Actor,
    now: datetime,
) -> None:
    await store.append(
        conn, stream_id=f"task-{task_id}", tenant_id=tenant_id, aggregate_type="task", expected_version=version,
        events=[NewEvent.of(event)], actor=actor, now=now,
    )  # fmt: skip
