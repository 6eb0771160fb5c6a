"""Idempotency keys already used, per tenant, with what came of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from conveyor_kit.database import as_columns
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


@dataclass(frozen=True, slots=True)
class Claim:
    tenant_id: str
    idempotency_key: str
    command_type: str
    item_id: str | None
    recorded_at: datetime


async def claim_many(conn: Connection, claims: Sequence[Claim]) -> set[tuple[str, str]]:
    """``claim`` for a fetch of commands in one statement: the (tenant, key) pairs used for the first time."""
    rows = await conn.fetch(
        "INSERT INTO command_receipts (tenant_id, idempotency_key, command_type, item_id, outcome, recorded_at)"
        " SELECT t, k, c, i, 'pending', at FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
        " $5::timestamptz[]) AS n(t, k, c, i, at)"
        " ON CONFLICT DO NOTHING RETURNING tenant_id, idempotency_key",
        *as_columns(claims, "tenant_id", "idempotency_key", "command_type", "item_id", "recorded_at"),
    )
    return {(row["tenant_id"], row["idempotency_key"]) for row in rows}


@dataclass(frozen=True, slots=True)
class Settled:
    tenant_id: str
    idempotency_key: str
    outcome: str  # done or rejected
    item_id: str | None


async def settle_many(conn: Connection, settled: Sequence[Settled]) -> None:
    """``settle`` for a fetch of commands in one statement."""
    if not settled:
        return
    await conn.execute(
        "UPDATE command_receipts r SET outcome = n.o, item_id = coalesce(n.i, r.item_id)"
        "  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS n(t, k, o, i)"
        " WHERE r.tenant_id = n.t AND r.idempotency_key = n.k",
        *as_columns(settled, "tenant_id", "idempotency_key", "outcome", "item_id"),
    )


async def find(conn: Connection, tenant_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM command_receipts WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
    )
