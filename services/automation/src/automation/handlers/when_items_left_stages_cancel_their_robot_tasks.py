"""Reaction to items moved to a stage: the robots' tasks of the stage each item left are moot and close.

A robot opens a task for what should happen while the item is on its stage ("call within 10 minutes");
once the item has moved on, the task would only stay open and turn overdue. Process tasks are not
touched here: a process is not bound to a stage, its tasks close when it no longer waits for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from conveyor_contracts import pipelines
from conveyor_messaging.actor import Actor
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation.adapters import tasks as task_rows
from automation.handlers.tasks import record_cancellations


async def when_items_left_stages_cancel_their_robot_tasks(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """One statement closes the open robot tasks of every item moved in the fetch; each gets its event,
    caused by the item's first move of the fetch (the one that ended the visit the tasks belong to)."""
    first: dict[tuple[str, str], tuple[Envelope, datetime]] = {}
    for event in events:
        moved = pipelines.ItemMovedToStage.model_validate(event.data)
        first.setdefault((event.tenant_id, moved.item_id), (event, moved.moved_at or event.time))
    closed = await task_rows.cancel_open_robot_tasks_of_items(
        conn, [(tenant_id, item_id, at) for (tenant_id, item_id), (_, at) in first.items()]
    )
    for tenant_id, task in closed:
        assert task.item_id is not None
        event, at = first[(tenant_id, task.item_id)]
        with caused_by(event):
            await record_cancellations(conn, store, tenant_id, [task], Actor.system("stage-left"), at)
