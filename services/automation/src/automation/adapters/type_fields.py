"""The copy of the entity types' fields (code and kind) and of each pipeline's type, from the entities'
and pipelines' definition events: what a robot's addresses may read is checked against it."""

from __future__ import annotations

from conveyor_messaging.db import Connection


async def remember_field(conn: Connection, tenant_id: str, entity_type_id: str, code: str, kind: str) -> None:
    await conn.execute(
        "INSERT INTO automation_type_fields (tenant_id, entity_type_id, code, kind) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant_id, entity_type_id, code) DO UPDATE SET kind = EXCLUDED.kind",
        tenant_id,
        entity_type_id,
        code,
        kind,
    )


async def remember_pipeline(conn: Connection, tenant_id: str, pipeline_id: str, entity_type_id: str) -> None:
    await conn.execute(
        "INSERT INTO automation_pipelines (tenant_id, pipeline_id, entity_type_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (tenant_id, pipeline_id) DO UPDATE SET entity_type_id = EXCLUDED.entity_type_id",
        tenant_id,
        pipeline_id,
        entity_type_id,
    )


async def fields_of_pipeline(conn: Connection, tenant_id: str, pipeline_id: str) -> dict[str, str] | None:
    """The custom fields (code → kind) of the type the pipeline carries; None when the copy does not know
    the pipeline's type or any field of it (nothing to check against)."""
    rows = await conn.fetch(
        "SELECT f.code, f.kind FROM automation_pipelines p JOIN automation_type_fields f"
        " ON f.tenant_id = p.tenant_id AND f.entity_type_id = p.entity_type_id"
        " WHERE p.tenant_id = $1 AND p.pipeline_id = $2",
        tenant_id,
        pipeline_id,
    )
    return {row["code"]: row["kind"] for row in rows} or None
