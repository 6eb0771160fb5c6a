"""Keep a copy of each item's pipeline and stage (the pipelines service owns them) for list filters."""

from __future__ import annotations

from conveyor_contracts.pipelines import ItemMovedToStage, ItemPlaced
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from entities.adapters import items


async def when_item_placed_keep_the_placement(conn: Connection, envelope: Envelope) -> None:
    event = ItemPlaced.model_validate(envelope.data)
    await items.copy_placement(
        conn,
        envelope.tenant_id,
        event.item_id,
        event.pipeline_id,
        event.stage_id,
        event.stage_semantic,
        envelope.aggregate_version,
    )


async def when_item_moved_keep_the_new_stage(conn: Connection, envelope: Envelope) -> None:
    event = ItemMovedToStage.model_validate(envelope.data)
    await items.copy_placement(
        conn,
        envelope.tenant_id,
        event.item_id,
        event.to_pipeline_id,
        event.to_stage_id,
        event.to_semantic,
        envelope.aggregate_version,
    )
