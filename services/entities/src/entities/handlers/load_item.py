"""Load an item's current state for a decision, with the caller's right to it checked first."""

from __future__ import annotations

from typing import Protocol

from conveyor_messaging.eventstore import ConcurrencyConflict, NewEvent

from entities.adapters import items
from entities.domain.errors import NotFound, VersionMismatch
from entities.domain.item import Item
from entities.handlers.unit import Unit


class Guard(Protocol):
    """Refuses (NotFound or Forbidden) an item the caller may not touch; HTTP passes one, robots don't."""

    async def __call__(self, item: Item, pipeline_id: str | None) -> None: ...


async def load_item(unit: Unit, item_id: str, *, guard: Guard | None, expected_version: int | None) -> Item:
    row = await items.get_row(unit.conn, unit.tenant_id, item_id)
    if row is None:
        raise NotFound(f"item {item_id} not found")
    item = items.to_item(row)
    unit.known_placements[item_id] = items.placement(row)
    if guard is not None:
        await guard(item, row["pipeline_id"])
    if expected_version is not None and expected_version != item.version:
        raise VersionMismatch(expected_version, item.version)
    return item


async def record(unit: Unit, item: Item, events: list[NewEvent]) -> int:
    """Append the item's new events after the version it was decided on; the new version."""
    try:
        recorded = await unit.store.append(
            unit.conn,
            stream_id=item.item_id,
            tenant_id=unit.tenant_id,
            aggregate_type="item",
            expected_version=item.version,
            events=events,
            actor=unit.actor,
            now=unit.now,
        )
    except ConcurrencyConflict as exc:
        raise VersionMismatch(item.version, exc.actual or 0) from exc
    return recorded[-1].version
