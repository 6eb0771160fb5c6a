"""A copy of items' assignee and observers, and the reaction that tells them about stage changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from conveyor_contracts import entities, pipelines
from conveyor_contracts.notifications import ItemRef
from conveyor_kit.database import pairs_found
from conveyor_messaging.actor import Actor
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from notifications.adapters import people, waiting_moves
from notifications.handlers.deliver import Message, deliver


async def when_items_created_remember_their_people(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """A fetch of created items at once (an import brings them by the thousand): one statement keeps
    their people, one takes the moves that arrived before them, which are then told one by one."""
    created = [(event.tenant_id, entities.ItemCreated.model_validate(event.data)) for event in events]
    await conn.execute(
        """INSERT INTO item_watchers (tenant_id, item_id, entity_type_id, title, assignee_id, observer_ids)
           SELECT t, i, e, ti, a, ARRAY(SELECT jsonb_array_elements_text(o::jsonb))
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                  AS n(t, i, e, ti, a, o)
           ON CONFLICT (tenant_id, item_id) DO NOTHING""",
        [tenant for tenant, _ in created],
        [c.item_id for _, c in created],
        [c.entity_type_id for _, c in created],
        [c.title for _, c in created],
        [c.assignee_id for _, c in created],
        [orjson.dumps(c.observer_ids).decode() for _, c in created],
    )
    waiting = await waiting_moves.take_many(conn, [(tenant, c.item_id) for tenant, c in created])
    for (tenant, _), moves in waiting.items():
        for move in moves:
            moved = pipelines.ItemMovedToStage.model_validate(move.moved)
            actor = Actor.parse(move.actor)
            await _tell_its_people(conn, store, tenant, moved, move.event_id, actor, move.occurred_at)


_WATCHED_KEYS = ("title", "assignee_id", "observer_ids")


async def when_items_updated_follow_their_people(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """A fetch of updates in one statement; only title, assignee and observers matter here, and an item
    changed several times in the fetch keeps the last value of each."""
    latest: dict[tuple[str, str], dict[str, object]] = {}
    for event in events:
        updated = entities.ItemUpdated.model_validate(event.data)
        watched = {key: updated.changes[key].get("new") for key in _WATCHED_KEYS if key in updated.changes}
        if watched:
            key = (event.tenant_id, updated.item_id)
            latest[key] = {**latest.get(key, {}), **watched}
    if not latest:
        return
    await conn.execute(
        """UPDATE item_watchers AS w
              SET title = CASE WHEN n.c ? 'title' THEN n.c->>'title' ELSE w.title END,
                  assignee_id = CASE WHEN n.c ? 'assignee_id' THEN n.c->>'assignee_id' ELSE w.assignee_id END,
                  observer_ids = CASE
                      WHEN NOT n.c ? 'observer_ids' THEN w.observer_ids
                      WHEN jsonb_typeof(n.c->'observer_ids') = 'array'
                          THEN ARRAY(SELECT jsonb_array_elements_text(n.c->'observer_ids'))
                      ELSE '{}' END
             FROM (SELECT t, i, c::jsonb AS c FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, i, c)) AS n
            WHERE w.tenant_id = n.t AND w.item_id = n.i""",
        [tenant for tenant, _ in latest],
        [item for _, item in latest],
        [orjson.dumps(changes).decode() for changes in latest.values()],
    )


async def when_item_deleted_forget_its_people(conn: Connection, store: EventStore, event: Envelope) -> None:
    await conn.execute(
        "DELETE FROM item_watchers WHERE tenant_id = $1 AND item_id = $2", event.tenant_id, event.data["item_id"]
    )


async def when_stage_named_remember_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    stages = event.data.get("stages") or ([event.data["stage"]] if "stage" in event.data else [])
    for stage in stages:
        await conn.execute(
            """INSERT INTO stage_names (tenant_id, stage_id, name) VALUES ($1, $2, $3)
               ON CONFLICT (tenant_id, stage_id) DO UPDATE SET name = EXCLUDED.name""",
            event.tenant_id,
            stage["stage_id"],
            stage["name"],
        )


async def when_items_moved_to_stages_tell_their_people(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """Assignee and observers hear of a move when the tenant turned that on; the mover is not told.

    A fetch of moves at once: one statement finds the fetch's tenants that want the notices (most do
    not, and then that is all), one the watched items among their moves. A move of an item whose
    creation this service has not applied yet (it travels on another topic, and a restarted consumer
    may read the moves first) waits for it instead of being dropped.
    """
    telling = await people.telling_stage_changes(conn, sorted({event.tenant_id for event in events}))
    moves = [
        (event, pipelines.ItemMovedToStage.model_validate(event.data)) for event in events if event.tenant_id in telling
    ]
    if not moves:
        return
    watched = await _watched(conn, [(event.tenant_id, moved.item_id) for event, moved in moves])
    for event, moved in moves:
        with caused_by(event):
            if (event.tenant_id, moved.item_id) in watched:
                await _tell_its_people(conn, store, event.tenant_id, moved, event.id, event.actor, event.time)
            else:
                await waiting_moves.park(conn, event, moved.item_id)


async def _watched(conn: Connection, items: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return await pairs_found(
        conn,
        "SELECT tenant_id, item_id FROM item_watchers"
        " WHERE (tenant_id, item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        items,
    )


async def _tell_its_people(
    conn: Connection,
    store: EventStore,
    tenant_id: str,
    moved: pipelines.ItemMovedToStage,
    event_id: str,
    actor: Actor,
    at: datetime,
) -> None:
    item = await conn.fetchrow(
        "SELECT * FROM item_watchers WHERE tenant_id = $1 AND item_id = $2", tenant_id, moved.item_id
    )
    assert item is not None
    stage = await conn.fetchval(
        "SELECT name FROM stage_names WHERE tenant_id = $1 AND stage_id = $2", tenant_id, moved.to_stage_id
    )
    mover = moved.moved_by or str(actor)
    recipients = [item["assignee_id"], *item["observer_ids"]]
    message = Message(
        kind="stage_changed",
        title=f"{item['title']}: {stage or moved.to_stage_id}",
        body=f'"{item["title"]}" moved to stage "{stage or moved.to_stage_id}".',
        item=ItemRef(item_id=moved.item_id, entity_type_id=moved.entity_type_id),
        source=f"event:{event_id}",
    )
    for recipient in dict.fromkeys(r for r in recipients if r and f"user:{r}" != mover):
        await deliver(conn, store, tenant_id=tenant_id, recipient_id=recipient, message=message, actor=actor, now=at)
