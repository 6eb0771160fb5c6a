"""Reactions to automation's task events: whoever a task reaches hears of it, by the channels they chose.

Like stage-change notices, these are this service's reading of another service's facts (a task was
opened, a task was handed over), not commands: automation records what happened to the task and
knows nothing of channels, wording or preferences. Kinds: `task_assigned`, `task_delegated`.
"""

from __future__ import annotations

import uuid

from conveyor_contracts.automation import TaskCreated, TaskDelegated
from conveyor_contracts.notifications import ItemRef
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from notifications.handlers.deliver import Message, deliver


async def when_task_created_tell_its_assignees(conn: Connection, store: EventStore, event: Envelope) -> None:
    """The task's user, or each candidate of a role's task (absent holders were replaced by their substitutes)."""
    created = TaskCreated.model_validate(event.data)
    recipients = [created.assignee_user_id] if created.assignee_user_id else created.candidate_user_ids
    due = f" Due {created.due_at.isoformat()}." if created.due_at else ""
    message = Message(
        kind="task_assigned",
        title=f"New task: {created.title}",
        body=f'"{created.title}" is in your task inbox.{due}',
        item=await _item(conn, event.tenant_id, created.item_id),
        source=f"task:{created.task_id}",
    )
    for recipient in dict.fromkeys(recipients):
        await _tell(conn, store, event, recipient, message)


async def when_task_delegated_tell_the_new_assignee(conn: Connection, store: EventStore, event: Envelope) -> None:
    """The user it was handed to, unless they handed it to themselves."""
    delegated = TaskDelegated.model_validate(event.data)
    if delegated.to_user_id == delegated.from_user_id:
        return
    title = delegated.title or "a task"
    by = f" by {delegated.from_user_id}" if delegated.from_user_id else ""
    message = Message(
        kind="task_delegated",
        title=f"Task handed to you: {title}",
        body=f'"{title}" was delegated to you{by}; it is in your task inbox.',
        item=await _item(conn, event.tenant_id, delegated.item_id),
        source=f"task:{delegated.task_id}",
    )
    await _tell(conn, store, event, delegated.to_user_id, message)


async def _item(conn: Connection, tenant_id: str, item_id: str | None) -> ItemRef | None:
    """The task's item with its type, as this service's copy of items knows it (a link in the inbox)."""
    if item_id is None:
        return None
    entity_type_id = await conn.fetchval(
        "SELECT entity_type_id FROM item_watchers WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id
    )
    return ItemRef(item_id=item_id, entity_type_id=entity_type_id)


async def _tell(conn: Connection, store: EventStore, event: Envelope, recipient: str, message: Message) -> None:
    # One notification per event and recipient: its id is derived from both.
    notification_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.tenant_id}:{event.id}:{recipient}"))
    await deliver(
        conn, store, tenant_id=event.tenant_id, recipient_id=recipient, message=message, actor=event.actor,
        now=event.time, notification_id=notification_id,
    )  # fmt: skip
