"""Define entity types: create one, change its name or settings, archive it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from conveyor_contracts.entities import EntityTypeArchived, EntityTypeChanged, EntityTypeCreated
from conveyor_messaging.eventstore import NO_STREAM, ConcurrencyConflict, NewEvent

from entities.adapters import entity_types, unique_keys
from entities.domain.entity_type import EntityTypeSettings
from entities.domain.errors import Conflict, Invalid, NotFound, VersionMismatch
from entities.domain.unique_keys import check_keys, key_name
from entities.handlers.unique_fields import hold_new_key
from entities.handlers.unit import Unit


def type_stream(entity_type_id: str) -> str:
    return f"entity-type-{entity_type_id}"


async def create_entity_type(unit: Unit, *, code: str, name: str, settings: EntityTypeSettings) -> asyncpg.Record:
    if await entity_types.code_taken(unit.conn, "entity_types", unit.tenant_id, code):
        raise Conflict(f"an entity type with code {code!r} exists already")
    type_id = str(uuid.uuid4())
    values = settings.checked().model_dump()
    if values["unique_keys"]:
        raise Invalid.one("/settings/unique_keys", "a new type has no fields yet: declare its keys once they exist")
    await entity_types.insert_type(unit.conn, unit.tenant_id, type_id, code, name, values, unit.now)
    event = EntityTypeCreated(entity_type_id=type_id, code=code, name=name, settings=values)
    await _append(unit, type_id, NO_STREAM, event)
    return await _reloaded(unit, type_id)


async def change_entity_type(
    unit: Unit, entity_type_id: str, *, name: str | None, settings: dict[str, Any] | None, expected_version: int | None
) -> asyncpg.Record:
    """Change the name and/or some settings (only those sent)."""
    row = await current_entity_type(unit, entity_type_id, expected_version)
    changes: dict[str, Any] = {}
    if name is not None and name != row["name"]:
        changes["name"] = name
    if settings:
        merged = EntityTypeSettings.model_validate({**row["settings"], **settings}).checked().model_dump()
        if merged != row["settings"]:
            changes["settings"] = merged
    if not changes:
        return row
    if "settings" in changes:
        await _follow_unique_keys(unit, entity_type_id, row["settings"].get("unique_keys") or [], merged["unique_keys"])
    await entity_types.update_type(unit.conn, unit.tenant_id, entity_type_id, unit.now, **changes)
    await _append(
        unit, entity_type_id, row["version"], EntityTypeChanged(entity_type_id=entity_type_id, changes=changes)
    )
    return await _reloaded(unit, entity_type_id)


async def _follow_unique_keys(unit: Unit, entity_type_id: str, before: list[list[str]], after: list[list[str]]) -> None:
    """Keys dropped let their values go; keys added are held by every live item (or 409 naming two
    items that share a value)."""
    if before == after:
        return
    schema = await entity_types.schema_of(unit.conn, unit.tenant_id, entity_type_id)
    assert schema is not None
    check_keys(after, schema)
    for codes in before:
        if codes not in after:
            await unique_keys.drop_key(unit.conn, unit.tenant_id, entity_type_id, key_name(codes))
    for codes in after:
        if codes not in before:
            await hold_new_key(unit, schema, codes)


async def archive_entity_type(unit: Unit, entity_type_id: str, *, expected_version: int | None) -> asyncpg.Record:
    row = await current_entity_type(unit, entity_type_id, expected_version)
    if row["archived_at"] is not None:
        return row
    await entity_types.update_type(unit.conn, unit.tenant_id, entity_type_id, unit.now, archived_at=unit.now)
    await _append(unit, entity_type_id, row["version"], EntityTypeArchived(entity_type_id=entity_type_id))
    return await _reloaded(unit, entity_type_id)


async def bump_entity_type(unit: Unit, entity_type_id: str, event: Any, expected_version: int | None) -> None:
    """Record a field event on the type's stream (its version counts field changes too)."""
    row = await current_entity_type(unit, entity_type_id, expected_version)
    await entity_types.update_type(unit.conn, unit.tenant_id, entity_type_id, unit.now)
    await _append(unit, entity_type_id, row["version"], event)


async def current_entity_type(unit: Unit, entity_type_id: str, expected_version: int | None) -> asyncpg.Record:
    """The type's row, locked; 412 when the caller expected another version."""
    row = await entity_types.get_type(unit.conn, unit.tenant_id, entity_type_id, lock=True)
    if row is None:
        raise NotFound(f"entity type {entity_type_id} not found")
    if expected_version is not None and expected_version != row["version"]:
        raise VersionMismatch(expected_version, row["version"])
    return row


async def _reloaded(unit: Unit, entity_type_id: str) -> asyncpg.Record:
    row = await entity_types.get_type(unit.conn, unit.tenant_id, entity_type_id)
    assert row is not None
    return row


async def _append(unit: Unit, entity_type_id: str, version: int, event: Any) -> None:
    try:
        await unit.store.append(
            unit.conn,
            stream_id=type_stream(entity_type_id),
            tenant_id=unit.tenant_id,
            aggregate_type="entity_type",
            expected_version=version,
            events=[NewEvent.of(event)],
            actor=unit.actor,
            now=unit.now,
        )
    except ConcurrencyConflict as exc:
        raise VersionMismatch(version, exc.actual or 0) from exc
