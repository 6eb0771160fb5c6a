"""Move an item to the recycle bin, bring it back, or remove it from the bin for good."""

from __future__ import annotations

from dataclasses import replace

from conveyor_contracts.entities import ItemDeleted, ItemPurged, ItemRestored
from conveyor_messaging.eventstore import NewEvent

from entities.adapters import items, placement_history, unique_keys
from entities.domain.errors import NotFound
from entities.domain.item import Item
from entities.handlers.load_item import Guard, load_item, record
from entities.handlers.schemas import schema_for
from entities.handlers.unique_fields import hold_unique_values
from entities.handlers.unit import Unit


async def delete_item(unit: Unit, item_id: str, *, expected_version: int | None, guard: Guard | None = None) -> Item:
    """The item, now in the recycle bin: hidden from lists, readable by id, restorable. Its unique
    values are let go (another item may take them; restoring it then answers 409)."""
    item = await load_item(unit, item_id, guard=guard, expected_version=expected_version)
    item.check_can_delete()
    await unique_keys.release_item(unit.conn, unit.tenant_id, item_id)
    event = ItemDeleted(item_id=item.item_id, entity_type_id=item.entity_type_id)
    version = await record(unit, item, [NewEvent.of(event)])
    deleted = replace(item, version=version, deleted_at=unit.now, deleted_by=unit.author)
    await items.save(unit.conn, unit.tenant_id, deleted)
    return deleted


async def restore_item(unit: Unit, item_id: str, *, expected_version: int | None, guard: Guard | None = None) -> Item:
    """The item, back from the recycle bin with every value it had."""
    item = await load_item(unit, item_id, guard=guard, expected_version=expected_version)
    item.check_can_leave_bin("restored")
    schema = await schema_for(unit, item.entity_type_id)
    if schema is None:
        raise NotFound(f"entity type {item.entity_type_id} not found")
    await hold_unique_values(unit, schema, item.item_id, item.fields)
    event = ItemRestored(item_id=item.item_id, entity_type_id=item.entity_type_id)
    version = await record(unit, item, [NewEvent.of(event)])
    restored = replace(
        item, version=version, deleted_at=None, deleted_by=None, updated_at=unit.now, updated_by=unit.author
    )
    await items.save(unit.conn, unit.tenant_id, restored)
    return restored


async def purge_item(unit: Unit, item_id: str, *, expected_version: int | None, guard: Guard | None = None) -> None:
    """Remove an item in the recycle bin for good: its state goes; its events stay as history."""
    item = await load_item(unit, item_id, guard=guard, expected_version=expected_version)
    item.check_can_leave_bin("purged")
    event = ItemPurged(item_id=item.item_id, entity_type_id=item.entity_type_id)
    await record(unit, item, [NewEvent.of(event)])
    await unique_keys.release_item(unit.conn, unit.tenant_id, item_id)
    await items.remove(unit.conn, unit.tenant_id, item_id)
    await placement_history.forget(unit.conn, unit.tenant_id, item_id)
