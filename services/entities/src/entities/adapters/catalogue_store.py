"""PostgreSQL tables of catalogue products and of which item refers to which product."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conveyor_messaging.db import Connection


async def insert_product(conn: Connection, tenant_id: str, product: dict[str, Any], now: datetime) -> bool:
    """False when the tenant already has a product with this SKU."""
    status = await conn.execute(
        "INSERT INTO products (tenant_id, product_id, name, sku, base_price, currency, version, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5::numeric, $6, 1, $7, $7) ON CONFLICT (tenant_id, sku) DO NOTHING",
        tenant_id,
        product["product_id"],
        product["name"],
        product["sku"],
        product["base_price"],
        product["currency"],
        now,
    )
    return bool(status.endswith(" 1"))


async def get_product(
    conn: Connection, tenant_id: str, product_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM products WHERE tenant_id = $1 AND product_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        product_id,
    )


async def sku_owner(conn: Connection, tenant_id: str, sku: str) -> str | None:
    value = await conn.fetchval("SELECT product_id FROM products WHERE tenant_id = $1 AND sku = $2", tenant_id, sku)
    return str(value) if value is not None else None


async def update_product(
    conn: Connection, tenant_id: str, product_id: str, values: dict[str, Any], now: datetime
) -> None:
    assignments = ", ".join(
        f"{column} = ${n}" + ("::numeric" if column == "base_price" else "") for n, column in enumerate(values, start=4)
    )
    await conn.execute(
        f"UPDATE products SET {assignments}, version = version + 1, updated_at = $3"
        " WHERE tenant_id = $1 AND product_id = $2",
        tenant_id,
        product_id,
        now,
        *values.values(),
    )


async def list_products(
    conn: Connection, tenant_id: str, search: str | None, *, after: tuple[str, ...] | None, limit: int
) -> list[asyncpg.Record]:
    """Products by name (then id), from the one after ``after`` (a name and an id)."""
    name, product_id = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM products WHERE tenant_id = $1"
        " AND ($2::text IS NULL OR name ILIKE '%' || $2 || '%' OR sku = $2)"
        " AND ($3::text IS NULL OR (name, product_id) > ($3, $4::text)) ORDER BY name, product_id LIMIT $5",
        tenant_id,
        search,
        name,
        product_id,
        limit,
    )


async def product_of(conn: Connection, tenant_id: str, item_id: str) -> str | None:
    value = await conn.fetchval(
        "SELECT product_id FROM item_products WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id
    )
    return str(value) if value is not None else None


async def bind(conn: Connection, tenant_id: str, item_id: str, product_id: str | None) -> None:
    if product_id is None:
        await conn.execute("DELETE FROM item_products WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)
        return
    await conn.execute(
        "INSERT INTO item_products (tenant_id, item_id, product_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (tenant_id, item_id) DO UPDATE SET product_id = EXCLUDED.product_id",
        tenant_id,
        item_id,
        product_id,
    )


async def bound_items(
    conn: Connection,
    tenant_id: str,
    product_id: str,
    visible: tuple[str, list[object]],
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Live items bound to the product that pass ``visible`` (a condition whose parameters start at $3),
    oldest first, from the one after ``after`` (a creation time and an id)."""
    condition, params = visible
    n = 3 + len(params)
    created_at, item_id = after or (None, None)
    return await conn.fetch(
        "SELECT i.* FROM item_products p JOIN items i ON i.tenant_id = p.tenant_id AND i.item_id = p.item_id"
        f" WHERE p.tenant_id = $1 AND p.product_id = $2 AND i.deleted_at IS NULL AND {condition}"
        f" AND (${n}::timestamptz IS NULL OR (i.created_at, i.item_id) > (${n}, ${n + 1}::text))"
        f" ORDER BY i.created_at, i.item_id LIMIT {int(limit)}",
        tenant_id,
        product_id,
        *params,
        created_at,
        item_id,
    )


async def bound_types(conn: Connection, tenant_id: str, product_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT i.entity_type_id FROM item_products p JOIN items i"
        " ON i.tenant_id = p.tenant_id AND i.item_id = p.item_id WHERE p.tenant_id = $1 AND p.product_id = $2",
        tenant_id,
        product_id,
    )
    return [row["entity_type_id"] for row in rows]
