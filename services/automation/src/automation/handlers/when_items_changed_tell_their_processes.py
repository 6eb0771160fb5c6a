"""When items change, the process instances on them hear of it: Conveyor's built-in messages
(``item.updated``, ``item.assigned``, ``item.moved``) and their conditional events look again.

One statement per fetch finds the items that have an instance waiting for a message or a condition;
the others cost nothing more. Runs after the copy of the item is written, so ``item`` is as it now is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conveyor_contracts import entities, pipelines
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation import follow_ups
from automation.adapters import items
from automation.adapters import processes as rows


async def when_items_updated_tell_their_processes(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    updates = [(event, entities.ItemUpdated.model_validate(event.data)) for event in events]
    waiting = await rows.items_with_waiting_instances(conn, [(e.tenant_id, u.item_id) for e, u in updates])
    for event, updated in updates:
        if (event.tenant_id, updated.item_id) not in waiting:
            continue
        changes = {key.removeprefix("fields."): change for key, change in updated.changes.items()}
        messages: list[tuple[str, dict[str, Any]]] = [
            ("item.updated", {"changed": sorted(changes), "changes": changes})
        ]
        if "assignee_id" in changes:
            assigned = changes["assignee_id"]
            messages.append(
                ("item.assigned", {"assignee_id": assigned.get("new"), "previous_assignee_id": assigned.get("old")})
            )
        with caused_by(event):
            await _tell(conn, store, event, updated.item_id, messages)


async def when_items_moved_tell_their_processes(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    moves = [(event, pipelines.ItemMovedToStage.model_validate(event.data)) for event in events]
    waiting = await rows.items_with_waiting_instances(conn, [(e.tenant_id, m.item_id) for e, m in moves])
    for event, moved in moves:
        if (event.tenant_id, moved.item_id) not in waiting:
            continue
        payload = {
            "stage_id": moved.to_stage_id, "pipeline_id": moved.to_pipeline_id, "semantic": moved.to_semantic,
            "from_stage_id": moved.from_stage_id, "from_pipeline_id": moved.from_pipeline_id,
            "from_semantic": moved.from_semantic, "moved_by": moved.moved_by,
        }  # fmt: skip
        with caused_by(event):
            await _tell(conn, store, event, moved.item_id, [("item.moved", payload)])


async def _tell(
    conn: Connection, store: EventStore, event: Envelope, item_id: str, messages: list[tuple[str, dict[str, Any]]]
) -> None:
    """The item's conditional events look at it again, then each message goes to the instances waiting for it,
    with ``message`` (its name and payload) and ``item`` in their data."""
    item = await items.load(conn, event.tenant_id, item_id)
    if item is None:
        return
    view = item.view()
    changed = follow_ups.DeliverEvent(event.tenant_id, "condition", "", item_id, {"item": view}, event.time)
    await follow_ups.dispatch(conn, store, changed)
    for name, payload in messages:
        variables = {"message": {"name": name, **payload}, "item": view}
        message = follow_ups.DeliverEvent(event.tenant_id, "message", name, item_id, variables, event.time)
        await follow_ups.dispatch(conn, store, message)
