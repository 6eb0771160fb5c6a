"""Reaction to items moved to a stage: the robots' tasks of the stage each item left are moot and close.

A robot opens a task for what should happen while the item is on its stage ("call within 10 minutes");
once the item has moved on, the task would only stay open and turn overdue. Process tasks are not
touched here: a process is not bound to a stage, its tasks close when it no longer waits for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from conveyor_contracts import pipelines
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation.adapters import tasks as task_rows
from automation.handlers.tasks import record_cancellations


async def when_items_left_stages_cancel_their_robot_tasks(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """One statement closes the open robot tasks of every item moved in the fetch; each gets its event."""
    moves = [(event, pipelines.ItemMovedToStage.model_validate(event.data)) for event in events]
    left = [
        (event.tenant_id, moved.item_id, moved.moved_at or event.time) for event, moved in moves if moved.from_stage_id
    ]
    if not left:
        return
    when = {(event.tenant_id, moved.item_id): moved.moved_at or event.time for event, moved in moves}
    for tenant_id, task in await task_rows.cancel_open_robot_tasks_of_items(conn, left):
        assert task.item_id is not None
        await record_cancellations(
            conn, store, tenant_id, [task], Actor.system("stage-left"), when[(tenant_id, task.item_id)]
        )
