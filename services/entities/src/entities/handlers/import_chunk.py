"""One chunk of an import's rows in one unit of work: new rows become items, rows matching an
existing item by the import's key update it (or are skipped), and every row's unique values are
held first, so a clash refuses that row instead of failing the chunk."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from conveyor_contracts.entities import ItemCreated, ItemUpdated
from conveyor_messaging.eventstore import NewEvent

from entities.adapters import items, unique_keys
from entities.domain.errors import Invalid
from entities.domain.import_rows import RowError
from entities.domain.item import Item, with_changes
from entities.domain.system_values import check_system
from entities.domain.unique_keys import UniqueConflict, key_name
from entities.handlers.create_item import check_links, create_items, decide_item
from entities.handlers.import_checks import Prepared
from entities.handlers.load_item import record
from entities.handlers.unique_fields import hold_many_values
from entities.handlers.unit import Unit

Rows = list[tuple[list[str], int]]


@dataclass
class ChunkOutcome:
    """What a chunk did, for the job's counts."""

    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)


async def import_chunk(unit: Unit, prepared: Prepared, job_id: str, chunk: Rows) -> ChunkOutcome:
    outcome = ChunkOutcome()
    rows: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for cells, line in chunk:
        values = prepared.precheck(cells, line)
        if isinstance(values, list):
            outcome.errors += values
        else:
            rows.append((line, *values))
    matches, matched_items = await _matches(unit, prepared, rows)
    creates: dict[int, ItemCreated] = {}
    updates: dict[str, tuple[Item, list[ItemUpdated], list[int]]] = {}  # item id → (before, events, lines)
    current: dict[str, Item] = {}
    for line, system, custom in rows:
        item_id = matches.get(line)
        try:
            if item_id is None:
                new_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{unit.tenant_id}/{job_id}/{line}"))
                creates[line] = await decide_item(unit, prepared.schema, values=system, fields=custom, item_id=new_id)
            elif prepared.on_match == "skip":
                outcome.skipped += 1
            else:
                before = current.get(item_id) or matched_items[item_id]
                after, event = await _decide_update(unit, prepared, before, system, custom)
                if event is None:
                    outcome.skipped += 1
                    continue
                current[item_id] = after
                first, events, lines = updates.get(item_id, (before, [], []))
                updates[item_id] = (first, [*events, event], [*lines, line])
        except Invalid as exc:
            outcome.errors += prepared.plan.row_errors(exc, line)
    lost = await hold_many_values(
        unit,
        prepared.schema,
        [(e.item_id, e.fields) for e in creates.values()] + [(i, current[i].fields) for i in updates],
        changed=list(updates),
    )
    for line, created in list(creates.items()):
        if created.item_id in lost:
            outcome.errors.append(_clash(prepared, line, lost[created.item_id]))
            del creates[line]
    for item_id in [i for i in updates if i in lost]:
        outcome.errors += [_clash(prepared, line, lost[item_id]) for line in updates.pop(item_id)[2]]
    await create_items(unit, list(creates.values()))
    for item_id, (before, events, _) in updates.items():
        version = await record(unit, before, [NewEvent.of(event) for event in events])
        current[item_id] = replace(current[item_id], version=version)
    await items.save_many(unit.conn, unit.tenant_id, [current[i] for i in updates])
    outcome.imported = len(creates)
    outcome.updated = sum(len(lines) for _, _, lines in updates.values())
    return outcome


async def _matches(
    unit: Unit, prepared: Prepared, rows: list[tuple[int, dict[str, Any], dict[str, Any]]]
) -> tuple[dict[int, str], dict[str, Item]]:
    """({line: id of the existing item the row matches by the import's key}, those items by id)."""
    if not prepared.key:
        return {}, {}
    values = {line: value for line, _, custom in rows if (value := prepared.key_of(custom)) is not None}
    holders = await unique_keys.holders(
        unit.conn, unit.tenant_id, prepared.schema.entity_type_id, key_name(prepared.key), list(values.values())
    )
    held = {line: holders[value] for line, value in values.items() if value in holders}
    rows_of = await items.rows_of(unit.conn, unit.tenant_id, sorted(set(held.values())))
    matched = {row["item_id"]: items.to_item(row) for row in rows_of}
    return {line: item_id for line, item_id in held.items() if item_id in matched}, matched


async def _decide_update(
    unit: Unit, prepared: Prepared, item: Item, system: Mapping[str, Any], custom: Mapping[str, Any]
) -> tuple[Item, ItemUpdated | None]:
    """The item after the row's values, and its ItemUpdated (None when every value is already so)."""
    errors: list[dict[str, str]] = []
    checked_system: dict[str, Any] = {}
    checked_custom: dict[str, Any] = {}
    try:
        checked_system = check_system(system, creating=False)
        errors += prepared.schema.switched_off(checked_system)
    except Invalid as exc:
        errors += exc.errors
    try:
        checked_custom, links = prepared.schema.check(custom, creating=False)
        await check_links(unit, prepared.schema, links)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    changes = item.changes_to({**checked_system, **{f"fields.{c}": v for c, v in checked_custom.items()}})
    if not changes:
        return item, None
    after = with_changes(item, changes, at=unit.now, version=item.version, by=unit.author)
    event = ItemUpdated(
        item_id=item.item_id, entity_type_id=item.entity_type_id, changes=changes, updated_by=unit.author
    )
    return after, event


def _clash(prepared: Prepared, line: int, conflict: UniqueConflict) -> RowError:
    pointer = f"/fields/{conflict.fields[0]}"
    return RowError(line, prepared.plan.column_of(pointer), pointer, str(conflict))
