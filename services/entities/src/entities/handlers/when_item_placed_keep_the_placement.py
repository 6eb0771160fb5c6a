"""Keep a copy of each item's pipeline and stage (the pipelines service owns them) for list filters,
and every placement with its time, for the item as it was (`as_of`, `version`)."""

from __future__ import annotations

from collections.abc import Sequence

from conveyor_contracts.pipelines import ItemMovedToStage, ItemPlaced
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from entities.adapters import items, placement_history
from entities.adapters.placement_history import Placement


async def when_items_placed_keep_their_placements(conn: Connection, envelopes: Sequence[Envelope]) -> None:
    """A fetch of placements (an import's items) in one statement."""
    placed = [(e, ItemPlaced.model_validate(e.data)) for e in envelopes]
    await _keep(
        conn,
        [
            (e.tenant_id, p.item_id, p.pipeline_id, p.stage_id, p.stage_semantic, e.aggregate_version, e.time)
            for e, p in placed
        ],
    )


async def when_items_moved_keep_their_new_stages(conn: Connection, envelopes: Sequence[Envelope]) -> None:
    """A fetch of moves in one statement; an item moved twice in it keeps the newer stage."""
    moved = [(e, ItemMovedToStage.model_validate(e.data)) for e in envelopes]
    await _keep(
        conn,
        [
            # The move's own time when it has one (a command's time), else when it was published.
            (e.tenant_id, m.item_id, m.to_pipeline_id, m.to_stage_id, m.to_semantic, e.aggregate_version, at)
            for e, m in moved
            for at in [m.moved_at or e.time]
        ],
    )


async def _keep(conn: Connection, placements: list[Placement]) -> None:
    await items.copy_placements(conn, [p[:6] for p in placements])
    await placement_history.keep(conn, placements)
