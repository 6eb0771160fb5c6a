"""When items are created, copy them and put each on its first stage: a whole fetch at once.

One statement reads each type's pipelines, one inserts the copies already on their stages, one
opens their visits, one records every ``ItemPlaced``. An item whose first stage has tunnels follows
them one by one afterwards (rare, and a move of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import structlog
from conveyor_contracts import entities
from conveyor_contracts.pipelines import ItemPlaced
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore, FirstEvent, NewEvent

from pipelines import follow_ups
from pipelines.adapters import catalog, placements
from pipelines.adapters.items import ItemCopy
from pipelines.domain.model import Pipeline, Stage
from pipelines.domain.placement import place
from pipelines.domain.values import amount_or_none

log = structlog.get_logger(__name__)


def _copy(event: Envelope) -> ItemCopy:
    created = entities.ItemCreated.model_validate(event.data)
    return ItemCopy(
        item_id=created.item_id,
        entity_type_id=created.entity_type_id,
        pipeline_id=None,
        stage_id=None,
        requested_pipeline_id=created.requested_pipeline_id,
        requested_stage_id=created.requested_stage_id,
        title=created.title,
        assignee_id=created.assignee_id,
        amount=amount_or_none(created.amount),
        currency=created.currency,
        fields=created.fields,
        deleted=False,
        version=0,
        updated_at=event.time,
    )


async def when_items_created_place_them(conn: Connection, store: EventStore, events: Sequence[Envelope]) -> None:
    pipelines_of: dict[tuple[str, str], list[Pipeline]] = {}
    copies: list[tuple[Envelope, ItemCopy, Stage | None]] = []
    for event in events:
        copy = _copy(event)
        key = (event.tenant_id, copy.entity_type_id)
        if key not in pipelines_of:
            pipelines_of[key] = await catalog.pipelines_of_type(conn, *key)
        stage = place(
            pipelines_of[key],
            requested_pipeline_id=copy.requested_pipeline_id,
            requested_stage_id=copy.requested_stage_id,
        )
        if stage is not None:  # inserted on its stage: version 1, as a placement makes it
            copy = replace(copy, pipeline_id=stage.pipeline_id, stage_id=stage.stage_id, version=1)
        copies.append((event, copy, stage))
    new = await placements.insert_items(conn, [e.tenant_id for e, _, _ in copies], [c for _, c, _ in copies])
    placed: list[tuple[Envelope, ItemCopy, Stage]] = []
    for event, copy, stage in copies:
        if (event.tenant_id, copy.item_id) not in new:
            continue  # the same item again (a repeated command): it was placed the first time
        if stage is None:
            log.info("item_waits_for_a_pipeline", item_id=copy.item_id, entity_type_id=copy.entity_type_id)
        else:
            placed.append((event, copy, stage))
    if not placed:
        return
    await placements.open_first_visits(
        conn,
        [
            placements.Placement(
                event.tenant_id, copy.item_id, stage.pipeline_id, stage.stage_id, event.time, str(event.actor)
            )
            for event, copy, stage in placed
        ],
    )
    await store.append_first_events(
        conn,
        [
            FirstEvent(
                tenant_id=event.tenant_id,
                stream_id=copy.item_id,
                aggregate_type="item",
                event=NewEvent.of(
                    ItemPlaced(
                        item_id=copy.item_id,
                        entity_type_id=copy.entity_type_id,
                        pipeline_id=stage.pipeline_id,
                        stage_id=stage.stage_id,
                        stage_semantic=stage.semantic,
                    ),
                    occurred_at=event.time,
                ),
                actor=event.actor,
                correlation_id=event.correlation_id or event.id,
                causation_id=event.id,
                lane=event.lane,  # an imported item's placement goes by the bulk lane too
            )
            for event, copy, stage in placed
        ],
    )
    tunnelled = await placements.stages_with_tunnels(conn, sorted({(e.tenant_id, s.stage_id) for e, _, s in placed}))
    for event, copy, stage in placed:
        if (event.tenant_id, stage.stage_id) in tunnelled:
            with caused_by(event):
                entered = follow_ups.FollowTunnels(
                    tenant_id=event.tenant_id, item_id=copy.item_id, stage_id=stage.stage_id, now=event.time
                )
                await follow_ups.dispatch(conn, store, entered)
