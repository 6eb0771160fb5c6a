"""The projections' copy of entity types, as the reports' filters name them: by id or by code."""

from __future__ import annotations

from conveyor_messaging.db import Connection

from reporting.adapters.schema import LIVE


async def entity_type_id_of(conn: Connection, tenant_id: str, id_or_code: str) -> str | None:
    """The id of the type named by its id or its code; None for a type the projections have not heard of."""
    found: str | None = await conn.fetchval(
        f"SELECT entity_type_id FROM {LIVE}.entity_types WHERE tenant_id = $1 AND (entity_type_id = $2 OR code = $2)"
        " ORDER BY entity_type_id = $2 DESC LIMIT 1",
        tenant_id,
        id_or_code,
    )
    return found
