"""Add custom fields to an entity type and change them; a removed field is only hidden."""

from __future__ import annotations

import uuid
from typing import Any

from conveyor_contracts.entities import FieldAdded, FieldChanged, FieldDefinition, Option

from entities.adapters import entity_types
from entities.domain.entity_type import OptionDraft, check_field, merge_options, normalised_default
from entities.domain.errors import Conflict, Invalid, NotFound
from entities.handlers.define_entity_types import bump_entity_type, current_entity_type
from entities.handlers.unit import Unit

# What a change may not touch: stored values were checked against them.
FIXED = ("code", "kind", "multiple", "dictionary_id", "link_entity_type_id")


async def add_field(
    unit: Unit, entity_type_id: str, draft: dict[str, Any], options: list[OptionDraft] | None
) -> FieldDefinition:
    fields = await entity_types.fields_of(unit.conn, unit.tenant_id, entity_type_id)
    if any(f.code == draft["code"] for f in fields):
        raise Conflict(f"the type has a field with code {draft['code']!r} already (hidden ones count)")
    own_options = merge_options([], options) if options is not None else None
    field = FieldDefinition(field_id=str(uuid.uuid4()), **draft, options=own_options)
    field = await _checked(unit, field)
    await entity_types.save_field(unit.conn, unit.tenant_id, entity_type_id, field)
    await bump_entity_type(unit, entity_type_id, FieldAdded(entity_type_id=entity_type_id, field=field), None)
    return field


async def change_field(
    unit: Unit,
    entity_type_id: str,
    field_id: str,
    changes: dict[str, Any],
    options: list[OptionDraft] | None,
    expected_version: int | None = None,
) -> FieldDefinition:
    """Change label, required, default, validation, options or hidden; never what values depend on.
    A stale expected version is refused even when nothing would change."""
    await current_entity_type(unit, entity_type_id, expected_version)
    fields = await entity_types.fields_of(unit.conn, unit.tenant_id, entity_type_id)
    current = next((f for f in fields if f.field_id == field_id), None)
    if current is None:
        raise NotFound(f"field {field_id} not found")
    fixed = [name for name in FIXED if name in changes and changes[name] != getattr(current, name)]
    if fixed:
        raise Invalid([{"field": f"/{name}", "message": "cannot change once items may hold values"} for name in fixed])
    update = {k: v for k, v in changes.items() if k not in FIXED}
    if options is not None:
        if current.options is None:
            raise Invalid.one("/options", "only list fields with their own options take options")
        update["options"] = merge_options(list(current.options), options)
    field = await _checked(unit, current.model_copy(update=update))
    if field == current:
        return current
    await entity_types.save_field(unit.conn, unit.tenant_id, entity_type_id, field)
    event = FieldChanged(entity_type_id=entity_type_id, field=field)
    await bump_entity_type(unit, entity_type_id, event, expected_version)
    return field


async def _checked(unit: Unit, field: FieldDefinition) -> FieldDefinition:
    field = FieldDefinition.model_validate(field.model_dump())  # re-validate a model_copy's update
    options: list[Option] = list(field.options or [])
    if field.dictionary_id:
        row = await entity_types.get_dictionary(unit.conn, unit.tenant_id, field.dictionary_id)
        if row is None:
            raise Invalid.one("/dictionary_id", "no such dictionary")
        options = [Option.model_validate(o) for o in row["options"]]
    if field.link_entity_type_id and not await entity_types.get_type(
        unit.conn, unit.tenant_id, field.link_entity_type_id
    ):
        raise Invalid.one("/link_entity_type_id", "no such entity type")
    check_field(field, options)
    return field.model_copy(update={"default": normalised_default(field, options)})
