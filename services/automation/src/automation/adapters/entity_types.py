"""The copy of the tenant's entity types (id and code), from the entities' `entity_type.created` events."""

from __future__ import annotations

from conveyor_messaging.db import Connection


async def remember(conn: Connection, tenant_id: str, entity_type_id: str, code: str) -> None:
    await conn.execute(
        "INSERT INTO automation_entity_types (tenant_id, entity_type_id, code) VALUES ($1, $2, $3)"
        " ON CONFLICT (tenant_id, entity_type_id) DO UPDATE SET code = EXCLUDED.code",
        tenant_id,
        entity_type_id,
        code,
    )


async def entity_type_id_of(conn: Connection, tenant_id: str, id_or_code: str) -> str | None:
    """The id of the type named by its id or its code; None for a type this copy does not know."""
    found: str | None = await conn.fetchval(
        "SELECT entity_type_id FROM automation_entity_types WHERE tenant_id = $1"
        " AND (entity_type_id = $2 OR code = $2) ORDER BY entity_type_id = $2 DESC LIMIT 1",
        tenant_id,
        id_or_code,
    )
    return found
