"""Hold items' unique values for the item handlers (create, update, restore, import) and for a type
whose settings gain a key; a value another live item holds is a UniqueConflict naming that item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from entities.adapters import items, unique_keys
from entities.domain.schema import TypeSchema
from entities.domain.unique_keys import UniqueConflict, item_keys, key_name, key_value
from entities.handlers.unit import Unit

BACKFILL_BATCH = 5000


async def hold_unique_values(unit: Unit, schema: TypeSchema, item_id: str, fields: Mapping[str, Any] | None) -> None:
    """The item holds its values of the type's keys from now (None: it holds none, as in the recycle
    bin); values it no longer has are let go. Raises UniqueConflict, to be rolled back by the caller."""
    conflicts = await hold_many_values(unit, schema, [(item_id, fields)], changed=[item_id])
    if conflicts:
        raise conflicts[item_id]


async def hold_many_values(
    unit: Unit,
    schema: TypeSchema,
    wanted: Sequence[tuple[str, Mapping[str, Any] | None]],
    *,
    changed: Sequence[str],
) -> dict[str, UniqueConflict]:
    """Hold the values of many items at once (an import's chunk): {item id: its conflict} for the
    items that lose, whose values just held are let go again, so they may simply not be written.
    ``changed`` are the items that may hold values already (updated ones), whose old values go."""
    if not schema.settings.get("unique_keys"):
        return {}
    pairs = [(item_id, name, value) for item_id, fields in wanted for name, value in item_keys(schema, fields or {})]
    # New values are held before old ones are let go, so an item that loses keeps what it held.
    won, lost = await unique_keys.hold(unit.conn, unit.tenant_id, schema.entity_type_id, pairs)
    conflicts: dict[str, UniqueConflict] = {}
    for item_id, name, holder in lost:
        conflicts.setdefault(item_id, UniqueConflict(name.split(","), holder))
    await unique_keys.release_held(
        unit.conn, unit.tenant_id, schema.entity_type_id, {pair for pair in won if pair[0] in conflicts}
    )
    keeping = [item_id for item_id in changed if item_id not in conflicts]
    if keeping:
        await unique_keys.release_others(unit.conn, unit.tenant_id, pairs, keeping)
    return conflicts


async def hold_new_key(unit: Unit, schema: TypeSchema, codes: Sequence[str]) -> None:
    """A key the type's settings just gained: every live item holds its value, in batches, or the
    change is refused naming two items that share one."""
    after = ""
    while True:
        rows = await items.live_fields(unit.conn, unit.tenant_id, schema.entity_type_id, after, BACKFILL_BATCH)
        if not rows:
            return
        pairs = [
            (row["item_id"], key_name(codes), value)
            for row in rows
            if (value := key_value(codes, row["fields"])) is not None
        ]
        _, lost = await unique_keys.hold(unit.conn, unit.tenant_id, schema.entity_type_id, pairs)
        if lost:
            item_id, _, holder = lost[0]
            shared = " + ".join(codes)
            raise UniqueConflict(
                codes, holder, f"items {holder} and {item_id} share their {shared}; make them differ first"
            )
        after = rows[-1]["item_id"]
