"""Put an item on its first stage: the requested one, else its pipeline's first, else the default's."""

from __future__ import annotations

from datetime import datetime

from conveyor_contracts.pipelines import ItemPlaced
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from pipelines import follow_ups
from pipelines.adapters import catalog, items
from pipelines.domain.placement import place


async def place_item(
    conn: Connection, store: EventStore, *, tenant_id: str, item: items.ItemCopy, actor: Actor, now: datetime
) -> bool:
    """Place a waiting item; False while its type has no pipeline (it waits for one)."""
    pipelines = await catalog.pipelines_of_type(conn, tenant_id, item.entity_type_id)
    stage = place(
        pipelines, requested_pipeline_id=item.requested_pipeline_id, requested_stage_id=item.requested_stage_id
    )
    if stage is None:
        return False
    await items.put_on_stage(
        conn,
        tenant_id,
        item.item_id,
        pipeline_id=stage.pipeline_id,
        stage_id=stage.stage_id,
        expected_version=0,
        at=now,
    )
    await items.record_visit(
        conn,
        tenant_id,
        item.item_id,
        pipeline_id=stage.pipeline_id,
        stage_id=stage.stage_id,
        at=now,
        by=str(actor),
        tunnel_id=None,
    )
    placed = ItemPlaced(
        item_id=item.item_id,
        entity_type_id=item.entity_type_id,
        pipeline_id=stage.pipeline_id,
        stage_id=stage.stage_id,
        stage_semantic=stage.semantic,
    )
    await store.append(
        conn,
        stream_id=item.item_id,
        tenant_id=tenant_id,
        aggregate_type="item",
        expected_version=NO_STREAM,
        events=[NewEvent.of(placed, occurred_at=now)],
        actor=actor,
        now=now,
    )
    entered = follow_ups.FollowTunnels(tenant_id=tenant_id, item_id=item.item_id, stage_id=stage.stage_id, now=now)
    await follow_ups.dispatch(conn, store, entered)
    return True


async def place_waiting_items(conn: Connection, store: EventStore, opened: follow_ups.PlaceWaitingItems) -> None:
    """A type's first pipeline opened (`follow_ups.PlaceWaitingItems`): place the items that waited."""
    for item in await items.waiting_items(conn, opened.tenant_id, opened.entity_type_id):
        await place_item(conn, store, tenant_id=opened.tenant_id, item=item, actor=opened.actor, now=opened.now)
