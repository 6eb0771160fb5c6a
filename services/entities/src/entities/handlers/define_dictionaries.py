"""Define dictionaries: tenant-wide value lists whose options keep their ids."""

from __future__ import annotations

import uuid

import asyncpg
from conveyor_contracts.entities import DictionaryChanged, DictionaryCreated, Option
from conveyor_messaging.eventstore import NO_STREAM, ConcurrencyConflict, NewEvent

from entities.adapters import entity_types
from entities.domain.entity_type import OptionDraft, merge_options
from entities.domain.errors import Conflict, NotFound, VersionMismatch
from entities.handlers.unit import Unit


async def create_dictionary(unit: Unit, *, code: str, name: str, options: list[OptionDraft]) -> asyncpg.Record:
    if await entity_types.code_taken(unit.conn, "dictionaries", unit.tenant_id, code):
        raise Conflict(f"a dictionary with code {code!r} exists already")
    dictionary_id = str(uuid.uuid4())
    merged = merge_options([], options)
    await entity_types.insert_dictionary(unit.conn, unit.tenant_id, dictionary_id, code, name, merged)
    event = DictionaryCreated(dictionary_id=dictionary_id, code=code, name=name, options=merged)
    await _append(unit, dictionary_id, NO_STREAM, [NewEvent.of(event)])
    return await _reloaded(unit, dictionary_id)


async def change_dictionary(
    unit: Unit, dictionary_id: str, *, name: str | None, options: list[OptionDraft] | None, expected_version: int | None
) -> asyncpg.Record:
    row = await entity_types.get_dictionary(unit.conn, unit.tenant_id, dictionary_id)
    if row is None:
        raise NotFound(f"dictionary {dictionary_id} not found")
    if expected_version is not None and expected_version != row["version"]:
        raise VersionMismatch(expected_version, row["version"])
    current = [Option.model_validate(o) for o in row["options"]]
    merged = merge_options(current, options) if options is not None else current
    new_name = name if name is not None else row["name"]
    if merged == current and new_name == row["name"]:
        return row
    await entity_types.update_dictionary(unit.conn, unit.tenant_id, dictionary_id, new_name, merged)
    event = DictionaryChanged(dictionary_id=dictionary_id, name=new_name, options=merged)
    await _append(unit, dictionary_id, row["version"], [NewEvent.of(event)])
    return await _reloaded(unit, dictionary_id)


async def _reloaded(unit: Unit, dictionary_id: str) -> asyncpg.Record:
    row = await entity_types.get_dictionary(unit.conn, unit.tenant_id, dictionary_id)
    assert row is not None
    return row


async def _append(unit: Unit, dictionary_id: str, version: int, events: list[NewEvent]) -> None:
    try:
        await unit.store.append(
            unit.conn,
            stream_id=f"dictionary-{dictionary_id}",
            tenant_id=unit.tenant_id,
            aggregate_type="dictionary",
            expected_version=version,
            events=events,
            actor=unit.actor,
            now=unit.now,
        )
    except ConcurrencyConflict as exc:
        raise VersionMismatch(version, exc.actual or 0) from exc
