"""The kinds of the entity types' fields and the type of each pipeline: what a robot's `field:<code>`
recipients and addresses are checked against when it is saved."""

from __future__ import annotations

from conveyor_messaging.db import Connection


async def remember_field(conn: Connection, tenant_id: str, entity_type_id: str, code: str, kind: str) -> None:
    await conn.execute(
        "INSERT INTO automation_fields (tenant_id, entity_type_id, code, kind) VALUES ($1, $2, $3, $4)"
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


async def kinds_on_pipeline(conn: Connection, tenant_id: str, pipeline_id: str) -> dict[str, str]:
    """{field code: kind} of the type whose items the pipeline holds (empty when the copy knows neither)."""
    rows = await conn.fetch(
        """SELECT f.code, f.kind FROM automation_pipelines p
             JOIN automation_fields f ON f.tenant_id = p.tenant_id AND f.entity_type_id = p.entity_type_id
            WHERE p.tenant_id = $1 AND p.pipeline_id = $2""",
        tenant_id,
        pipeline_id,
    )
    return {row["code"]: row["kind"] for row in rows}


async def kinds_of_type(conn: Connection, tenant_id: str, entity_type_id: str) -> dict[str, str]:
    """{field code: kind} of the type's fields the copy knows."""
    rows = await conn.fetch(
        "SELECT code, kind FROM automation_fields WHERE tenant_id = $1 AND entity_type_id = $2",
        tenant_id,
        entity_type_id,
    )
    return {row["code"]: row["kind"] for row in rows}
