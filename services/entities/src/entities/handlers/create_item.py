"""Create an item: check its values against its type, record ItemCreated, write its current state."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor_contracts.entities import ItemCreated
from conveyor_messaging.eventstore import NO_STREAM, NewEvent

from entities.adapters import items
from entities.domain.errors import Conflict, Invalid, NotFound
from entities.domain.item import Item, created
from entities.domain.schema import TypeSchema
from entities.domain.system_values import check_system
from entities.handlers.schemas import schema_for
from entities.handlers.unique_fields import hold_unique_values
from entities.handlers.unit import Unit


async def create_item(
    unit: Unit,
    *,
    entity_type_id: str,
    values: Mapping[str, Any],
    fields: Mapping[str, Any],
    requested_pipeline_id: str | None = None,
    requested_stage_id: str | None = None,
    item_id: str | None = None,
    schema: TypeSchema | None = None,
) -> Item:
    """The new item. `values` are system fields (title, assignee_id...), `fields` custom ones by code."""
    schema = schema or await schema_for(unit, entity_type_id)
    if schema is None:
        raise NotFound(f"entity type {entity_type_id} not found")
    event = await decide_item(
        unit,
        schema,
        values=values,
        fields=fields,
        requested_pipeline_id=requested_pipeline_id,
        requested_stage_id=requested_stage_id,
        item_id=item_id,
    )
    await hold_unique_values(unit, schema, event.item_id, event.fields)
    (recorded,) = await unit.store.append(
        unit.conn,
        stream_id=event.item_id,
        tenant_id=unit.tenant_id,
        aggregate_type="item",
        expected_version=NO_STREAM,
        events=[NewEvent.of(event)],
        actor=unit.actor,
        now=unit.now,
    )
    item = created(event.model_dump(mode="json"), unit.now, recorded.version)
    unit.known_placements[item.item_id] = await items.save(unit.conn, unit.tenant_id, item)
    return item


async def create_items(unit: Unit, events: Sequence[ItemCreated]) -> list[Item]:
    """Record many decided items at once (an import's chunk): two statements instead of two per item.
    Their unique values are held by the caller first (``hold_many_values``), which drops the losers."""
    dumped = [event.model_dump(mode="json") for event in events]  # once: the event's data and the item's
    await unit.store.append_new_streams(
        unit.conn,
        tenant_id=unit.tenant_id,
        aggregate_type="item",
        streams=[(event.item_id, NewEvent(event.type_name, data)) for event, data in zip(events, dumped, strict=True)],
        actor=unit.actor,
        now=unit.now,
    )
    made = [created(data, unit.now, 1) for data in dumped]
    await items.save_many(unit.conn, unit.tenant_id, made)
    return made


async def decide_item(
    unit: Unit,
    schema: TypeSchema,
    *,
    values: Mapping[str, Any],
    fields: Mapping[str, Any],
    requested_pipeline_id: str | None = None,
    requested_stage_id: str | None = None,
    item_id: str | None = None,
) -> ItemCreated:
    """Check a new item's values against its type and say what its ItemCreated is; writes nothing."""
    if schema.archived:
        raise Conflict("the entity type is archived: it takes no new items")
    system, custom = checked_values(schema, values, fields)
    await check_links(unit, schema, custom[1])
    event = ItemCreated(
        item_id=item_id or str(uuid.uuid4()),
        entity_type_id=schema.entity_type_id,
        title=system["title"],
        assignee_id=system.get("assignee_id") or unit.author,
        observer_ids=system.get("observer_ids", []),
        amount=system.get("amount"),
        currency=system.get("currency") or (schema.settings.get("default_currency") if system.get("amount") else None),
        begin_date=system.get("begin_date"),
        close_date=system.get("close_date"),
        source=system.get("source"),
        client_id=system.get("client_id"),
        fields={code: value for code, value in custom[0].items() if value is not None},
        requested_pipeline_id=requested_pipeline_id,
        requested_stage_id=requested_stage_id,
        created_by=unit.author,
    )
    if event.amount is not None and event.currency is None:
        raise Invalid.one("/currency", "an amount needs its currency (or a default currency on the type)")
    return event


def checked_values(
    schema: TypeSchema, values: Mapping[str, Any], fields: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[dict[str, Any], list[tuple[str, str]]]]:
    """System and custom values checked against the type (what a create would store); raises Invalid."""
    errors: list[dict[str, str]] = []
    system: dict[str, Any] = {}
    custom: tuple[dict[str, Any], list[tuple[str, str]]] = ({}, [])
    try:
        system = check_system(values, creating=True)
        errors += schema.switched_off(system)
    except Invalid as exc:
        errors += exc.errors
    try:
        custom = schema.check(fields, creating=True)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    return system, custom


async def check_links(unit: Unit, schema: TypeSchema, links: list[tuple[str, str]]) -> None:
    """Every linked item exists in this tenant and is of the field's linked type."""
    if not links:
        return
    found = await items.existing_items(unit.conn, unit.tenant_id, sorted({link for _, link in links}))
    errors = []
    for code, link in links:
        wanted = schema.fields[code].link_entity_type_id
        if link not in found:
            errors.append({"field": f"/fields/{code}", "message": f"item {link} does not exist"})
        elif wanted and found[link] != wanted:
            errors.append({"field": f"/fields/{code}", "message": f"item {link} is not of the linked entity type"})
    if errors:
        raise Invalid(errors)
