"""PostgreSQL table of roll-up rules, and the reads a roll-up needs (rules, parents, children)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conveyor_messaging.db import Connection

_RULE = (
    "SELECT r.*, rel.parent_entity_type_id, rel.child_entity_type_id FROM rollup_rules r"
    " JOIN relations rel ON rel.tenant_id = r.tenant_id AND rel.relation_id = r.relation_id"
)


async def insert_rule(conn: Connection, tenant_id: str, rule: dict[str, Any], now: datetime) -> None:
    await conn.execute(
        "INSERT INTO rollup_rules (tenant_id, rule_id, relation_id, parent_field, aggregate, child_fields, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id,
        rule["rule_id"],
        rule["relation_id"],
        rule["parent_field"],
        rule["aggregate"],
        rule["child_fields"],
        now,
    )


async def rule_exists(conn: Connection, tenant_id: str, relation_id: str, parent_field: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM rollup_rules WHERE tenant_id = $1 AND relation_id = $2 AND parent_field = $3",
            tenant_id,
            relation_id,
            parent_field,
        )
    )


async def list_rules(
    conn: Connection, tenant_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` rules by (created_at, id), those after the key ``after``."""
    return await conn.fetch(
        _RULE + " WHERE r.tenant_id = $1 AND ($2::timestamptz IS NULL OR (r.created_at, r.rule_id) > ($2, $3))"
        " ORDER BY r.created_at, r.rule_id LIMIT $4",
        tenant_id,
        *(after or (None, None)),
        limit,
    )


async def rules_for_child_type(conn: Connection, tenant_id: str, entity_type_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        _RULE + " WHERE r.tenant_id = $1 AND rel.child_entity_type_id = $2 ORDER BY r.rule_id",
        tenant_id,
        entity_type_id,
    )


async def rules_for_relation(conn: Connection, tenant_id: str, relation_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        _RULE + " WHERE r.tenant_id = $1 AND r.relation_id = $2 ORDER BY r.rule_id", tenant_id, relation_id
    )


async def parents_of(conn: Connection, tenant_id: str, relation_id: str, child_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT parent_item_id FROM item_links WHERE tenant_id = $1 AND relation_id = $2 AND child_item_id = $3",
        tenant_id,
        relation_id,
        child_id,
    )
    return [row["parent_item_id"] for row in rows]


async def children_values(conn: Connection, tenant_id: str, relation_id: str, parent_id: str) -> list[dict[str, Any]]:
    """Each live child's values by change key: `amount` and `fields.<code>`."""
    rows = await conn.fetch(
        "SELECT i.amount, i.fields FROM item_links l"
        " JOIN items i ON i.tenant_id = l.tenant_id AND i.item_id = l.child_item_id"
        " WHERE l.tenant_id = $1 AND l.relation_id = $2 AND l.parent_item_id = $3 AND i.deleted_at IS NULL",
        tenant_id,
        relation_id,
        parent_id,
    )
    return [
        {"amount": row["amount"], **{f"fields.{code}": value for code, value in row["fields"].items()}} for row in rows
    ]
