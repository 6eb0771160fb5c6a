"""PostgreSQL reads and writes of entity types, pipelines and stages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from conveyor_messaging.db import Connection

from pipelines.domain.model import Pipeline, Stage

_STAGE_COLUMNS = "stage_id, pipeline_id, name, color, sort, semantic, hidden"


def _stage(row: asyncpg.Record) -> Stage:
    return Stage(
        stage_id=row["stage_id"],
        pipeline_id=row["pipeline_id"],
        name=row["name"],
        color=row["color"],
        sort=row["sort"],
        semantic=row["semantic"],
        hidden=row["hidden"],
    )


async def remember_entity_type(
    conn: Connection, tenant_id: str, entity_type_id: str, name: str, pipelines_enabled: bool, code: str | None = None
) -> bool:
    """Record a type; False when it was already known (a redelivered or repeated event)."""
    status = await conn.execute(
        "INSERT INTO entity_types (tenant_id, entity_type_id, name, pipelines_enabled, code)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        tenant_id,
        entity_type_id,
        name,
        pipelines_enabled,
        code,
    )
    return bool(status.endswith(" 1"))


async def entity_type_id_of(conn: Connection, tenant_id: str, id_or_code: str) -> str | None:
    """The id of the type named by its id or its code; None for a type this copy does not know."""
    found: str | None = await conn.fetchval(
        "SELECT entity_type_id FROM entity_types WHERE tenant_id = $1 AND (entity_type_id = $2 OR code = $2)"
        " ORDER BY entity_type_id = $2 DESC LIMIT 1",
        tenant_id,
        id_or_code,
    )
    return found


async def entity_type_known(conn: Connection, tenant_id: str, entity_type_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM entity_types WHERE tenant_id = $1 AND entity_type_id = $2)",
            tenant_id,
            entity_type_id,
        )
    )


async def set_pipelines_enabled(conn: Connection, tenant_id: str, entity_type_id: str, enabled: bool) -> None:
    await conn.execute(
        "UPDATE entity_types SET pipelines_enabled = $3 WHERE tenant_id = $1 AND entity_type_id = $2",
        tenant_id,
        entity_type_id,
        enabled,
    )


async def pipelines_of_type(conn: Connection, tenant_id: str, entity_type_id: str) -> list[Pipeline]:
    rows = await conn.fetch(
        "SELECT pipeline_id FROM pipelines WHERE tenant_id = $1 AND entity_type_id = $2 ORDER BY sort, pipeline_id",
        tenant_id,
        entity_type_id,
    )
    found = [await load_pipeline(conn, tenant_id, row["pipeline_id"]) for row in rows]
    return [p for p in found if p is not None]


async def pipeline_ids_of_type(
    conn: Connection, tenant_id: str, entity_type_id: str, *, after: tuple[int, str] | None, limit: int
) -> list[str]:
    """A page of the type's pipelines by (sort, id): at most ``limit`` after the key ``after``."""
    rows = await conn.fetch(
        "SELECT pipeline_id FROM pipelines WHERE tenant_id = $1 AND entity_type_id = $2"
        " AND ($3::int IS NULL OR (sort, pipeline_id) > ($3, $4)) ORDER BY sort, pipeline_id LIMIT $5",
        tenant_id,
        entity_type_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [row["pipeline_id"] for row in rows]


async def pipeline_row(conn: Connection, tenant_id: str, pipeline_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM pipelines WHERE tenant_id = $1 AND pipeline_id = $2", tenant_id, pipeline_id
    )
    return row


async def load_pipeline(conn: Connection, tenant_id: str, pipeline_id: str) -> Pipeline | None:
    row = await pipeline_row(conn, tenant_id, pipeline_id)
    if row is None:
        return None
    return Pipeline(
        pipeline_id=row["pipeline_id"],
        entity_type_id=row["entity_type_id"],
        name=row["name"],
        sort=row["sort"],
        is_default=row["is_default"],
        stages=tuple(await stages_of(conn, tenant_id, pipeline_id)),
    )


async def stages_of(conn: Connection, tenant_id: str, pipeline_id: str) -> list[Stage]:
    rows = await conn.fetch(
        f"SELECT {_STAGE_COLUMNS} FROM stages WHERE tenant_id = $1 AND pipeline_id = $2 ORDER BY sort, stage_id",
        tenant_id,
        pipeline_id,
    )
    return [_stage(r) for r in rows]


async def load_stage(conn: Connection, tenant_id: str, stage_id: str) -> Stage | None:
    row = await conn.fetchrow(
        f"SELECT {_STAGE_COLUMNS} FROM stages WHERE tenant_id = $1 AND stage_id = $2", tenant_id, stage_id
    )
    return _stage(row) if row else None


async def insert_pipeline(
    conn: Connection, tenant_id: str, pipeline: Pipeline, *, card_fields: Sequence[str] = ()
) -> None:
    if pipeline.is_default:
        await conn.execute(
            "UPDATE pipelines SET is_default = false WHERE tenant_id = $1 AND entity_type_id = $2 AND is_default",
            tenant_id,
            pipeline.entity_type_id,
        )
    await conn.execute(
        "INSERT INTO pipelines (tenant_id, pipeline_id, entity_type_id, name, sort, is_default, card_fields)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id,
        pipeline.pipeline_id,
        pipeline.entity_type_id,
        pipeline.name,
        pipeline.sort,
        pipeline.is_default,
        list(card_fields),
    )
    for stage in pipeline.stages:
        await insert_stage(conn, tenant_id, stage)


async def insert_stage(conn: Connection, tenant_id: str, stage: Stage) -> None:
    await conn.execute(
        f"INSERT INTO stages (tenant_id, {_STAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant_id,
        stage.stage_id,
        stage.pipeline_id,
        stage.name,
        stage.color,
        stage.sort,
        stage.semantic,
        stage.hidden,
    )


async def update_stage(conn: Connection, tenant_id: str, stage: Stage) -> None:
    await conn.execute(
        "UPDATE stages SET name = $3, color = $4, sort = $5, semantic = $6, hidden = $7"
        " WHERE tenant_id = $1 AND stage_id = $2",
        tenant_id,
        stage.stage_id,
        stage.name,
        stage.color,
        stage.sort,
        stage.semantic,
        stage.hidden,
    )


async def update_pipeline(conn: Connection, tenant_id: str, pipeline_id: str, changes: dict[str, Any]) -> None:
    """Write the changed columns; `is_default=True` takes the flag from the type's other pipelines."""
    row = await pipeline_row(conn, tenant_id, pipeline_id)
    assert row is not None
    if changes.get("is_default"):
        await conn.execute(
            "UPDATE pipelines SET is_default = false WHERE tenant_id = $1 AND entity_type_id = $2 AND is_default",
            tenant_id,
            row["entity_type_id"],
        )
    for column in ("name", "sort", "is_default", "card_fields", "transition_rules"):
        if column in changes:
            await conn.execute(
                f"UPDATE pipelines SET {column} = $3 WHERE tenant_id = $1 AND pipeline_id = $2",
                tenant_id,
                pipeline_id,
                changes[column],
            )
