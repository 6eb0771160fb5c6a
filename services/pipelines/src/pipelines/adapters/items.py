"""PostgreSQL copy of items for the board, and the stage visits that make an item's history."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from conveyor_kit.database import as_columns
from conveyor_messaging.db import Connection


@dataclass(frozen=True, slots=True)
class ItemCopy:
    item_id: str
    entity_type_id: str
    pipeline_id: str | None
    stage_id: str | None
    requested_pipeline_id: str | None
    requested_stage_id: str | None
    title: str
    assignee_id: str | None
    amount: Decimal | None
    currency: str | None
    fields: dict[str, Any]
    deleted: bool
    version: int
    updated_at: datetime


def _item(row: asyncpg.Record) -> ItemCopy:
    return ItemCopy(**{name: row[name] for name in ItemCopy.__slots__})


async def load_item(conn: Connection, tenant_id: str, item_id: str, *, for_update: bool = False) -> ItemCopy | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM items WHERE tenant_id = $1 AND item_id = $2{lock}", tenant_id, item_id)
    return _item(row) if row else None


async def insert_item(conn: Connection, tenant_id: str, item: ItemCopy) -> bool:
    """Store a new item's copy; False when it is already there (the event came twice)."""
    status = await conn.execute(
        "INSERT INTO items (tenant_id, item_id, entity_type_id, requested_pipeline_id, requested_stage_id, title,"
        " assignee_id, amount, currency, fields, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT DO NOTHING",
        tenant_id,
        item.item_id,
        item.entity_type_id,
        item.requested_pipeline_id,
        item.requested_stage_id,
        item.title,
        item.assignee_id,
        item.amount,
        item.currency,
        item.fields,
        item.updated_at,
    )
    return bool(status.endswith(" 1"))


async def waiting_items(conn: Connection, tenant_id: str, entity_type_id: str) -> list[ItemCopy]:
    rows = await conn.fetch(
        "SELECT * FROM items WHERE tenant_id = $1 AND entity_type_id = $2 AND pipeline_id IS NULL ORDER BY item_id",
        tenant_id,
        entity_type_id,
    )
    return [_item(r) for r in rows]


async def put_on_stage(
    conn: Connection,
    tenant_id: str,
    item_id: str,
    *,
    pipeline_id: str,
    stage_id: str,
    expected_version: int,
    at: datetime,
) -> bool:
    """Move the copy; False when its version is no longer `expected_version` (someone moved it first)."""
    status = await conn.execute(
        "UPDATE items SET pipeline_id = $3, stage_id = $4, version = version + 1, updated_at = greatest(updated_at, $6)"
        " WHERE tenant_id = $1 AND item_id = $2 AND version = $5",
        tenant_id,
        item_id,
        pipeline_id,
        stage_id,
        expected_version,
        at,
    )
    return bool(status.endswith(" 1"))


@dataclass(frozen=True, slots=True)
class CardChange:
    """One ``ItemUpdated`` as the card sees it: card columns set, custom fields merged."""

    tenant_id: str
    item_id: str
    columns: dict[str, Any]  # title, assignee_id, amount (a Decimal or None), currency
    fields: dict[str, Any]
    at: datetime


async def apply_card_changes(conn: Connection, changes: list[CardChange]) -> None:
    """Set card columns and merge custom field values for a fetch of updates in one statement; an item
    changed several times in it gets its changes folded in their order first (an UPDATE touches a
    row once)."""
    folded: dict[tuple[str, str], CardChange] = {}
    for change in changes:
        key = (change.tenant_id, change.item_id)
        before = folded.get(key)
        if before is not None:
            columns, fields = {**before.columns, **change.columns}, {**before.fields, **change.fields}
            change = CardChange(*key, columns=columns, fields=fields, at=max(before.at, change.at))
        folded[key] = change
    rows = [replace(c, columns={k: _as_text(v) for k, v in c.columns.items()}) for c in folded.values()]
    await conn.execute(
        """UPDATE items SET fields = items.fields || n.f, updated_at = greatest(items.updated_at, n.at),
                  title = CASE WHEN n.c ? 'title' THEN n.c->>'title' ELSE items.title END,
                  assignee_id = CASE WHEN n.c ? 'assignee_id' THEN n.c->>'assignee_id' ELSE items.assignee_id END,
                  amount = CASE WHEN n.c ? 'amount' THEN (n.c->>'amount')::numeric ELSE items.amount END,
                  currency = CASE WHEN n.c ? 'currency' THEN n.c->>'currency' ELSE items.currency END
             FROM (SELECT t, i, c::jsonb AS c, f::jsonb AS f, at
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(t, i, c, f, at)
                  ) AS n
            WHERE items.tenant_id = n.t AND items.item_id = n.i""",
        *as_columns(rows, "tenant_id", "item_id", "columns", "fields", "at"),
    )


def _as_text(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


async def set_deleted(conn: Connection, tenant_id: str, item_id: str, deleted: bool, at: datetime) -> None:
    await conn.execute(
        "UPDATE items SET deleted = $3, updated_at = greatest(updated_at, $4) WHERE tenant_id = $1 AND item_id = $2",
        tenant_id,
        item_id,
        deleted,
        at,
    )


async def purge(conn: Connection, tenant_id: str, item_id: str) -> None:
    await conn.execute("DELETE FROM stage_visits WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)
    await conn.execute("DELETE FROM items WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)


async def items_on_stage(conn: Connection, tenant_id: str, stage_id: str) -> list[ItemCopy]:
    rows = await conn.fetch(
        "SELECT * FROM items WHERE tenant_id = $1 AND stage_id = $2 ORDER BY item_id", tenant_id, stage_id
    )
    return [_item(r) for r in rows]


# ---------------------------------------------------------------- visits


async def record_visit(
    conn: Connection,
    tenant_id: str,
    item_id: str,
    *,
    pipeline_id: str,
    stage_id: str,
    at: datetime,
    by: str,
    tunnel_id: str | None,
) -> None:
    """Close the open visit (if any) and open one on the new stage."""
    await conn.execute(
        "UPDATE stage_visits SET left_at = $3, left_by = $4 WHERE tenant_id = $1 AND item_id = $2 AND left_at IS NULL",
        tenant_id,
        item_id,
        at,
        by,
    )
    await conn.execute(
        "INSERT INTO stage_visits (tenant_id, item_id, visit, pipeline_id, stage_id, entered_at, entered_by, tunnel_id)"
        " SELECT $1, $2, coalesce(max(visit), 0) + 1, $3, $4, $5, $6, $7 FROM stage_visits"
        " WHERE tenant_id = $1 AND item_id = $2",
        tenant_id,
        item_id,
        pipeline_id,
        stage_id,
        at,
        by,
        tunnel_id,
    )


async def visits(conn: Connection, tenant_id: str, item_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT v.visit, v.pipeline_id, v.stage_id, s.name AS stage_name, s.semantic, v.entered_at, v.entered_by,"
        " v.left_at, v.left_by, v.tunnel_id FROM stage_visits v"
        " LEFT JOIN stages s ON s.tenant_id = v.tenant_id AND s.stage_id = v.stage_id"
        " WHERE v.tenant_id = $1 AND v.item_id = $2 ORDER BY v.visit",
        tenant_id,
        item_id,
    )
    return [dict(r) for r in rows]
