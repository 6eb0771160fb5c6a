"""Change some of an item's values: only those sent, each change recorded with its old and new value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conveyor_contracts.entities import ItemUpdated
from conveyor_messaging.eventstore import NewEvent

from entities.adapters import items
from entities.domain.errors import Invalid, NotFound
from entities.domain.item import Item, with_changes
from entities.domain.system_values import check_system
from entities.handlers.create_item import check_links
from entities.handlers.load_item import Guard, load_item, record
from entities.handlers.schemas import schema_for
from entities.handlers.unique_fields import hold_unique_values
from entities.handlers.unit import Unit


async def update_item(
    unit: Unit,
    item_id: str,
    *,
    values: Mapping[str, Any],
    fields: Mapping[str, Any],
    expected_version: int | None,
    guard: Guard | None = None,
    new_assignee_guard: Guard | None = None,
) -> Item:
    """The item after the change; unchanged (and no event) when every value sent is already so."""
    item = await load_item(unit, item_id, guard=guard, expected_version=expected_version)
    schema = await schema_for(unit, item.entity_type_id)
    if schema is None:
        raise NotFound(f"entity type {item.entity_type_id} not found")
    errors: list[dict[str, str]] = []
    system: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    try:
        system = check_system(values, creating=False)
        errors += schema.switched_off(system)
    except Invalid as exc:
        errors += exc.errors
    try:
        custom, links = schema.check(fields, creating=False)
        await check_links(unit, schema, links)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    changes = item.changes_to({**system, **{f"fields.{code}": value for code, value in custom.items()}})
    if not changes:
        return item
    after = with_changes(item, changes, at=unit.now, version=item.version + 1, by=unit.author)
    if after.amount is not None and after.currency is None:
        raise Invalid.one("/currency", "an amount needs its currency")
    if any(key.startswith("fields.") for key in changes):
        await hold_unique_values(unit, schema, item.item_id, after.fields)
    if "assignee_id" in changes and new_assignee_guard is not None:
        await new_assignee_guard(after, None)
    event = ItemUpdated(
        item_id=item.item_id, entity_type_id=item.entity_type_id, changes=changes, updated_by=unit.author
    )
    version = await record(unit, item, [NewEvent.of(event)])
    after = with_changes(item, changes, at=unit.now, version=version, by=unit.author)
    unit.known_placements[item.item_id] = await items.save(unit.conn, unit.tenant_id, after)
    return after
