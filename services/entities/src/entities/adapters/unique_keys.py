"""The ``item_unique_keys`` table: which item holds each unique key's value.

Holding a value is an insert under the table's primary key, so of two transactions holding the same
value the second waits for the first and then finds it taken; no pre-check can be raced past.
"""

from __future__ import annotations

from collections.abc import Sequence

from conveyor_messaging.db import Connection

_HOLD = (
    "INSERT INTO item_unique_keys (tenant_id, entity_type_id, key_name, key_value, item_id)"
    " SELECT $1, $2, k, v, i FROM unnest($3::text[], $4::text[], $5::text[]) AS w(i, k, v)"
    " ON CONFLICT DO NOTHING RETURNING item_id, key_name, key_value"
)
_HOLDERS = (
    "SELECT w.i AS item_id, w.k AS key_name, u.item_id AS holder"
    " FROM unnest($3::text[], $4::text[], $5::text[]) AS w(i, k, v)"
    " JOIN item_unique_keys u ON u.tenant_id = $1 AND u.entity_type_id = $2 AND u.key_name = w.k"
    "  AND u.key_value = w.v AND u.item_id <> w.i"
)


async def hold(
    conn: Connection, tenant_id: str, entity_type_id: str, wanted: Sequence[tuple[str, str, str]]
) -> tuple[set[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Hold each (item id, key name, key value): (the triples newly held, [(item, key, holder)] for
    values another item holds). Values the item holds already are neither."""
    columns = [list(column) for column in zip(*wanted, strict=True)] if wanted else [[], [], []]
    won = await conn.fetch(_HOLD, tenant_id, entity_type_id, *columns)
    lost = await conn.fetch(_HOLDERS, tenant_id, entity_type_id, *columns)
    held = {(r["item_id"], r["key_name"], r["key_value"]) for r in won}
    return held, [(r["item_id"], r["key_name"], r["holder"]) for r in lost]


async def release_others(
    conn: Connection, tenant_id: str, keep: Sequence[tuple[str, str, str]], items: Sequence[str]
) -> None:
    """Let go of the values these items hold but no longer have (changed, or the key was emptied)."""
    await conn.execute(
        "DELETE FROM item_unique_keys u WHERE u.tenant_id = $1 AND u.item_id = ANY($2::text[])"
        " AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[], $5::text[]) AS w(i, k, v)"
        "  WHERE w.i = u.item_id AND w.k = u.key_name AND w.v = u.key_value)",
        tenant_id,
        list(items),
        *([list(column) for column in zip(*keep, strict=True)] if keep else [[], [], []]),
    )


async def release_held(conn: Connection, tenant_id: str, entity_type_id: str, held: set[tuple[str, str, str]]) -> None:
    """Let go of values just held for items that will not be written after all (refused rows)."""
    if not held:
        return
    items, keys, values = zip(*held, strict=True)
    await conn.execute(
        "DELETE FROM item_unique_keys u USING unnest($3::text[], $4::text[], $5::text[]) AS w(i, k, v)"
        " WHERE u.tenant_id = $1 AND u.entity_type_id = $2 AND u.key_name = w.k AND u.key_value = w.v"
        " AND u.item_id = w.i",
        tenant_id,
        entity_type_id,
        list(items),
        list(keys),
        list(values),
    )


async def release_item(conn: Connection, tenant_id: str, item_id: str) -> None:
    await conn.execute("DELETE FROM item_unique_keys WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)


async def drop_key(conn: Connection, tenant_id: str, entity_type_id: str, name: str) -> None:
    await conn.execute(
        "DELETE FROM item_unique_keys WHERE tenant_id = $1 AND entity_type_id = $2 AND key_name = $3",
        tenant_id,
        entity_type_id,
        name,
    )


async def holders(
    conn: Connection, tenant_id: str, entity_type_id: str, name: str, values: Sequence[str]
) -> dict[str, str]:
    """{key value: item id} of the given values of one key (an import's matching)."""
    rows = await conn.fetch(
        "SELECT key_value, item_id FROM item_unique_keys WHERE tenant_id = $1 AND entity_type_id = $2"
        " AND key_name = $3 AND key_value = ANY($4::text[])",
        tenant_id,
        entity_type_id,
        name,
        list(values),
    )
    return {row["key_value"]: row["item_id"] for row in rows}
