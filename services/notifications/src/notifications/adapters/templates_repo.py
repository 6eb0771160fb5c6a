"""Message templates per tenant in PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection


def _template(row: Any) -> dict[str, Any]:
    return {
        "id": row["template_id"],
        "name": row["name"],
        "variables": list(row["variables"]),
        "variants": json.loads(row["variants"]),
        "updated_at": row["updated_at"],
    }


async def save(
    conn: Connection,
    tenant_id: str,
    template_id: str,
    name: str,
    variables: list[str],
    variants: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        """INSERT INTO templates (tenant_id, template_id, name, variables, variants, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6)
           ON CONFLICT (tenant_id, template_id) DO UPDATE SET name = EXCLUDED.name, variables = EXCLUDED.variables,
               variants = EXCLUDED.variants, updated_at = EXCLUDED.updated_at
           RETURNING *""",
        tenant_id,
        template_id,
        name,
        variables,
        json.dumps(variants),
        now,
    )
    return _template(row)


async def load(conn: Connection, tenant_id: str, template_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT * FROM templates WHERE tenant_id = $1 AND template_id = $2", tenant_id, template_id
    )
    return _template(row) if row else None


async def page(conn: Connection, tenant_id: str, *, after: str | None, limit: int) -> list[dict[str, Any]]:
    """The tenant's templates by id, those after ``after``."""
    rows = await conn.fetch(
        """SELECT * FROM templates WHERE tenant_id = $1 AND ($2::text IS NULL OR template_id > $2)
            ORDER BY template_id LIMIT $3""",
        tenant_id,
        after,
        limit,
    )
    return [_template(r) for r in rows]
