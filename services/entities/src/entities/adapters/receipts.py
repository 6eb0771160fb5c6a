"""Idempotency keys already used, per tenant, with what came of them."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from conveyor_messaging.db import Connection


async def claim(
    conn: Connection, tenant_id: str, key: str, command_type: str, item_id: str | None, now: datetime
) -> bool:
    """True for the first use of the key; False when it was used before (then do nothing again)."""
    inserted = await conn.fetchval(
        "INSERT INTO command_receipts (tenant_id, idempotency_key, command_type, item_id, outcome, recorded_at)"
        " VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT DO NOTHING RETURNING true",
        tenant_id,
        key,
        command_type,
        item_id,
        now,
    )
    return bool(inserted)


async def settle(conn: Connection, tenant_id: str, key: str, outcome: str, item_id: str | None) -> None:
    await conn.execute(
        "UPDATE command_receipts SET outcome = $3, item_id = coalesce($4, item_id)"
        " WHERE tenant_id = $1 AND idempotency_key = $2",
        tenant_id,
        key,
        outcome,
        item_id,
    )


async def find(conn: Connection, tenant_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM command_receipts WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
    )
