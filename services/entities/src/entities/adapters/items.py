"""The items' current-state table: written with each item event, read by GET and lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from conveyor_messaging.db import Connection

from entities.domain.item import Item

_STATE = (
    "entity_type_id, version, title, assignee_id, observer_ids, amount, currency, begin_date, close_date,"
    " source, client_id, fields, requested_pipeline_id, requested_stage_id, created_by, created_at,"
    " updated_by, updated_at, deleted_at, deleted_by"
)


_SAVE = (
    f"INSERT INTO items (item_id, tenant_id, {_STATE})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9, $10::date, $11::date, $12, $13, $14, $15, $16,"
    "  $17, $18, $19, $20, $21, $22)"
    " ON CONFLICT (item_id) DO UPDATE SET"
    + ", ".join(f" {c.strip()} = EXCLUDED.{c.strip()}" for c in _STATE.split(","))
)


async def save(conn: Connection, tenant_id: str, item: Item) -> dict[str, Any]:
    """Write the item's whole state (insert or replace); the pipeline copy is left alone, and returned
    (``placement``)."""
    row = await conn.fetchrow(_SAVE + " RETURNING pipeline_id, stage_id, stage_semantic", *_row(tenant_id, item))
    assert row is not None
    return placement(row)


async def save_many(conn: Connection, tenant_id: str, many: list[Item]) -> None:
    """Write many items' states (insert or replace, as ``save`` does) in one statement: the rows go as
    one JSON array, which PostgreSQL reads into rows of the table (an import's chunk: one statement
    instead of a thousand). An item given twice keeps its last state, as separate saves would."""
    if not many:
        return
    last = {item.item_id: item for item in many}
    rows = orjson.dumps([_json_row(item) for item in last.values()], option=orjson.OPT_NAIVE_UTC)
    await conn.execute(_SAVE_MANY, tenant_id, rows.decode())


_SAVE_MANY = (
    f"INSERT INTO items (item_id, tenant_id, {_STATE})"
    f" SELECT item_id, $1, {_STATE} FROM jsonb_populate_recordset(NULL::items, $2::text::jsonb)"
    " ON CONFLICT (item_id) DO UPDATE SET"
    + ", ".join(f" {c.strip()} = EXCLUDED.{c.strip()}" for c in _STATE.split(","))
)


def _json_row(item: Item) -> dict[str, Any]:
    """``_row`` as JSON for ``_SAVE_MANY``: PostgreSQL casts each value to its column's type."""
    return {
        "item_id": item.item_id,
        "entity_type_id": item.entity_type_id,
        "version": item.version,
        "title": item.title,
        "assignee_id": item.assignee_id,
        "observer_ids": list(item.observer_ids),
        "amount": item.amount,
        "currency": item.currency,
        "begin_date": item.begin_date or None,
        "close_date": item.close_date or None,
        "source": item.source,
        "client_id": item.client_id,
        "fields": dict(item.fields),
        "requested_pipeline_id": item.requested_pipeline_id,
        "requested_stage_id": item.requested_stage_id,
        "created_by": item.created_by,
        "created_at": item.created_at,
        "updated_by": item.updated_by or item.created_by,
        "updated_at": item.updated_at or item.created_at,
        "deleted_at": item.deleted_at,
        "deleted_by": item.deleted_by,
    }


def _row(tenant_id: str, item: Item) -> tuple[Any, ...]:
    return (
        item.item_id,
        tenant_id,
        item.entity_type_id,
        item.version,
        item.title,
        item.assignee_id,
        list(item.observer_ids),
        item.amount,
        item.currency,
        _date(item.begin_date),
        _date(item.close_date),
        item.source,
        item.client_id,
        dict(item.fields),
        item.requested_pipeline_id,
        item.requested_stage_id,
        item.created_by,
        item.created_at,
        item.updated_by or item.created_by,
        item.updated_at or item.created_at,
        item.deleted_at,
        item.deleted_by,
    )


async def remove(conn: Connection, tenant_id: str, item_id: str) -> None:
    await conn.execute("DELETE FROM items WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)


async def get_row(conn: Connection, tenant_id: str, item_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM items WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)


def to_item(row: asyncpg.Record) -> Item:
    return Item(
        item_id=row["item_id"],
        entity_type_id=row["entity_type_id"],
        title=row["title"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        version=row["version"],
        assignee_id=row["assignee_id"],
        observer_ids=tuple(row["observer_ids"]),
        amount=_decimal(row["amount"]),
        currency=row["currency"],
        begin_date=_iso(row["begin_date"]),
        close_date=_iso(row["close_date"]),
        source=row["source"],
        client_id=row["client_id"],
        fields=row["fields"],
        requested_pipeline_id=row["requested_pipeline_id"],
        requested_stage_id=row["requested_stage_id"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        deleted_by=row["deleted_by"],
    )


def placement(row: asyncpg.Record) -> dict[str, Any]:
    return {"pipeline_id": row["pipeline_id"], "stage_id": row["stage_id"], "stage_semantic": row["stage_semantic"]}


async def existing_items(conn: Connection, tenant_id: str, item_ids: list[str]) -> dict[str, str]:
    """{item_id: entity_type_id} of the given ids that exist (recycle bin included) in the tenant."""
    rows = await conn.fetch(
        "SELECT item_id, entity_type_id FROM items WHERE tenant_id = $1 AND item_id = ANY($2::text[])",
        tenant_id,
        item_ids,
    )
    return {row["item_id"]: row["entity_type_id"] for row in rows}


async def copy_placement(
    conn: Connection, tenant_id: str, item_id: str, pipeline_id: str, stage_id: str, semantic: str, version: int
) -> None:
    """Keep the pipelines service's placement; an older event never overwrites a newer one."""
    await conn.execute(
        "UPDATE items SET pipeline_id = $3, stage_id = $4, stage_semantic = $5, placement_version = $6"
        " WHERE tenant_id = $1 AND item_id = $2 AND placement_version < $6",
        tenant_id,
        item_id,
        pipeline_id,
        stage_id,
        semantic,
        version,
    )


async def copy_placements(conn: Connection, placements: list[tuple[str, str, str, str, str, int]]) -> None:
    """``copy_placement`` for a batch of (tenant, item, pipeline, stage, semantic, version) in one
    statement; per item only the newest of the batch is offered, and an older one never overwrites."""
    newest: dict[tuple[str, str], tuple[str, str, str, str, str, int]] = {}
    for placement in placements:
        key = placement[:2]
        if key not in newest or newest[key][5] < placement[5]:
            newest[key] = placement
    rows = list(newest.values())
    await conn.execute(
        "UPDATE items SET pipeline_id = n.p, stage_id = n.s, stage_semantic = n.m, placement_version = n.v"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS n(t, i, p, s, m, v)"
        " WHERE items.tenant_id = n.t AND items.item_id = n.i AND items.placement_version < n.v",
        *([row[n] for row in rows] for n in range(6)),
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _decimal(value: Decimal | None) -> str | None:
    return format(value, "f") if value is not None else None


async def live_fields(
    conn: Connection, tenant_id: str, entity_type_id: str, after: str, limit: int
) -> list[asyncpg.Record]:
    """(item id, fields) of a type's items outside the recycle bin, by id after ``after``."""
    return await conn.fetch(
        "SELECT item_id, fields FROM items WHERE tenant_id = $1 AND entity_type_id = $2 AND deleted_at IS NULL"
        " AND item_id > $3 ORDER BY item_id LIMIT $4",
        tenant_id,
        entity_type_id,
        after,
        limit,
    )


async def rows_of(conn: Connection, tenant_id: str, item_ids: list[str]) -> list[asyncpg.Record]:
    """The rows of the given items (an import's matched items), locked until the chunk commits."""
    return await conn.fetch(
        "SELECT * FROM items WHERE tenant_id = $1 AND item_id = ANY($2::text[]) ORDER BY item_id FOR UPDATE",
        tenant_id,
        item_ids,
    )
