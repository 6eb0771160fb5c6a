"""PostgreSQL tables of relations between entity types and of the live links between items."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from conveyor_messaging.db import Connection


async def insert_relation(conn: Connection, tenant_id: str, row: dict[str, str], now: datetime) -> None:
    await conn.execute(
        "INSERT INTO relations (tenant_id, relation_id, code, name, parent_entity_type_id, child_entity_type_id,"
        " cardinality, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant_id,
        row["relation_id"],
        row["code"],
        row["name"],
        row["parent_entity_type_id"],
        row["child_entity_type_id"],
        row["cardinality"],
        now,
    )


async def get_relation(conn: Connection, tenant_id: str, relation_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM relations WHERE tenant_id = $1 AND relation_id = $2", tenant_id, relation_id
    )


async def code_taken(conn: Connection, tenant_id: str, code: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM relations WHERE tenant_id = $1 AND code = $2", tenant_id, code))


async def list_relations(
    conn: Connection, tenant_id: str, entity_type_id: str | None, *, after: tuple[str, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` relations (of one type's, as parent or child, if given) by (name, id), after ``after``."""
    return await conn.fetch(
        "SELECT * FROM relations WHERE tenant_id = $1"
        " AND ($2::text IS NULL OR parent_entity_type_id = $2 OR child_entity_type_id = $2)"
        " AND ($3::text IS NULL OR (name, relation_id) > ($3, $4))"
        " ORDER BY name, relation_id LIMIT $5",
        tenant_id,
        entity_type_id,
        *(after or (None, None)),
        limit,
    )


async def insert_link(
    conn: Connection, tenant_id: str, relation: asyncpg.Record, parent_id: str, child_id: str, by: str, now: datetime
) -> bool:
    """False when the link already exists; a child's second parent in a one-to-many relation raises."""
    status = await conn.execute(
        "INSERT INTO item_links (tenant_id, relation_id, parent_item_id, child_item_id, one_parent, linked_by,"
        " linked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, relation_id, parent_item_id,"
        " child_item_id) DO NOTHING",
        tenant_id,
        relation["relation_id"],
        parent_id,
        child_id,
        relation["cardinality"] == "one_to_many",
        by,
        now,
    )
    return bool(status.endswith(" 1"))


async def delete_link(conn: Connection, tenant_id: str, relation_id: str, parent_id: str, child_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM item_links WHERE tenant_id = $1 AND relation_id = $2 AND parent_item_id = $3"
        " AND child_item_id = $4",
        tenant_id,
        relation_id,
        parent_id,
        child_id,
    )
    return bool(status.endswith(" 1"))


async def parent_of(conn: Connection, tenant_id: str, relation_id: str, child_id: str) -> str | None:
    """The parent a child already has in a one-to-many relation."""
    value = await conn.fetchval(
        "SELECT parent_item_id FROM item_links WHERE tenant_id = $1 AND relation_id = $2 AND child_item_id = $3"
        " AND one_parent",
        tenant_id,
        relation_id,
        child_id,
    )
    return str(value) if value is not None else None


async def linked_items(
    conn: Connection,
    tenant_id: str,
    relation_id: str,
    item_id: str,
    *,
    side: str,
    visible: tuple[str, list[object]],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The live items on the other side of ``item_id``'s links, filtered by the reader's rights, by
    (linked_at, item id) after the key ``after``; each row has the link's `linked_at`.

    ``side`` is the side ``item_id`` is on ("parent" or "child"); ``visible`` a condition over
    `items` whose parameters start at $6.
    """
    mine, other = ("parent_item_id", "child_item_id") if side == "parent" else ("child_item_id", "parent_item_id")
    condition, params = visible
    return await conn.fetch(
        f"SELECT i.*, l.linked_at FROM item_links l"
        f" JOIN items i ON i.tenant_id = l.tenant_id AND i.item_id = l.{other}"
        f" WHERE l.tenant_id = $1 AND l.relation_id = $2 AND l.{mine} = $3 AND i.deleted_at IS NULL"
        f" AND ($4::timestamptz IS NULL OR (l.linked_at, i.item_id) > ($4, $5))"
        f" AND {condition} ORDER BY l.linked_at, i.item_id LIMIT {int(limit)}",
        tenant_id,
        relation_id,
        item_id,
        *(after or (None, None)),
        *params,
    )
